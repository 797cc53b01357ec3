"""Document jobs: build a document's data, render it to files, file and mail it; each called by one task in
``tasks/documents.py`` (the CLI's render-only forms call the same jobs without Prefect).

A job returns a ``Produced`` (the kind, the delivery key, file paths, section counts and the roles it is addressed
to) or a ``DeliveryOutcome``. The names inside the documents stay in the files; nothing returned here would tell a
Prefect UI reader who the child is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from missing_episodes.documents.briefing import build_briefing
from missing_episodes.documents.delivery import DeliveryOutcome, OutputStore, deliver, mail_settings_from_env
from missing_episodes.documents.environment import text_environment
from missing_episodes.documents.forms import build_rhi_record, build_serious_notification, build_written_confirmation
from missing_episodes.documents.incident import build_incident_record
from missing_episodes.documents.render import (
    render_briefing,
    render_incident_record,
    render_rhi_record,
    render_serious_notification,
    render_weekly_list,
    render_written_confirmation,
)
from missing_episodes.documents.weekly import build_weekly_list
from missing_episodes.jobs.context import Context
from missing_episodes.policy import Policy

OutDir = Path | str | None
Doc = TypeVar("Doc")


@dataclass(frozen=True)
class Produced:
    """A rendered document as Prefect may see it: no names, no dates of birth, no addresses."""

    kind: str
    key: str
    subject_ref: str | None
    files: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    title: str = ""


def _build_and_render(kind: str, build: Callable[[Session, Policy], Doc], render: Callable[[Doc, Path], list[Path]],
                      out_dir: OutDir, context: Context | None) -> tuple[Doc, list[str]]:
    """Build a document's data in one transaction and render it under the output folder of ``kind``."""
    context = context or Context.load()
    with context.session() as session:
        document = build(session, context.policy)
        files = render(document, context.output_dir(kind, out_dir))
    return document, [str(path) for path in files]


def produce_briefing(day: date, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Build and render the daily missing briefing for ``day``."""
    pack, files = _build_and_render("briefing", lambda session, policy: build_briefing(session, day, policy),
                                    render_briefing, out_dir, context)
    return Produced("briefing", pack.key, None, files, pack.counts(), [], f"Daily missing briefing {day.isoformat()}")


def produce_serious_notification(episode_ref: str, rule_id: str | None = None, out_dir: OutDir = None,
                                 as_of: datetime | None = None, context: Context | None = None) -> Produced:
    """Build and render the serious notification form for one episode (rule chosen as in the builder), as the
    episode stood at ``as_of`` (default now): "Still missing, N days" is counted to that moment."""
    form, files = _build_and_render(
        "serious_notification",
        lambda session, policy: build_serious_notification(session, episode_ref, policy, rule_id=rule_id,
                                                           as_of=as_of),
        render_serious_notification, out_dir, context)
    counts = {"contacts": len(form.contacts), "actions": len(form.actions), "still_missing": int(form.still_missing)}
    return Produced("serious_notification", form.key, episode_ref, files, counts, list(form.recipients),
                    f"Serious notification {episode_ref}: {form.rule_title}")


def produce_weekly_list(week_ending: date, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Build and render the weekly list of children who are or were missing in the week ending ``week_ending``."""
    weekly, files = _build_and_render(
        "weekly_list", lambda session, policy: build_weekly_list(session, week_ending, policy),
        render_weekly_list, out_dir, context)
    return Produced("weekly_list", weekly.key, None, files, weekly.counts(), [],
                    f"Children missing in the week ending {week_ending.isoformat()}")


def produce_rhi_record(episode_ref: str, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Render the Return Home Interview record template for the interviewer (not mailed: it is filled in)."""
    _, files = _build_and_render("rhi_record", lambda session, policy: build_rhi_record(session, episode_ref, policy),
                                 render_rhi_record, out_dir, context)
    return Produced("rhi_record", f"rhi_record:{episode_ref}", episode_ref, files)


def produce_incident_record(episode_ref: str, out_dir: OutDir = None, as_of: datetime | None = None,
                            context: Context | None = None) -> Produced:
    """Render the episode's incident record (Lilac Alliance s5) as it stood at ``as_of`` (default now): who was
    informed, contacted and updated, the police contact, the actions. Filed in the output store, not mailed."""
    record, files = _build_and_render(
        "incident_record",
        lambda session, policy: build_incident_record(session, episode_ref, policy, as_of=as_of),
        render_incident_record, out_dir, context)
    counts = {"contacted": len(record.contacted), "updated": len(record.updated),
              "informed": sum(i.entry is not None for i in record.informed), "actions": len(record.actions)}
    return Produced("incident_record", record.key, episode_ref, files, counts)


def produce_written_confirmation(child_ref: str, on: date | None = None, out_dir: OutDir = None,
                                 context: Context | None = None) -> Produced:
    """Render the care leaver's written confirmation letter (posted or handed over by the Personal Advisor)."""
    letter, files = _build_and_render(
        "written_confirmation", lambda session, policy: build_written_confirmation(session, child_ref, policy, on=on),
        render_written_confirmation, out_dir, context)
    return Produced("written_confirmation", letter.key, child_ref, files)


def deliver_produced(produced: Produced, context: Context | None = None) -> DeliveryOutcome:
    """File the documents in the output store and mail them (once per key: a rerun sends nothing)."""
    context = context or Context.load()
    counts = ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in produced.counts.items())
    body = (
        text_environment()
        .get_template("mail/body.txt.j2")
        .render(title=produced.title, summary=counts or "See the attached document.", key=produced.key)
    )
    with context.session() as session:
        return deliver(
            session,
            key=produced.key,
            kind=produced.kind,
            files=[Path(path) for path in produced.files],
            store=OutputStore(context.settings.output_dir),
            mail=mail_settings_from_env(),
            subject=f"OFFICIAL-SENSITIVE: {produced.title}",
            body=body,
            subject_ref=produced.subject_ref,
            roles=produced.roles,
        )
