"""The worklist as of a moment, the CLI that prints it, RHI allocation, and recomputation after a policy change."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from missing_episodes import worklist as worklist_module
from missing_episodes.allocation import Worker, choose_worker, placement_note
from missing_episodes.clock import as_london
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, AuditEvent
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import flag_for_review, pending_reviews, review_children, review_next_batch
from missing_episodes.policy import Allocation
from missing_episodes.worklist import WorklistItem, json_chunks, worklist
from tests.builders.facts import london
from tests.builders.feeds import message, write_csv
from tests.builders.plans import sqlite_plan, statements_sent

MISSING = message(
    "N1",
    "2026-10-24T13:00:00",
    "missing",
    "INC-1",
    child_id="P100",
    first_name="Amy",
    last_name="Stone",
    date_of_birth="2011-05-01",
    last_seen_at="2026-10-24T12:00:00",
)


@pytest.fixture
def loaded(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    ingest_path("notifications", write_csv(tmp_path / "n.csv", [MISSING]), "police")
    review_children([i.child_ref for i in pending_reviews()])
    return db_url


def kinds_at(url, when):
    with session_scope(url) as session:
        return {(i.rule, i.status) for i in worklist(session, when)}


def test_a_24_hour_meeting_appears_once_24_hours_have_passed_with_the_child_still_missing(loaded):
    # Last seen Saturday 24 October 12:00 BST; the clocks go back that night, so 24 hours is Sunday 11:00 GMT.
    assert ("strategy.missing_24h", "open") not in kinds_at(loaded, london("2026-10-25 10:59"))
    assert ("strategy.missing_24h", "open") in kinds_at(loaded, london("2026-10-25 11:00"))
    assert ("strategy.missing_24h", "overdue") in kinds_at(loaded, london("2026-10-25 11:01"))
    assert ("serious.missing_72h", "overdue") in kinds_at(loaded, london("2026-10-27 12:00"))


def test_a_return_before_24_hours_removes_the_meeting_that_never_fired(loaded, tmp_path):
    found = message("N2", "2026-10-24T20:00:00", "found", "INC-1", found_at="2026-10-24T19:30:00")
    ingest_path("notifications", write_csv(tmp_path / "f.csv", [found]), "police")
    review_children([i.child_ref for i in pending_reviews()])
    later = kinds_at(loaded, london("2026-11-01 09:00"))
    # No strategy meeting (it never fired); what a return asks for is overdue a week later.
    assert later == {("rhi.within_72h_of_return", "overdue"), ("return.wellbeing_check", "overdue"),
                     ("return.prevention_plan", "overdue")}


def test_status_is_read_as_of_the_moment_asked(loaded, tmp_path):
    outcome = {
        "event_id": "E1",
        "recorded_at": "2026-10-25T15:00:00",
        "child_id": "P100",
        "incident_ref": "INC-1",
        "event": "strategy_meeting_held",
        "by": "TM",
        "rationale": "",
        "notes": "held with police",
    }
    ingest_path("outcomes", write_csv(tmp_path / "o.csv", [outcome]), "case-management")
    review_children([i.child_ref for i in pending_reviews()])
    assert ("strategy.missing_24h", "overdue") in kinds_at(loaded, london("2026-10-25 14:00"))
    assert ("strategy.missing_24h", "done") in kinds_at(loaded, london("2026-10-25 15:00"))


def test_the_actions_command_prints_json_and_never_imports_prefect(loaded):
    script = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from cli import app\n"
        "result = CliRunner().invoke(app, ['actions', '--as-of', '2026-10-28T09:00', '--json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'prefect' not in sys.modules, 'a read-only command imported Prefect'\n"
        "print(result.output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "MISSING_EPISODES_DATABASE_URL": loaded},
    )
    items = json.loads(done.stdout)
    by_rule = {item["rule"]: item for item in items}
    meeting = by_rule["strategy.missing_24h"]
    assert meeting["child_id"] == "P100" and meeting["incident_ref"] == "INC-1"
    assert meeting["action"] == "strategy_meeting" and meeting["status"] == "overdue"
    assert meeting["due_at"] == "2026-10-25T11:00:00+00:00"
    assert by_rule["strategy.missing_72h"]["due_at"] == "2026-10-27T11:00:00+00:00"
    assert set(by_rule) == {"strategy.missing_24h", "strategy.missing_72h", "serious.missing_72h"}


def test_the_actions_command_prints_a_table_without_json(loaded):
    result = CliRunner().invoke(
        __import__("cli", fromlist=["app"]).app, ["actions", "--as-of", "2026-10-28T09:00"]
    )
    assert result.exit_code == 0 and "3 actions" in result.output


# --- allocation ----------------------------------------------------------------------------------------------

ROSTER = [Worker("Alex", "RIT", 2), Worker("Bea", "RIT", 3), Worker("Cal", "RIT", 3)]


def test_the_same_worker_as_last_time_where_possible_then_the_lightest_load():
    assert choose_worker(ROSTER, {"Alex": 1, "Bea": 0, "Cal": 0}, previous="Alex") == "Alex"
    assert choose_worker(ROSTER, {"Alex": 2, "Bea": 0, "Cal": 0}, previous="Alex") == "Bea"  # Alex is full
    assert choose_worker(ROSTER, {"Alex": 0, "Bea": 2, "Cal": 1}, previous=None) == "Alex"
    assert choose_worker(ROSTER, {"Alex": 1, "Bea": 1, "Cal": 1}, previous="Dee") == "Bea"  # left the team
    assert choose_worker([], {}, previous=None) is None


def test_placements_over_20_miles_are_flagged_for_a_virtual_interview_or_the_host_authority():
    assert "virtual" in (placement_note(35.0, Allocation()) or "")
    assert placement_note(20.0, Allocation()) is None and placement_note(None, Allocation()) is None


def test_interviews_are_allocated_once_from_the_roster_and_kept(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    roster = tmp_path / "roster.csv"
    roster.write_text("worker,team,capacity\nAlex,Return Interview Team,5\nBea,Return Interview Team,5\n")
    monkeypatch.setenv("MISSING_EPISODES_ROSTER", str(roster))
    feed = []
    for i, day in enumerate((1, 10)):
        feed.append(
            message(
                f"M{i}",
                f"2026-06-{day:02d}T10:00:00",
                "missing",
                f"I{i}",
                child_id="P1",
                first_name="A",
                last_name="B",
                date_of_birth="2011-01-01",
                last_seen_at=f"2026-06-{day:02d}T09:00:00",
            )
        )
        feed.append(
            message(f"F{i}", f"2026-06-{day:02d}T20:00:00", "found", f"I{i}", found_at=f"2026-06-{day:02d}T19:00:00")
        )
    feed.append(
        message(
            "M9",
            "2026-06-05T10:00:00",
            "missing",
            "I9",
            child_id="P2",
            first_name="C",
            last_name="D",
            date_of_birth="2012-01-01",
            last_seen_at="2026-06-05T09:00:00",
        )
    )
    feed.append(message("F9", "2026-06-05T20:00:00", "found", "I9", found_at="2026-06-05T19:00:00"))
    ingest_path(
        "children",
        write_csv(
            tmp_path / "c.csv",
            [
                {"child_id": "P1", "legal_status": "looked_after", "placement_distance_miles": "42"},
                {"child_id": "P2", "legal_status": "looked_after", "placement_distance_miles": "3"},
            ],
        ),
        "register",
    )
    ingest_path("notifications", write_csv(tmp_path / "n.csv", feed), "police")
    review_next_batch(100)
    with session_scope(db_url) as session:
        rhis = {
            a.key.split(":")[0]: a
            for a in session.scalars(select(Action).where(Action.kind == "return_home_interview"))
        }
        workers = [
            a.assigned_to
            for a in session.scalars(
                select(Action).where(Action.kind == "return_home_interview").order_by(Action.trigger_at)
            )
        ]
        assert len(rhis) == 3 and all(workers)
        p1 = [a for a in rhis.values() if a.assignment_note]
        assert len(p1) == 2 and p1[0].assigned_to == p1[1].assigned_to  # the same worker for the same child
        before = {k: a.assigned_to for k, a in rhis.items()}
    flag_for_review(everyone=True, reason="test")
    with statements_sent(db_url, lambda statement, parameters: "return_home_interview" in str(parameters)
                         and "action.child_id" in statement) as sent:
        review_next_batch(100)
    with session_scope(db_url) as session:
        after = {
            a.key.split(":")[0]: a.assigned_to
            for a in session.scalars(select(Action).where(Action.kind == "return_home_interview"))
        }
    assert after == before
    # The batch's interviews are found by the child index. SQLite, without statistics, took the kind index for
    # ``kind = ...`` and read every interview of the region for each batch (``store.unindexed``).
    assert len(sent) == 1
    if db_url.startswith("sqlite"):
        plan = sqlite_plan(db_url, *sent[0])
        assert "ix_action_child_id" in plan and "ix_action_assigned" not in plan, plan


# --- recomputation after a policy change ----------------------------------------------------------------------


def test_a_policy_change_is_recomputed_explicitly_and_audited(loaded, monkeypatch, tmp_path):
    text = (DATA_DIR / "policies" / "default.yaml").read_text()
    changed = text.replace('version: "2026.12"', 'version: "2026.12-b"').replace(
        "  - id: serious.missing_72h\n", "  - id: serious.missing_72h\n    enabled: false\n", 1
    )
    (tmp_path / "policy.yaml").write_text(changed)
    monkeypatch.setenv("MISSING_EPISODES_POLICY", str(tmp_path / "policy.yaml"))
    # Nothing changes by itself: the stored actions keep the version that made them until a recompute is asked.
    with session_scope(loaded) as session:
        assert {a.policy_version for a in session.scalars(select(Action))} == {"2026.12"}
    assert flag_for_review(everyone=True, reason="serious notifications now by phone") == 1
    review_next_batch(100)
    with session_scope(loaded) as session:
        actions = {a.rule_id: a for a in session.scalars(select(Action))}
        assert actions["strategy.missing_24h"].policy_version == "2026.12-b"
        # The serious notification had fired (it is long past 72 hours): kept, marked withdrawn, not deleted.
        assert actions["serious.missing_72h"].status == "withdrawn"
        events = [(e.event, e.actor) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert ("review_requested", "operator") in events
    assert ("action_withdrawn", "rules-bulk") in events


# --- streaming JSON and London times -------------------------------------------------------------------------


def _item(number: int, **changes) -> WorklistItem:
    base = WorklistItem(
        child_ref=f"CH-{number}", child_id=None if number % 2 else f"P{number}", incident_ref="INC-1",
        episode_ref="EP-1", action="strategy_meeting", rule="strategy.missing_24h", policy_version="2026.11",
        trigger_at=datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC) + timedelta(minutes=37 * number),
        due_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC) + timedelta(minutes=29 * number), status="done",
        done_at=datetime(2026, 10, 25, 1, 0, tzinfo=UTC) if number % 3 else None, done_by="TM", actor="Team Manager",
        assigned_to=None, assignment_note='say "hello"\n\tthen leave', recipients="Zoë Brontë, Police \u2028",
        evidence="\x01 control",
    )
    base = base._replace(**changes)
    # As ``worklist_items`` gives them: aware times in London time.
    return base._replace(trigger_at=as_london(base.trigger_at), due_at=as_london(base.due_at),
                         done_at=base.done_at and as_london(base.done_at))


@pytest.mark.parametrize("count", [0, 1, 7])
def test_the_json_stream_is_exactly_what_json_dumps_with_indent_gives(count, monkeypatch):
    monkeypatch.setattr(worklist_module, "_STREAM_ROWS", 3)  # several pieces
    items = [_item(number) for number in range(count)]
    expected = [
        {"child_id": i.child_id or i.child_ref, "child_ref": i.child_ref, "incident_ref": i.incident_ref,
         "action": i.action, "rule": i.rule, "policy_version": i.policy_version,
         "trigger_at": as_london(i.trigger_at).isoformat(), "due_at": as_london(i.due_at).isoformat(),
         "status": i.status, "done_at": as_london(i.done_at).isoformat() if i.done_at else None,
         "done_by": i.done_by, "actor": i.actor, "assigned_to": i.assigned_to, "assignment_note": i.assignment_note,
         "recipients": i.recipients, "evidence": i.evidence}
        for i in items
    ]
    assert "".join(json_chunks(items)) == json.dumps(expected, indent=2, ensure_ascii=False)


def test_london_times_in_bulk_equal_the_clock_module_across_both_clock_changes():
    starts = [datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
              datetime(1968, 2, 17, 22, 0, tzinfo=UTC)]
    for start in starts:
        for minutes in range(0, 6 * 60, 7):
            moment = start + timedelta(minutes=minutes, microseconds=minutes)
            assert worklist_module.london(moment).isoformat() == as_london(moment).isoformat()
            assert worklist_module.london(moment).astimezone(UTC) == moment
