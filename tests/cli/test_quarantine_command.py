"""``quarantine``: totals, newest first, paging, resolve with a note (audited), and a fixed row re-ingested."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import AuditEvent, Notification, Quarantine
from missing_episodes.feedfiles import read_file
from missing_episodes.ingest.rows import ingest_rows
from missing_episodes.jobs.context import Context
from tests.builders.feeds import message, write_csv
from tests.cli.seed import seed


@pytest.fixture
def seeded(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed(sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    return sqlite_url


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "160"}, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


def ids_shown(text: str) -> list[int]:
    return [int(line.split()[0]) for line in text.splitlines() if line.strip()[:1].isdigit() and "notifications.csv"
            in line]


def test_newest_first_with_totals_and_paging(seeded: str) -> None:
    first = run("quarantine", "--limit", "3")
    assert ids_shown(first) == [7, 6, 5]
    assert "7 to fix, 0 resolved; showing 1-3 of 7" in first
    assert "--offset 3" in first
    assert ids_shown(run("quarantine", "--limit", "3", "--page", "2")) == [4, 3, 2]
    assert ids_shown(run("quarantine", "--limit", "3", "--offset", "6")) == [1]
    assert "[/x] is not a time" in first  # feed values are printed as data, never as markup


def test_resolve_hides_the_row_keeps_the_note_and_audits(seeded: str) -> None:
    assert "resolved" in run("quarantine", "resolve", "7", "--note", "police re-sent [/bold] it", "--by", "Ana")
    assert 7 not in ids_shown(run("quarantine"))
    everything = run("quarantine", "--all")
    assert 7 in ids_shown(everything) and "6 to fix, 1 resolved" in everything
    shown = run("quarantine", "show", "7")
    assert "police re-sent [/bold] it" in shown and "Ana" in shown and '{"sent_at": "[/x]"' in shown
    with session_scope(seeded) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event == "quarantine_resolved")).one()
        assert (event.actor, event.entity_ref) == ("Ana", "7")
    assert "was resolved" in run("quarantine", "resolve", "7", "--note", "again", code=2)


def test_retry_re_ingests_a_fixed_row_and_refuses_a_row_still_wrong(sqlite_url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    feed = write_csv(tmp_path / "police.csv", [
        message("N1", "2026-11-01T10:00", "missing", "KBP-2026-000001", child_id="P000101",
                last_seen_at="2026-11-01T09:00"),
        message("N2", "[/x]", "missing", "KBP-2026-000002", child_id="P000102", last_seen_at="2026-11-01T09:00"),
    ])
    context = Context.load()
    summary = ingest_rows(partial(session_scope, sqlite_url), feed="notifications", source="police",
                          rows=read_file(feed), settings=context.settings, policy=context.policy)
    assert (summary.new, summary.quarantined) == (1, 1)
    with session_scope(sqlite_url) as session:
        row_id = session.scalars(select(Quarantine.id)).one()

    still = run("quarantine", "retry", str(row_id), "--set", "sent_at=yesterday", code=2)
    assert "still fails" in still and "sent_at" in still
    assert "no field 'sent_time'" in run("quarantine", "retry", str(row_id), "--set", "sent_time=x", code=2)

    out = run("quarantine", "retry", str(row_id), "--set", "sent_at=2026-11-01T10:05")
    assert "stored (1 new" in out and "resolved" in out
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(Notification).where(Notification.message_id == "N2")) is not None
        row = session.get(Quarantine, row_id)
        assert row.resolved_at is not None and "sent_at" in (row.resolution_note or "")
        assert session.scalars(select(AuditEvent).where(AuditEvent.event == "quarantine_retried")).one()
    assert "0 to fix, 1 resolved" in run("quarantine")
