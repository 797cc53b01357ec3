"""The main job: ingest the feeds, run every rule, roll the long-term schedules forward, write the briefing, and say
on the run's own page, in plain words, what the briefing held and where it went."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flows.documents import announce_briefing, daily_briefing
from flows.ingest import ingest_files, ingest_sources
from flows.notify import notify
from flows.review import review_changed
from missing_episodes.clock import as_london, now
from missing_episodes.config import DATA_DIR
from tasks.ingest import ensure_schema
from tasks.privacy import private_flow, scrub_hooks

SAMPLE_DIR = DATA_DIR / "sample"


def sample_day() -> date:
    """The bundled feed ends on its manifest's ``as_of`` day: the demo briefs for that morning."""
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    return date.fromisoformat(str(manifest["as_of"])[:10])


def _run_name() -> str:
    from prefect.runtime import flow_run

    day = flow_run.parameters.get("day")
    return f"daily-run-{day or ('sample' if flow_run.parameters.get('sample') else 'today')}"


@private_flow(name="daily-run", flow_run_name=_run_name, **scrub_hooks("daily-run"))
async def daily_run(day: date | None = None, sample: bool = False) -> dict[str, object]:
    ensure_schema()
    if sample:
        ingested = {}
        for kind in ("children", "notifications", "outcomes"):
            files = [SAMPLE_DIR / f"{kind}.csv"] + ([SAMPLE_DIR / "damaged.csv"] if kind == "notifications" else [])
            result = await ingest_files(kind, [Path(f) for f in files if Path(f).exists()], None, False)
            ingested[kind] = result["ingest"]
        day = day or sample_day()
    else:
        ingested = (await ingest_sources(None, False))["ingest"]
        day = day or as_london(now()).date()
    # One pass of the rules: the children whose facts changed and the children still missing, whose repeating
    # schedules roll forward with the day (each child checked once).
    rules = await review_changed("daily roll-forward of schedules for children still missing")
    briefing = await daily_briefing(day)
    await announce_briefing(day, briefing, "briefing-for-coordinators")
    await notify(check_schema=False)  # the day's actions are told at the end of every daily run
    return {"day": day.isoformat(), "ingest": ingested, "rules": rules, "briefing": briefing}
