"""Replay safety: shuffled, duplicated and replayed feeds; a run killed mid-file; two ingests at once."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from missing_episodes.db.engine import copy_sqlite, make_engine, session_scope
from missing_episodes.db.models import Action, Episode, Notification
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import pending_reviews, review_children
from tests.builders.feeds import message, write_csv
from tests.snapshot import snapshot


def _history() -> list[dict[str, str]]:
    """Two children over six weeks: repeat episodes (the 4-in-28-days trigger), risk updates, returns."""
    rows = []
    for i, day in enumerate((2, 9, 16, 23, 30)):
        incident = f"INC-A{i}"
        start = f"2026-03-{day:02d}T18:00:00"
        rows.append(
            message(
                f"A{i}m",
                f"2026-03-{day:02d}T19:00:00",
                "missing",
                incident,
                child_id="P1",
                first_name="Amy",
                last_name="Stone",
                date_of_birth="2011-05-01",
                last_seen_at=start,
                risk_level="medium",
            )
        )
        if i % 2:
            rows.append(message(f"A{i}u", f"2026-03-{day:02d}T21:00:00", "update", incident, risk_level="high"))
        if i < 4:
            rows.append(
                message(
                    f"A{i}f",
                    f"2026-03-{day + 1:02d}T20:30:00",
                    "found",
                    incident,
                    found_at=f"2026-03-{day + 1:02d}T20:00:00",
                )
            )
    rows.append(
        message(
            "B1m",
            "2026-03-05T10:00:00",
            "absent",
            "INC-B1",
            first_name="Kai",
            last_name="New",
            date_of_birth="2012-02-02",
            last_seen_at="2026-03-05T09:00:00",
        )
    )
    rows.append(message("B1f", "2026-03-05T15:00:00", "found", "INC-B1", found_at="2026-03-05T14:00:00"))
    return rows


HISTORY = _history()


def _found(nid: str, day: str, incident: str) -> dict[str, str]:
    return message(nid, f"{day}T20:30:00", "found", incident, found_at=f"{day}T20:00:00")


def _missing(nid: str, day: str, incident: str, **who: str) -> dict[str, str]:
    return message(nid, f"{day}T19:00:00", "missing", incident, last_seen_at=f"{day}T18:00:00", risk_level="medium",
                   **who)  # fmt: skip


def _names(first: str, last: str, born: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last, "date_of_birth": born}


def _child(person_id: str, first: str, last: str, born: str, miles: str = "4.0") -> dict[str, str]:
    return {"child_id": person_id, **_names(first, last, born), "legal_status": "looked_after", "uasc": "no",
            "responsible_authority": "Kingsbridge", "placement_distance_miles": miles}  # fmt: skip


def _outcome(event_id: str, at: str, person_id: str, incident: str, event: str) -> dict[str, str]:
    # A decline carries its reason (Wakefield s6), as the feed contract asks; other events need none.
    rationale = "Refused at the door; the carer was asked instead" if event == "rhi_declined" else ""
    return {"event_id": event_id, "recorded_at": at, "child_id": person_id, "incident_ref": incident, "event": event,
            "by": "Return Interview Team", "rationale": rationale, "notes": ""}  # fmt: skip


#: Messages that name children in every way the police feed does (seeds: a notification carries the person id
#: when the police know it, else name and date of birth only), the register that names them later or earlier,
#: and case outcomes that name a child by person id before the register may have: (feed, row) pairs.
IDENTITIES: list[tuple[str, dict[str, str]]] = [
    *(("notifications", row) for row in HISTORY),
    # Amy (P1) once more, by name only, in other spelling: her child, not a new one.
    ("notifications", _missing("A9m", "2026-04-10", "INC-A9", **_names("AMY", "stone", "2011-05-01"))),
    ("notifications", _found("A9f", "2026-04-11", "INC-A9")),
    # Kai (INC-B1 by name only) is P3 on the register; one more episode by id only.
    ("notifications", _missing("B2m", "2026-03-20", "INC-B2", child_id="P3")),
    ("notifications", _found("B2f", "2026-03-21", "INC-B2")),
    # Lee (P4): by id only, then by name only; placed 30 miles away (a virtual interview).
    ("notifications", _missing("D1m", "2026-03-04", "INC-D1", child_id="P4")),
    ("notifications", _found("D1f", "2026-03-05", "INC-D1")),
    ("notifications", _missing("D2m", "2026-03-11", "INC-D2", child_id="P4")),
    ("notifications", _found("D2f", "2026-03-12", "INC-D2")),
    ("notifications", _missing("D3m", "2026-03-18", "INC-D3", **_names("Lee", "Park", "2010-07-07"))),
    ("notifications", _found("D3f", "2026-03-19", "INC-D3")),
    # Mo (P5): by name only; an outcome names P5 (maybe before the register does).
    ("notifications", _missing("E1m", "2026-03-06", "INC-E1", **_names("Mo", "Ali", "2012-09-09"))),
    ("notifications", _found("E1f", "2026-03-07", "INC-E1")),
    ("notifications", _missing("E2m", "2026-03-13", "INC-E2", **_names("Mo", "Ali", "2012-09-09"))),
    ("notifications", _found("E2f", "2026-03-14", "INC-E2")),
    # Sam: never on the register (a provisional child, for MASH).
    ("notifications", _missing("F1m", "2026-03-08", "INC-F1", **_names("Sam", "Reed", "2011-11-11"))),
    ("notifications", _found("F1f", "2026-03-09", "INC-F1")),
    ("children", _child("P1", "Amy", "Stone", "2011-05-01")),
    ("children", _child("P3", "Kai", "New", "2012-02-02")),
    ("children", _child("P4", "Lee", "Park", "2010-07-07", miles="30.0")),
    ("children", _child("P5", "Mo", "Ali", "2012-09-09")),
    ("outcomes", _outcome("O1", "2026-03-04T10:00:00", "P1", "INC-A0", "rhi_completed")),
    ("outcomes", _outcome("O2", "2026-03-07T10:00:00", "P4", "INC-D1", "rhi_declined")),
    ("outcomes", _outcome("O3", "2026-03-09T10:00:00", "P5", "INC-E1", "rhi_completed")),
]

SOURCES = {"notifications": "police", "children": "register", "outcomes": "cms"}


def _ingest_in_batches(url: str, items: list[tuple[str, dict[str, str]]], folder: Path, batch: int) -> dict:
    """Ingest ``items`` ``batch`` at a time (one file per feed in a batch, in order of arrival), then the rules."""
    os.environ["MISSING_EPISODES_DATABASE_URL"] = url
    for number, start in enumerate(range(0, len(items), batch)):
        files: dict[str, list[dict[str, str]]] = {}
        for feed, row in items[start : start + batch]:
            files.setdefault(feed, []).append(row)
        for feed, rows in files.items():
            ingest_path(feed, write_csv(folder / f"part{number}-{feed}.csv", rows), SOURCES[feed])
    review_children([item.child_ref for item in pending_reviews()])
    return snapshot(url)


#: The ordered replay: the register first, then the police notifications, then the case outcomes.
ORDERED = sorted(IDENTITIES, key=lambda item: ("children", "notifications", "outcomes").index(item[0]))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, _sqlite_template):
    folder = tmp_path_factory.mktemp("reference")
    url = copy_sqlite(_sqlite_template, folder / "reference.db")
    saved = os.environ.get("MISSING_EPISODES_DATABASE_URL")
    try:
        return _ingest_in_batches(url, ORDERED, folder, len(ORDERED))
    finally:
        if saved is not None:
            os.environ["MISSING_EPISODES_DATABASE_URL"] = saved


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    order=st.permutations(range(len(IDENTITIES))),
    duplicates=st.lists(st.integers(0, len(IDENTITIES) - 1), max_size=6),
    batch=st.integers(1, len(IDENTITIES)),
    replays=st.integers(1, 2),
)
def test_any_order_any_duplication_any_replay_gives_the_database_one_pass_gives(
    order, duplicates, batch, replays, reference, _sqlite_template, tmp_path_factory, monkeypatch
):
    """Register, notifications and outcomes shuffled together: the same children, episodes, actions and
    allocations (``assigned_to`` is a column of the action snapshot) as the ordered replay."""
    folder = tmp_path_factory.mktemp("replay")
    url = copy_sqlite(_sqlite_template, folder / "db.sqlite")
    items = [IDENTITIES[i] for i in order] + [IDENTITIES[i] for i in duplicates]
    try:
        for _ in range(replays):
            result = _ingest_in_batches(url, items, folder, batch)
        assert _differences(result, reference) == {}
    finally:
        make_engine(url).dispose()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_replay_names_every_child_once_and_allocates_every_open_interview(reference):
    children = {dict(row)["person_id"]: dict(row) for row in reference["child"]}
    assert sorted(children) == ["None", "P1", "P3", "P4", "P5"]  # Sam is provisional, flagged for MASH
    assert children["None"]["needs_mash_screening"] == "True"
    interviews = [dict(row) for row in reference["action"] if dict(row)["kind"] == "return_home_interview"]
    assert len({row["assigned_to"] for row in interviews if row["status"] == "open"}) > 1
    assert all(row["assigned_to"] != "None" for row in interviews if row["status"] == "open")


def _differences(result: dict, expected: dict) -> dict[str, object]:
    """Per table, the rows one side has and the other lacks: a readable failure instead of two dumps."""
    out = {}
    for table in expected:
        got, want = set(result[table]), set(expected[table])
        if got != want:
            out[table] = {"unexpected": [dict(r) for r in got - want][:2], "missing": [dict(r) for r in want - got][:2]}
    return out


def test_an_episode_fingerprint_depends_on_the_messages_not_on_the_order_they_were_stored_in():
    from missing_episodes.episodes import Message, fold
    from missing_episodes.feeds import PoliceNotification

    records = [PoliceNotification.model_validate(row) for row in HISTORY if row["incident_ref"] == "INC-A1"]
    assert len(records) == 3
    first = fold([Message(i, r) for i, r in enumerate(records)])
    again = fold([Message(100 - i, r) for i, r in enumerate(reversed(records))])
    assert first.fingerprint() == again.fingerprint()
    changed = fold([Message(i, r.model_copy(update={"risk_level": "low"})) for i, r in enumerate(records)])
    assert changed.fingerprint() != first.fingerprint()


def test_the_time_police_were_contacted_is_the_earliest_a_message_gives_and_absent_it_leaves_the_hash_alone():
    from missing_episodes.episodes import Message, fold
    from missing_episodes.feeds import PoliceNotification

    records = [PoliceNotification.model_validate(row) for row in HISTORY if row["incident_ref"] == "INC-A1"]
    plain = fold([Message(i, r) for i, r in enumerate(records)])
    assert plain.reported_to_police_at is None
    told = [records[0].model_copy(update={"reported_to_police_at": records[0].sent_at.replace(minute=0)}),
            *records[1:]]
    told[-1] = told[-1].model_copy(update={"reported_to_police_at": records[-1].sent_at})
    state = fold([Message(i, r) for i, r in enumerate(told)])
    assert state.reported_to_police_at == records[0].sent_at.replace(minute=0)
    assert state.fingerprint() != plain.fingerprint()
    # Episodes stored before the field existed keep their fingerprint (the hash of every other fact, as before):
    # a replay after the upgrade does not rewrite them all.
    from missing_episodes.episodes import canonical_json, content_hash

    later = ("reported_to_police_at", "trafficking_risk_at")  # facts added since, left out of the hash when absent
    before = {name: getattr(plain, name) for name in plain.__dataclass_fields__ if name not in later}
    before["risk_history"] = [(at, level, nid) for at, level, _row, nid in plain.risk_history]
    assert plain.fingerprint() == content_hash(canonical_json(before))


def test_the_history_fires_the_repeat_trigger(reference):
    rules = [(dict(row)["child"], dict(row)["rule_id"]) for row in reference["action"]]
    amy = next(dict(row)["ref"] for row in reference["child"] if dict(row)["person_id"] == "P1")
    assert (amy, "strategy.four_in_28_days") in rules
    # A0-A3 and A9 returned; A4 still missing
    assert [child for child, rule in rules if rule == "rhi.within_72h_of_return"].count(amy) == 5


# --- a run killed mid-file ----------------------------------------------------------------------------------

KILL_SCRIPT = """
import sys
from pathlib import Path
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import pending_reviews, review_children
ingest_path("notifications", Path(sys.argv[1]), "police")
review_children([i.child_ref for i in pending_reviews()])
"""


def _big_feed(path: Path, children: int = 300) -> Path:
    rows = []
    for c in range(children):
        for e in range(4):
            day = 1 + e * 6
            incident = f"INC-{c}-{e}"
            rows.append(
                message(
                    f"{c}-{e}m",
                    f"2026-05-{day:02d}T10:00:00",
                    "missing",
                    incident,
                    child_id=f"P{c}",
                    first_name="F",
                    last_name=f"L{c}",
                    date_of_birth="2011-01-01",
                    last_seen_at=f"2026-05-{day:02d}T08:00:00",
                )
            )
            rows.append(
                message(
                    f"{c}-{e}f",
                    f"2026-05-{day + 2:02d}T10:00:00",
                    "found",
                    incident,
                    found_at=f"2026-05-{day + 2:02d}T09:00:00",
                )
            )
    return write_csv(path, rows)


@pytest.mark.slow
def test_a_run_killed_with_sigkill_mid_file_then_run_again_ends_as_an_uninterrupted_run(_sqlite_template, tmp_path):
    feed = _big_feed(tmp_path / "feed.csv")
    env = dict(os.environ, MISSING_EPISODES_INGEST_CHUNK_SIZE="100")
    whole = copy_sqlite(_sqlite_template, tmp_path / "whole.db")
    subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(feed)], check=True, env=dict(env, MISSING_EPISODES_DATABASE_URL=whole)
    )

    killed = copy_sqlite(_sqlite_template, tmp_path / "killed.db")
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(feed)], env=dict(env, MISSING_EPISODES_DATABASE_URL=killed)
    )
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        with sqlite3.connect(tmp_path / "killed.db", timeout=30) as connection:
            stored = connection.execute("SELECT count(*) FROM notification").fetchone()[0]
        if stored >= 300:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed: make the feed bigger"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < stored < 2400
    subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(feed)], check=True, env=dict(env, MISSING_EPISODES_DATABASE_URL=killed)
    )
    assert snapshot(killed) == snapshot(whole)


# --- two ingests at once on PostgreSQL ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_ingest_runs_of_the_same_feed_at_once_on_postgresql_store_everything_once(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", pg_url)
    monkeypatch.setenv("MISSING_EPISODES_INGEST_CHUNK_SIZE", "50")
    feed = _big_feed(tmp_path / "feed.csv", children=60)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            ingest_path("notifications", feed, "police")
            review_children([i.child_ref for i in pending_reviews()])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(pg_url) as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 60 * 8
        assert session.scalar(select(func.count()).select_from(Episode)) == 60 * 4
        assert session.scalar(select(func.count(func.distinct(Action.key)))) == session.scalar(
            select(func.count()).select_from(Action)
        )
        # Each child: 4 episodes of 49 hours (4 RHIs and 4 meetings at 24 hours), the 4-in-28-days meeting on the
        # fourth (1, 7, 13, 19 May), and on each return the carer's well-being check and prevention plan (Lilac).
        assert session.scalar(select(func.count()).select_from(Action)) == 60 * (9 + 4 * 2)
