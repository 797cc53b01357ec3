"""``missing-episodes record hidden_missing``: a coordinator records a hidden missing child (Wakefield s2: "A child
who is or has been missing, but has not been reported to the police") from the command line, as from the feed.

The event closes nothing, so the command does not refuse it for want of an open action; it raises the report to
the police at once (s3), and the return the coordinator records next raises the interview within 72 hours (s6).
"""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Outcome
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.sources import RawRow
from tests.builders.facts import london


def test_a_hidden_missing_child_recorded_from_the_command_line_gets_its_police_report_and_interview(
        sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-03T12:00:00")
    ingest_records("children", [RawRow("register", 1, {
        "child_id": "P000990", "first_name": "Test", "last_name": "Child", "date_of_birth": "2011-03-04",
        "legal_status": "looked_after", "responsible_authority": "Kingsbridge"})], source="register")
    hidden = CliRunner().invoke(app, ["record", "hidden_missing", "--child", "P000990", "--at", "2026-11-03T10:00",
                                      "--by", "Sam Patel (social worker)"])
    assert hidden.exit_code == 0, hidden.output
    back = CliRunner().invoke(app, ["record", "returned", "--child", "P000990", "--at", "2026-11-03T11:30",
                                    "--by", "Sam Patel (social worker)"])
    assert back.exit_code == 0, back.output
    with session_scope(sqlite_url) as session:
        assert sorted(session.scalars(select(Outcome.event))) == ["hidden_missing", "returned"]
        due = {a.rule_id: (a.due_at, a.status) for a in session.scalars(select(Action))}
    assert due == {"hidden.police_report": (london("2026-11-03 10:00"), "open"),
                   "rhi.hidden_missing": (london("2026-11-06 11:30"), "open")}
