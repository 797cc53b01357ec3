"""Tasks that render and deliver documents: one per job of ``missing_episodes.jobs.documents``.

A task returns a ``Produced`` or ``DeliveryOutcome`` (refs, dates, counts and file paths only). A failure while a
document naming a child is built could quote its data; ``private_task`` re-raises it naming the task, the refs
and the exception's type only (the detail is in the product's log, or from the CLI for the same ref).
The tasks are async (the work runs in a thread) so the async flows that call them, and the daily run that awaits
the briefing, keep their event loop free while WeasyPrint lays out pages.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from missing_episodes.documents.delivery import DeliveryOutcome
from missing_episodes.jobs import documents as jobs
from missing_episodes.jobs.documents import Produced
from tasks.privacy import private_task

__all__ = ["Produced", "deliver_document", "render_briefing", "render_incident_record", "render_rhi_record",
           "render_serious_notification", "render_weekly_list", "render_written_confirmation"]


@private_task(name="render-briefing", task_run_name="render-briefing-{day}")
async def render_briefing(day: date, out_dir: str | None = None) -> Produced:
    return await asyncio.to_thread(jobs.produce_briefing, day, out_dir)


@private_task(name="render-serious-notification", task_run_name="render-serious-notification-{episode_ref}")
async def render_serious_notification(episode_ref: str, rule_id: str | None = None,
                                      out_dir: str | None = None, as_of: datetime | None = None) -> Produced:
    return await asyncio.to_thread(jobs.produce_serious_notification, episode_ref, rule_id, out_dir, as_of)


@private_task(name="render-weekly-list", task_run_name="render-weekly-list-{week_ending}")
async def render_weekly_list(week_ending: date, out_dir: str | None = None) -> Produced:
    return await asyncio.to_thread(jobs.produce_weekly_list, week_ending, out_dir)


@private_task(name="render-rhi-record", task_run_name="render-rhi-record-{episode_ref}")
async def render_rhi_record(episode_ref: str, out_dir: str | None = None) -> Produced:
    """The Return Home Interview record template for the interviewer (filled in, so never delivered)."""
    return await asyncio.to_thread(jobs.produce_rhi_record, episode_ref, out_dir)


@private_task(name="render-incident-record", task_run_name="render-incident-record-{episode_ref}")
async def render_incident_record(episode_ref: str, out_dir: str | None = None, as_of: datetime | None = None
                                 ) -> Produced:
    """The episode's incident record (Lilac Alliance s5), filed in the output store (it names the child)."""
    return await asyncio.to_thread(jobs.produce_incident_record, episode_ref, out_dir, as_of)


@private_task(name="render-written-confirmation", task_run_name="render-written-confirmation-{child_ref}")
async def render_written_confirmation(child_ref: str, on: date | None = None, out_dir: str | None = None) -> Produced:
    """The care leaver's written confirmation letter (posted or handed over by the Personal Advisor)."""
    return await asyncio.to_thread(jobs.produce_written_confirmation, child_ref, on, out_dir)


@private_task(name="deliver-document", task_run_name="deliver-{produced.kind}", retries=2, retry_delay_seconds=10)
async def deliver_document(produced: Produced) -> DeliveryOutcome:
    """Retried on a transient SMTP or database error; keyed by ``Delivery.key``, so a retry never sends twice."""
    return await asyncio.to_thread(jobs.deliver_produced, produced)
