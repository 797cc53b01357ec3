"""Document jobs: build a document's data, render it to files, file and mail it; each called by one task in
``tasks/documents.py`` (the CLI's render-only forms call the same jobs without Prefect).

A job returns a ``Produced`` (the kind, the delivery key, file paths, section counts and the roles it is addressed
to) or a ``DeliveryOutcome``. The names inside the documents stay in the files; nothing returned here would tell a
Prefect UI reader who the child is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from missing_episodes.documents.briefing import build_briefing
from missing_episodes.documents.delivery import DeliveryOutcome, OutputStore, deliver, mail_settings_from_env
from missing_episodes.documents.environment import text_environment
from missing_episodes.documents.forms import build_rhi_record, build_serious_notification, build_written_confirmation
from missing_episodes.documents.render import (
    render_briefing,
    render_rhi_record,
    render_serious_notification,
    render_weekly_list,
    render_written_confirmation,
)
from missing_episodes.documents.weekly import build_weekly_list
from missing_episodes.jobs.context import Context

OutDir = Path | str | None


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


def produce_briefing(day: date, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Build and render the daily missing briefing for ``day``."""
    context = context or Context.load()
    with context.session() as session:
        pack = build_briefing(session, day, context.policy)
        files = render_briefing(pack, context.output_dir("briefing", out_dir))
    return Produced("briefing", pack.key, None, [str(p) for p in files], pack.counts(), [],
                    f"Daily missing briefing {day.isoformat()}")


def produce_serious_notification(episode_ref: str, rule_id: str | None = None, out_dir: OutDir = None,
                                 context: Context | None = None) -> Produced:
    """Build and render the serious notification form for one episode (rule chosen as in the builder)."""
    context = context or Context.load()
    with context.session() as session:
        form = build_serious_notification(session, episode_ref, context.policy, rule_id=rule_id)
        files = render_serious_notification(form, context.output_dir("serious_notification", out_dir))
    counts = {"contacts": len(form.contacts), "actions": len(form.actions), "still_missing": int(form.still_missing)}
    return Produced("serious_notification", form.key, episode_ref, [str(p) for p in files], counts,
                    list(form.recipients), f"Serious notification {episode_ref}: {form.rule_title}")


def produce_weekly_list(week_ending: date, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Build and render the weekly list of children who are or were missing in the week ending ``week_ending``."""
    context = context or Context.load()
    with context.session() as session:
        weekly = build_weekly_list(session, week_ending, context.policy)
        files = render_weekly_list(weekly, context.output_dir("weekly_list", out_dir))
    return Produced("weekly_list", weekly.key, None, [str(p) for p in files], weekly.counts(), [],
                    f"Children missing in the week ending {week_ending.isoformat()}")


def produce_rhi_record(episode_ref: str, out_dir: OutDir = None, context: Context | None = None) -> Produced:
    """Render the Return Home Interview record template for the interviewer (not mailed: it is filled in)."""
    context = context or Context.load()
    with context.session() as session:
        record = build_rhi_record(session, episode_ref, context.policy)
        files = render_rhi_record(record, context.output_dir("rhi_record", out_dir))
    return Produced("rhi_record", f"rhi_record:{episode_ref}", episode_ref, [str(p) for p in files])


def produce_written_confirmation(child_ref: str, on: date | None = None, out_dir: OutDir = None,
                                 context: Context | None = None) -> Produced:
    """Render the care leaver's written confirmation letter (posted or handed over by the Personal Advisor)."""
    context = context or Context.load()
    with context.session() as session:
        letter = build_written_confirmation(session, child_ref, context.policy, on=on)
        files = render_written_confirmation(letter, context.output_dir("written_confirmation", out_dir))
    return Produced("written_confirmation", letter.key, child_ref, [str(p) for p in files])


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
