"""The incident record from the command line: who was informed, contacted and updated, with the name and contact
details of who was spoken to (``record --who --contact``), refused in one line when Wokingham's record would lack
them, and ``form incident-record`` writing the episode's record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.models import Action, Child, ContactLog, Episode
from tests.builders.outcomes import INCIDENTS, closing_cases_database, use_closing_case


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Path:
    return closing_cases_database(tmp_path_factory.mktemp("incident"), _sqlite_template)


@pytest.fixture
def case(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = use_closing_case(built, tmp_path, monkeypatch.setenv)
    yield url
    make_engine(url).dispose()


def _status(url: str, rule_id: str, person: str) -> str:
    with session_scope(url) as session:
        return session.scalars(select(Action.status).join(Child, Child.id == Action.child_id)
                               .where(Action.rule_id == rule_id, Child.person_id == person)).one()


def test_a_police_report_without_who_was_spoken_to_is_refused_in_one_line_and_nothing_is_stored(case: str) -> None:
    # P000803, a former-UASC care leaver assessed missing: the police report is open.
    result = CliRunner().invoke(app, ["record", "police_reported", "--child", "P000803", "--by", "Jo Barker"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "refused: --who and --contact: 'Reported to the police as a missing adult' must name who was spoken to and "
        "their contact number or details (Wokingham)."]
    assert _status(case, "care_leaver.police_report", "P000803") == "open"
    result = CliRunner().invoke(app, ["record", "police_reported", "--child", "P000803", "--by", "Jo Barker",
                                      "--who", "PC Dana Shaw, Missing Persons Unit", "--contact", "01632 960 555"])
    assert result.exit_code == 0, result.output
    assert _status(case, "care_leaver.police_report", "P000803") == "done"
    with session_scope(case) as session:
        entry = session.scalars(select(ContactLog).where(ContactLog.event == "police_reported")).one()
        assert (entry.who, entry.contact, entry.recorded_by, entry.direction) == (
            "PC Dana Shaw, Missing Persons Unit", "01632 960 555", "Jo Barker", "contacted")


def test_who_was_informed_and_updated_are_recorded_from_the_command_line(case: str) -> None:
    incident = INCIDENTS["P000801"]
    told = CliRunner().invoke(app, ["record", "parent_informed", "--child", "P000801", "--incident", incident,
                                    "--by", "Alex Carer", "--who", "Mrs Test (mother)", "--contact", "07700 900 123"])
    assert told.exit_code == 0, told.output
    assert told.stdout.endswith("1 action done\n")
    assert _status(case, "incident.parents_informed", "P000801") == "done"
    # Telling a second parent closes nothing more, and is still an entry of the record.
    again = CliRunner().invoke(app, ["record", "guardian_informed", "--child", "P000801", "--incident", incident,
                                     "--at", "2026-11-02T08:00", "--who", "Mr Test (guardian)"])
    assert again.exit_code == 0, again.output
    updated = CliRunner().invoke(app, ["record", "update_given", "--child", "P000801", "--incident", incident,
                                       "--by", "Alex Carer", "--who", "Mrs Test (mother)"])
    assert updated.exit_code == 0, updated.output
    with session_scope(case) as session:
        log = session.execute(select(ContactLog.event, ContactLog.direction, ContactLog.who)
                              .where(ContactLog.event.is_not(None)).order_by(ContactLog.at, ContactLog.id)).all()
    assert [tuple(row) for row in log] == [
        ("guardian_informed", "informed", "Mr Test (guardian)"),
        ("parent_informed", "informed", "Mrs Test (mother)"),
        ("update_given", "updated", "Mrs Test (mother)"),  # the person updated, not the recorder
    ]


def test_form_incident_record_writes_the_episodes_record_and_an_unknown_episode_is_one_line(case: str,
                                                                                          tmp_path: Path) -> None:
    with session_scope(case) as session:
        ref = session.scalar(select(Episode.ref).where(Episode.incident_ref == INCIDENTS["P000801"]))
    result = CliRunner().invoke(app, ["form", "incident-record", "--episode", ref, "--out", str(tmp_path / "docs"),
                                      "--as-of", "2026-11-02T08:30"])
    assert result.exit_code == 0, result.output
    files = [Path(line) for line in result.stdout.split()]
    assert [f.name for f in files] == [f"incident-record-{ref}.html", f"incident-record-{ref}.pdf"]
    html = files[0].read_text(encoding="utf-8")
    assert "Parents, guardians, social care and EDT informed" in html and "Test1 Child" in html
    missing = CliRunner().invoke(app, ["form", "incident-record", "--episode", "EP-000000000000"])
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == [
        "error: no episode EP-000000000000 (episode refs are on the briefing and in `missing-episodes actions`)"]
