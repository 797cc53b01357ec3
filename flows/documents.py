"""Flows that produce the coordinator's documents: the daily briefing, serious notifications, the weekly list.

Each flow is two tasks (render, deliver) and one artifact. Parameters are dates and pseudonymous refs; the
artifact tells a reader of the Prefect UI how many children are in each section and where the files are, and
nothing about who they are. Delivery is keyed (``briefing:2026-11-02``, ``serious_notification:EP-…:<rule>``,
``weekly_list:2026-11-01``), so running a flow again re-renders the files but sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.runtime import flow_run

from missing_episodes.clock import last_sunday, today
from missing_episodes.documents.delivery import DeliveryOutcome
from tasks.documents import (
    Produced,
    deliver_document,
    render_briefing,
    render_serious_notification,
    render_weekly_list,
)
from tasks.privacy import private_flow, scrub_hooks


def _briefing_run_name() -> str:
    return f"briefing-{flow_run.parameters.get('day') or today()}"


def _weekly_run_name() -> str:
    return f"weekly-list-{flow_run.parameters.get('week_ending') or last_sunday()}"


async def _publish(artifact_key: str, produced: Produced, outcome: DeliveryOutcome) -> dict[str, object]:
    """The artifact and the flow's return value: counts, delivery status and file paths (no personal data)."""
    lines = [f"## {produced.title}", "", "| section | count |", "| --- | ---: |"]
    lines += [f"| {name.replace('_', ' ')} | {value} |" for name, value in produced.counts.items()]
    sent_to = f" to {outcome.recipients} recipient(s)" if outcome.recipients else ""
    lines += ["", f"Delivery `{outcome.key}`: **{outcome.status}**{sent_to}"]
    if produced.roles:
        lines += ["", "Addressed to: " + "; ".join(produced.roles)]
    lines += ["", "Files:", *[f"- `{path}`" for path in produced.files]]
    if outcome.location and outcome.location != produced.files:
        lines += ["", "Output store:", *[f"- `{path}`" for path in outcome.location]]
    await acreate_markdown_artifact(key=artifact_key, markdown="\n".join(lines), description=produced.title)
    get_run_logger().info("%s: %s, delivery %s", produced.key, produced.counts, outcome.status)
    return {
        "key": produced.key,
        "counts": produced.counts,
        "files": produced.files,
        "delivery": outcome.status,
        "store": outcome.location,
    }


def where_it_went(delivery: str, files: list[str], kind: str) -> str:
    """Where a document went, in words a coordinator can act on (no worker-side paths, no status codes)."""
    names = ", ".join(sorted({f.rsplit("/", 1)[-1] for f in files})) or "the document"
    return {
        "sent": f"e-mailed to the {kind.replace('_', ' ')} list and filed ({names})",
        "stored": f"filed in the shared output folder '{kind}' ({names}); no e-mail is set up, so nobody was mailed",
        "already_sent": f"already e-mailed earlier, so not sent again; the file is refreshed ({names})",
        "already_stored": f"already filed earlier; the file is refreshed ({names})",
    }.get(delivery, f"made ({names})")


def briefing_in_words(day: date, result: dict[str, object]) -> str:
    """"Briefing for Mon 2 Nov 2026: 3 missing, 4 RHIs due (3 overdue), 0 strategy meetings due; e-mailed to the
    briefing list and filed (briefing-2026-11-02.pdf)": counts and where it went, from ``daily_briefing``'s result."""
    counts = dict(result.get("counts", {}))  # type: ignore[call-overload]
    words = (f"{counts.get('missing_now', 0)} missing, {counts.get('rhi_due', 0)} RHIs due "
             f"({counts.get('rhi_overdue', 0)} overdue), {counts.get('meetings_due', 0)} strategy meetings due")
    where = where_it_went(str(result.get("delivery")), [str(f) for f in result.get("files", [])], "briefing")  # type: ignore[attr-defined]
    return f"Briefing for {day:%a} {day.day} {day:%b %Y}: {words}; {where}."


async def announce_briefing(day: date, result: dict[str, object], key: str) -> None:
    """The briefing in words as an artifact of the run that called this: the run a coordinator or the schedule
    started, whose page is the one they open (``daily_briefing``'s own table is on its subflow run)."""
    await acreate_markdown_artifact(key=key, markdown=f"**{briefing_in_words(day, result)}**",
                                    description=f"Briefing for {day.isoformat()}")


@private_flow(name="daily-briefing", flow_run_name=_briefing_run_name)
async def daily_briefing(day: date | None = None, out_dir: str | None = None) -> dict[str, object]:
    """The daily missing briefing pack for ``day`` (default today, London), filed and mailed once."""
    day = day or today()
    produced = await render_briefing(day, out_dir)
    return await _publish("daily-briefing", produced, await deliver_document(produced))


@private_flow(name="serious-notification", flow_run_name="serious-notification-{episode_ref}")
async def serious_notification(
    episode_ref: str, rule_id: str | None = None, out_dir: str | None = None, as_of: datetime | None = None
) -> dict[str, object]:
    """The serious notification form for one episode, sent to the rule's recipients once (Delivery + audit).

    ``as_of`` (default now) is the moment the form describes: its status line ("Still missing, 30 days") and the
    actions and contacts it lists are read as of then, so a replayed or late form says what was true at the time.
    """
    produced = await render_serious_notification(episode_ref, rule_id, out_dir, as_of)
    return await _publish("serious-notification", produced, await deliver_document(produced))


@private_flow(name="weekly-list", flow_run_name=_weekly_run_name, **scrub_hooks("weekly-list"))
async def weekly_list(week_ending: date | None = None, out_dir: str | None = None) -> dict[str, object]:
    """The weekly list of children who are or were missing (default: the week ending last Sunday)."""
    week_ending = week_ending or last_sunday()
    produced = await render_weekly_list(week_ending, out_dir)
    return await _publish("weekly-list", produced, await deliver_document(produced))
