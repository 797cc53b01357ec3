"""Flows that produce the coordinator's documents: the daily briefing, serious notifications, the weekly list.

Each flow is two tasks (render, deliver) and one artifact. Parameters are dates and pseudonymous refs; the
artifact tells a reader of the Prefect UI how many children are in each section and where the files are, and
nothing about who they are. Delivery is keyed (``briefing:2026-11-02``, ``serious_notification:EP-…:<rule>``,
``weekly_list:2026-11-01``), so running a flow again re-renders the files but sends nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.runtime import flow_run

from missing_episodes.clock import as_london, now
from missing_episodes.documents.delivery import DeliveryOutcome
from tasks.documents import (
    Produced,
    deliver_document,
    render_briefing,
    render_serious_notification,
    render_weekly_list,
)
from tasks.privacy import private_flow


def _today() -> date:
    return as_london(now()).date()


def _last_sunday() -> date:
    today = _today()
    return today - timedelta(days=(today.weekday() + 1) % 7)


def _briefing_run_name() -> str:
    return f"briefing-{flow_run.parameters.get('day') or _today()}"


def _weekly_run_name() -> str:
    return f"weekly-list-{flow_run.parameters.get('week_ending') or _last_sunday()}"


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


@private_flow(name="daily-briefing", flow_run_name=_briefing_run_name)
async def daily_briefing(day: date | None = None, out_dir: str | None = None) -> dict[str, object]:
    """The daily missing briefing pack for ``day`` (default today, London), filed and mailed once."""
    day = day or _today()
    produced = await render_briefing(day, out_dir)
    return await _publish("daily-briefing", produced, await deliver_document(produced))


@private_flow(name="serious-notification", flow_run_name="serious-notification-{episode_ref}")
async def serious_notification(
    episode_ref: str, rule_id: str | None = None, out_dir: str | None = None
) -> dict[str, object]:
    """The serious notification form for one episode, sent to the rule's recipients once (Delivery + audit)."""
    produced = await render_serious_notification(episode_ref, rule_id, out_dir)
    return await _publish("serious-notification", produced, await deliver_document(produced))


@private_flow(name="weekly-list", flow_run_name=_weekly_run_name)
async def weekly_list(week_ending: date | None = None, out_dir: str | None = None) -> dict[str, object]:
    """The weekly list of children who are or were missing (default: the week ending last Sunday)."""
    week_ending = week_ending or _last_sunday()
    produced = await render_weekly_list(week_ending, out_dir)
    return await _publish("weekly-list", produced, await deliver_document(produced))
