"""Tasks that render and deliver documents: thin wrappers over ``missing_episodes.documents.jobs``.

A task returns a ``Produced`` or ``DeliveryOutcome`` (refs, dates, counts and file paths only). An exception raised
while a document naming a child is built could quote its data, so failures are re-raised as ``DocumentError``
with the ref and the exception's type only; the detail is reproduced by running the CLI for the same ref.
The tasks are async (the work runs in a thread) so the async flows that call them, and the daily run that awaits
the briefing, keep their event loop free while WeasyPrint lays out pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from prefect import task

from missing_episodes.documents import DocumentError, jobs
from missing_episodes.documents.delivery import DeliveryOutcome


@contextmanager
def _scrubbed(what: str) -> Iterator[None]:
    try:
        yield
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"{what} failed: {type(exc).__name__} (rerun the CLI command for the detail)") from None


@task(name="render-briefing", task_run_name="render-briefing-{day}")
async def render_briefing(day: date, out_dir: str | None = None) -> jobs.Produced:
    with _scrubbed(f"briefing {day.isoformat()}"):
        return await asyncio.to_thread(jobs.produce_briefing, day, out_dir)


@task(name="render-serious-notification", task_run_name="render-serious-notification-{episode_ref}")
async def render_serious_notification(
    episode_ref: str, rule_id: str | None = None, out_dir: str | None = None
) -> jobs.Produced:
    with _scrubbed(f"serious notification {episode_ref}"):
        return await asyncio.to_thread(jobs.produce_serious_notification, episode_ref, rule_id, out_dir)


@task(name="render-weekly-list", task_run_name="render-weekly-list-{week_ending}")
async def render_weekly_list(week_ending: date, out_dir: str | None = None) -> jobs.Produced:
    with _scrubbed(f"weekly list {week_ending.isoformat()}"):
        return await asyncio.to_thread(jobs.produce_weekly_list, week_ending, out_dir)


@task(name="deliver-document", task_run_name="deliver-{produced.kind}", retries=2, retry_delay_seconds=10)
async def deliver_document(produced: jobs.Produced) -> DeliveryOutcome:
    """Retried on a transient SMTP or database error; keyed by ``Delivery.key``, so a retry never sends twice."""
    with _scrubbed(f"delivering {produced.key}"):
        return await asyncio.to_thread(jobs.deliver_produced, produced)
