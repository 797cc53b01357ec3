"""Produce and deliver documents end to end, with only pseudonymous facts crossing the boundary.

These are what the Prefect tasks wrap (and what the CLI could call without Prefect). A job opens its own
session from the settings, builds the document's data, renders it to files and returns a ``Produced``: the
kind, the delivery key, file paths, section counts and the roles it is addressed to. The names inside the
documents stay in the files; nothing returned here would tell a Prefect UI reader who the child is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from missing_episodes.config import Settings, get_settings
from missing_episodes.db.engine import session_scope
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
from missing_episodes.policy import load_policy


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


def _out(settings: Settings, kind: str, out_dir: Path | str | None) -> Path:
    return Path(out_dir) if out_dir else settings.output_dir / kind


def produce_briefing(day: date, out_dir: Path | str | None = None, settings: Settings | None = None) -> Produced:
    """Build and render the daily missing briefing for ``day``."""
    settings = settings or get_settings()
    policy = load_policy(settings.policy_path)
    with session_scope(settings.database_url) as session:
        pack = build_briefing(session, day, policy)
        files = render_briefing(pack, _out(settings, "briefing", out_dir))
    return Produced(
        "briefing",
        pack.key,
        None,
        [str(p) for p in files],
        pack.counts(),
        [],
        f"Daily missing briefing {day.isoformat()}",
    )


def produce_serious_notification(
    episode_ref: str,
    rule_id: str | None = None,
    out_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> Produced:
    """Build and render the serious notification form for one episode (rule chosen as in the builder)."""
    settings = settings or get_settings()
    policy = load_policy(settings.policy_path)
    with session_scope(settings.database_url) as session:
        form = build_serious_notification(session, episode_ref, policy, rule_id=rule_id)
        files = render_serious_notification(form, _out(settings, "serious_notification", out_dir))
    counts = {"contacts": len(form.contacts), "actions": len(form.actions), "still_missing": int(form.still_missing)}
    return Produced(
        "serious_notification",
        form.key,
        episode_ref,
        [str(p) for p in files],
        counts,
        list(form.recipients),
        f"Serious notification {episode_ref}: {form.rule_title}",
    )


def produce_weekly_list(
    week_ending: date, out_dir: Path | str | None = None, settings: Settings | None = None
) -> Produced:
    """Build and render the weekly list of children who are or were missing in the week ending ``week_ending``."""
    settings = settings or get_settings()
    policy = load_policy(settings.policy_path)
    with session_scope(settings.database_url) as session:
        weekly = build_weekly_list(session, week_ending, policy)
        files = render_weekly_list(weekly, _out(settings, "weekly_list", out_dir))
    return Produced(
        "weekly_list",
        weekly.key,
        None,
        [str(p) for p in files],
        weekly.counts(),
        [],
        f"Children missing in the week ending {week_ending.isoformat()}",
    )


def produce_rhi_record(
    episode_ref: str, out_dir: Path | str | None = None, settings: Settings | None = None
) -> Produced:
    """Render the Return Home Interview record template for the interviewer (not mailed: it is filled in)."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        record = build_rhi_record(session, episode_ref, load_policy(settings.policy_path))
        files = render_rhi_record(record, _out(settings, "rhi_record", out_dir))
    return Produced("rhi_record", f"rhi_record:{episode_ref}", episode_ref, [str(p) for p in files])


def produce_written_confirmation(
    child_ref: str, on: date | None = None, out_dir: Path | str | None = None, settings: Settings | None = None
) -> Produced:
    """Render the care leaver's written confirmation letter (posted or handed over by the Personal Advisor)."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        letter = build_written_confirmation(session, child_ref, load_policy(settings.policy_path), on=on)
        files = render_written_confirmation(letter, _out(settings, "written_confirmation", out_dir))
    return Produced("written_confirmation", letter.key, child_ref, [str(p) for p in files])


def deliver_produced(produced: Produced, settings: Settings | None = None) -> DeliveryOutcome:
    """File the documents in the output store and mail them (once per key: a rerun sends nothing)."""
    settings = settings or get_settings()
    counts = ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in produced.counts.items())
    body = (
        text_environment()
        .get_template("mail/body.txt.j2")
        .render(title=produced.title, summary=counts or "See the attached document.", key=produced.key)
    )
    with session_scope(settings.database_url) as session:
        return deliver(
            session,
            key=produced.key,
            kind=produced.kind,
            files=[Path(path) for path in produced.files],
            store=OutputStore(settings.output_dir),
            mail=mail_settings_from_env(),
            subject=f"OFFICIAL-SENSITIVE: {produced.title}",
            body=body,
            subject_ref=produced.subject_ref,
            roles=produced.roles,
        )
