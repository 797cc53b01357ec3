"""Ingest: police notifications, outcomes and the register into the database, whatever the feed does.

Each test runs on SQLite and on PostgreSQL (the ``db_url`` fixture) unless it says otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from missing_episodes.config import DATA_DIR, get_settings
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import AuditEvent, Child, Episode, LegalStatusPeriod, Notification, Quarantine
from missing_episodes.feedfiles import read_file
from missing_episodes.jobs.ingest import ingest_http_source, ingest_path
from missing_episodes.jobs.rules import pending_reviews, review_children
from missing_episodes.policy import load_policy
from missing_episodes.sources import FolderSource, HttpSource, RawRow
from tests.builders.facts import london
from tests.builders.feeds import message, write_csv
from tests.snapshot import snapshot

#: One child's episode in four messages, and a second child known only by name and date of birth.
FEED = [
    message(
        "N1",
        "2026-03-27T22:00:00",
        "missing",
        "INC-1",
        child_id="P100",
        first_name="Amy",
        last_name="Stone",
        date_of_birth="2011-05-01",
        last_seen_at="2026-03-27T20:00:00",
        last_seen_location="Park",
        risk_level="medium",
        responsible_authority="Kingsbridge",
        clothing="red coat",
    ),
    message("N2", "2026-03-28T08:00:00", "update", "INC-1", risk_level="high", notes="seen with friends & cousin"),
    message("N3", "2026-03-30T10:00:00", "found", "INC-1", found_at="2026-03-30T09:00:00", found_location="Station"),
    message(
        "N4",
        "2026-04-01T10:00:00+01:00",
        "missing",
        "INC-2",
        first_name="Zoë",
        last_name="O'Brien",
        date_of_birth="2010-02-02",
        last_seen_at="2026-04-01T09:00:00+01:00",
        risk_level="low",
    ),
]


@pytest.fixture
def use_db(db_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    return db_url


def ingest(kind: str, path: Path, source: str = "police"):
    return ingest_path(kind, path, source)


def episodes(url: str) -> dict[str, Episode]:
    with session_scope(url) as session:
        return {e.incident_ref: e for e in session.scalars(select(Episode))}


def test_a_replayed_file_changes_nothing(use_db, tmp_path):
    path = write_csv(tmp_path / "police.csv", FEED)
    first = ingest("notifications", path)
    assert (first.read, first.new, first.duplicate, first.quarantined) == (4, 4, 0, 0)
    review_children([i.child_ref for i in pending_reviews()])
    before = snapshot(use_db)
    again = ingest("notifications", path)
    assert (again.new, again.duplicate, again.changed_episodes) == (0, 4, 0)
    review_children([i.child_ref for i in pending_reviews()])
    assert snapshot(use_db) == before


def test_found_before_missing_and_update_before_either_still_make_the_right_episode(use_db, tmp_path):
    ingest("notifications", write_csv(tmp_path / "a.csv", [FEED[2]]))
    [early] = episodes(use_db).values()
    assert (early.kind, early.status, early.child_id) == (None, "unconfirmed", None)
    ingest("notifications", write_csv(tmp_path / "b.csv", [FEED[1]]))
    ingest("notifications", write_csv(tmp_path / "c.csv", [FEED[0]]))
    episode = episodes(use_db)["INC-1"]
    assert (episode.kind, episode.status, episode.risk_level) == ("missing", "returned", "high")
    assert episode.last_seen_at == london("2026-03-27 20:00")
    assert episode.found_at == london("2026-03-30 09:00")
    assert episode.reported_at == london("2026-03-27 22:00")
    assert episode.return_notified_at == london("2026-03-30 10:00")
    assert episode.clothing == "red coat" and episode.found_location == "Station"
    with session_scope(use_db) as session:
        assert [r.risk_level for r in session.get(Episode, episode.id).risk_history] == ["medium", "high"]


def test_children_are_matched_by_id_then_exact_name_and_birth_date_never_by_guess(use_db, tmp_path):
    register = write_csv(
        tmp_path / "children.csv",
        [
            {
                "child_id": "P200",
                "first_name": "Zoe",
                "last_name": "OBrien",
                "date_of_birth": "2010-02-02",
                "legal_status": "looked_after",
                "uasc": "no",
                "responsible_authority": "Kingsbridge",
            },
            {
                "child_id": "P300",
                "first_name": "Sam",
                "last_name": "Lee",
                "date_of_birth": "2012-01-01",
                "legal_status": "looked_after",
                "uasc": "no",
                "responsible_authority": "Kingsbridge",
            },
            {
                "child_id": "P301",
                "first_name": "Sam",
                "last_name": "Lee",
                "date_of_birth": "2012-01-01",
                "legal_status": "child_in_need",
                "uasc": "no",
                "responsible_authority": "Kingsbridge",
            },
        ],
    )
    ingest("children", register, "register")
    ingest(
        "notifications",
        write_csv(
            tmp_path / "p.csv",
            [
                FEED[3],  # "Zoë O'Brien" matches the register's "Zoe OBrien" exactly once normalised
                message(
                    "N5",
                    "2026-04-02T10:00:00",
                    "missing",
                    "INC-3",
                    first_name="Sam",
                    last_name="Lee",
                    date_of_birth="2012-01-01",
                    last_seen_at="2026-04-02T09:00:00",
                ),  # two registered Sam Lees
                message(
                    "N6",
                    "2026-04-03T10:00:00",
                    "missing",
                    "INC-4",
                    first_name="Kai",
                    last_name="New",
                    date_of_birth="2013-03-03",
                    last_seen_at="2026-04-03T09:00:00",
                ),  # nobody we know
                message(
                    "N7",
                    "2026-04-03T11:00:00",
                    "missing",
                    "INC-5",
                    first_name="Sam",
                    last_name="Lea",
                    date_of_birth="2012-01-01",
                    last_seen_at="2026-04-03T10:00:00",
                ),  # close is not a match
            ],
        ),
    )
    with session_scope(use_db) as session:
        by_incident = {e.incident_ref: e for e in session.scalars(select(Episode))}
        assert by_incident["INC-2"].child.person_id == "P200"
        assert by_incident["INC-3"].child_id is None  # ambiguous: left for a person, not guessed
        assert by_incident["INC-4"].child.needs_mash_screening and by_incident["INC-4"].child.person_id is None
        assert by_incident["INC-5"].child.needs_mash_screening
        assert by_incident["INC-5"].child_id != by_incident["INC-3"].child_id


def test_a_child_first_met_in_a_notification_is_adopted_by_the_register(use_db, tmp_path):
    ingest("notifications", write_csv(tmp_path / "p.csv", [FEED[3]]))
    ingest(
        "children",
        write_csv(
            tmp_path / "c.csv",
            [
                {
                    "child_id": "P200",
                    "first_name": "Zoë",
                    "last_name": "O'Brien",
                    "date_of_birth": "2010-02-02",
                    "legal_status": "looked_after",
                    "uasc": "no",
                }
            ],
        ),
        "register",
    )
    with session_scope(use_db) as session:
        [child] = session.scalars(select(Child)).all()
        assert child.person_id == "P200" and not child.needs_mash_screening
        assert child.legal_status == "looked_after"


def test_a_register_sent_again_updates_what_changed_flags_rule_changes_and_counts_the_rest_as_duplicates(
        use_db, tmp_path):
    """The register is a snapshot: a child whose row is unchanged is a duplicate; a new team is an update the rules
    do not read; a new legal status is an update the rules do read (the child is flagged for review, and a new
    legal-status period begins); a name change takes the new name key. Every update is audited with its fields."""
    def row(child_id: str, last_name: str, **changes: str) -> dict[str, str]:
        return {"child_id": child_id, "first_name": "Ann", "last_name": last_name, "date_of_birth": "2010-01-01",
                "legal_status": "looked_after", "uasc": "no", "team": "North", **changes}

    first = [row("P1", "One"), row("P2", "Two"), row("P3", "Three"), row("P4", "Four")]
    ingest("children", write_csv(tmp_path / "r1.csv", first), "register")
    with session_scope(use_db) as session:
        session.execute(Child.__table__.update().values(needs_review=False))  # as after the rules ran
    again = [row("P1", "One"), row("P2", "Two", team="South"), row("P3", "Three", legal_status="care_leaver"),
             row("P4", "Fourth"), row("P5", "Five")]
    summary = ingest("children", write_csv(tmp_path / "r2.csv", again), "register")
    assert (summary.read, summary.new, summary.duplicate) == (5, 4, 1)
    with session_scope(use_db) as session:
        children = {c.person_id: c for c in session.scalars(select(Child))}
        periods = session.execute(select(LegalStatusPeriod.child_id, LegalStatusPeriod.legal_status)
                                  .order_by(LegalStatusPeriod.id)).all()
        updated = session.execute(select(AuditEvent.entity_ref, AuditEvent.detail)
                                  .where(AuditEvent.event == "child_updated").order_by(AuditEvent.id)).all()
    assert {p: c.needs_review for p, c in children.items()} == {
        "P1": False, "P2": False, "P3": True, "P4": False, "P5": True}
    assert children["P2"].team == "South" and children["P3"].legal_status == "care_leaver"
    assert children["P4"].last_name == "Fourth" and "fourth" in children["P4"].match_key
    ids = {p: c.id for p, c in children.items()}
    assert periods[4:] == [(ids["P3"], "care_leaver"), (ids["P5"], "looked_after")]
    assert [(ref, json.loads(detail)["fields"]) for ref, detail in updated] == [
        (children["P2"].ref, ["team"]), (children["P3"].ref, ["legal_status"]), (children["P4"].ref, ["last_name"])]


def test_children_placed_here_by_another_authority_are_recorded_for_forwarding(use_db, tmp_path):
    ingest(
        "notifications",
        write_csv(
            tmp_path / "p.csv",
            [
                message(
                    "N9",
                    "2026-04-01T10:00:00",
                    "missing",
                    "INC-9",
                    child_id="X1",
                    first_name="Ola",
                    last_name="Ng",
                    date_of_birth="2011-01-01",
                    last_seen_at="2026-04-01T08:00:00",
                    responsible_authority="Northfield",
                ),
            ],
        ),
    )
    review_children([i.child_ref for i in pending_reviews()])
    episode = episodes(use_db)["INC-9"]
    assert episode.other_authority and episode.responsible_authority == "Northfield"
    with session_scope(use_db) as session:
        assert session.scalar(select(func.count()).select_from(Episode).where(Episode.other_authority)) == 1
        from missing_episodes.db.models import Action

        assert session.scalar(select(func.count()).select_from(Action)) == 0


def test_bad_rows_are_quarantined_with_source_row_and_field_and_the_rest_is_stored(use_db, tmp_path):
    rows = [
        FEED[0],
        message("B1", "2026-04-01T10:00:00", "lost", "INC-B1"),
        message("B2", "not a time", "missing", "INC-B2"),
        message(
            "B3",
            "2026-04-01T10:00:00",
            "found",
            "INC-B3",
            last_seen_at="2026-04-01T09:00:00",
            found_at="2026-04-01T08:00:00",
        ),
        message("B4", "2026-04-01T10:00:00", "missing", "", child_id="P1", last_seen_at="2026-04-01T09:00:00"),
        message("B5", "2026-04-01T10:00:00", "missing", "INC-B5", last_seen_at="2026-04-01T09:00:00"),
        message("B6", "2026-03-29T01:30:00", "missing", "INC-B6", child_id="P1", last_seen_at="2026-03-29T00:30"),
        FEED[2],
    ]
    summary = ingest("notifications", write_csv(tmp_path / "damaged.csv", rows))
    assert (summary.read, summary.new, summary.quarantined) == (8, 2, 6)
    with session_scope(use_db) as session:
        kept = {(q.row_number, q.field): q for q in session.scalars(select(Quarantine))}
        assert set(kept) == {
            (2, "event"),
            (3, "sent_at"),
            (4, "found_at"),
            (5, "incident_ref"),
            (6, "child_id"),
            (7, "sent_at"),
        }
        assert all(q.origin == "damaged.csv" and q.source == "police" for q in kept.values())
        assert "does not exist in Europe/London" in kept[(7, "sent_at")].reason
        assert json.loads(kept[(2, "event")].raw)["event"] == "lost"  # the raw row is kept for a person
    again = ingest("notifications", write_csv(tmp_path / "damaged.csv", rows))
    assert again.new == 0
    with session_scope(use_db) as session:
        assert session.scalar(select(func.count()).select_from(Quarantine)) == 6


def test_an_id_reused_with_different_content_is_quarantined_and_the_first_message_kept(use_db, tmp_path):
    ingest("notifications", write_csv(tmp_path / "a.csv", [FEED[0]]))
    altered = dict(FEED[0], last_seen_location="Somewhere else")
    summary = ingest("notifications", write_csv(tmp_path / "b.csv", [altered]))
    assert (summary.new, summary.quarantined) == (0, 1)
    assert episodes(use_db)["INC-1"].last_seen_location == "Park"


def test_json_array_json_lines_and_a_broken_file(use_db, tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([FEED[0], FEED[1]]))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in FEED[2:]) + "\n{not json\n")
    (tmp_path / "c.json").write_text("[{broken")
    assert ingest("notifications", tmp_path / "a.json").new == 2
    jsonl = ingest("notifications", tmp_path / "b.jsonl")
    assert (jsonl.new, jsonl.quarantined) == (2, 1)
    broken = ingest("notifications", tmp_path / "c.json")
    assert (broken.read, broken.new, broken.quarantined, broken.refused) == (0, 0, 0, 1)
    with session_scope(use_db) as session:
        reasons = {q.origin: q.reason for q in session.scalars(select(Quarantine))}
    assert reasons["c.json"].startswith("not valid JSON")
    assert len(episodes(use_db)) == 2


def test_outcomes_and_extra_columns_are_kept(use_db, tmp_path):
    rows = [dict(FEED[0], force_division="North")]
    ingest("notifications", write_csv(tmp_path / "p.csv", rows))
    outcomes = write_csv(
        tmp_path / "o.csv",
        [
            {
                "event_id": "E1",
                "recorded_at": "2026-03-31T12:00:00",
                "child_id": "P100",
                "incident_ref": "INC-1",
                "event": "rhi_completed",
                "by": "Alex",
                "rationale": "",
                "notes": "",
            },
            {
                "event_id": "E2",
                "recorded_at": "2026-03-31T12:00:00",
                "child_id": "P100",
                "incident_ref": "",
                "event": "strategy_meeting_not_required",
                "by": "TM",
                "rationale": "",
                "notes": "",
            },
        ],
    )
    summary = ingest("outcomes", outcomes, "case-management")
    assert (summary.new, summary.quarantined) == (1, 1)
    with session_scope(use_db) as session:
        payload = session.scalar(select(Notification.payload).where(Notification.message_id == "N1"))
        assert json.loads(payload)["force_division"] == "North"
        assert session.scalar(select(Quarantine.field)) == "rationale"


def test_a_drop_folder_moves_processed_files_to_the_archive(tmp_path):
    source = FolderSource(
        name="police", feed="notifications", type="folder", inbox=tmp_path / "in", archive=tmp_path / "archive"
    )
    source.inbox.mkdir()
    write_csv(source.inbox / "day1.csv", FEED)
    (source.inbox / "notes.txt").write_text("not a feed")
    [pending] = source.pending()
    source.archive_file(pending)
    write_csv(source.inbox / "day1.csv", FEED)
    source.archive_file(source.pending()[0])
    assert sorted(p.name for p in source.archive.iterdir()) == ["day1.1.csv", "day1.csv"]
    assert source.pending() == []


def test_an_http_feed_is_paged_retried_and_resumed_from_its_cursor(sqlite_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    calls: list[dict[str, str]] = []
    failures = {"left": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        calls.append(params)
        if failures["left"]:
            failures["left"] -= 1
            return httpx.Response(503)
        since = params.get("since")
        if since is None:
            return httpx.Response(200, json={"items": FEED[:2], "next": "p2", "cursor": "c1"})
        if since == "p2":
            return httpx.Response(200, json={"items": FEED[2:3], "next": None, "cursor": "c2"})
        assert since == "c2"
        return httpx.Response(200, json={"items": FEED[3:], "next": None, "cursor": "c3"})

    source = HttpSource(
        name="police-api", feed="notifications", type="http", url="https://police.test/feed", backoff_seconds=0
    )
    client = httpx.Client(transport=httpx.MockTransport(handler))
    first = ingest_http_source(source, client=client)
    assert (first.read, first.new) == (3, 3)
    second = ingest_http_source(source, client=client)
    assert (second.read, second.new) == (1, 1)
    assert [c.get("since") for c in calls] == [None, None, "p2", "c2"]


def test_the_bundled_damaged_file_is_quarantined_row_by_row():
    rows = list(read_file(DATA_DIR / "sample" / "damaged.csv"))
    assert rows and all(isinstance(r, RawRow) for r in rows)
    policy = load_policy(get_settings().policy_path)
    from missing_episodes.feeds import RowError, validate_row
    from missing_episodes.ingest import known_outcome_events

    errors = [validate_row("notifications", r.data, known_outcome_events(policy)) for r in rows]
    assert sum(isinstance(e, RowError) for e in errors) >= 6


def test_a_byte_that_is_not_utf8_quarantines_its_row_only(use_db, tmp_path):
    path = write_csv(tmp_path / "latin1.csv", FEED[:2])
    with path.open("ab") as handle:
        handle.write("N9,2026-04-01T10:00:00,missing,INC-9,,Jos\xe9,Pe\xf1a,2011-01-01,,,,,,,,\n".encode("latin-1"))
    write_csv(tmp_path / "rest.csv", FEED[2:])
    with path.open("ab") as handle:
        handle.write((tmp_path / "rest.csv").read_bytes().split(b"\n", 1)[1])
    summary = ingest("notifications", path)
    assert (summary.read, summary.new, summary.quarantined) == (5, 4, 1)
    with session_scope(use_db) as session:
        [kept] = session.scalars(select(Quarantine)).all()
    offset = path.read_bytes().index(b"\xe9")
    assert (kept.origin, kept.row_number, kept.field) == ("latin1.csv", 3, "first_name")
    assert kept.reason == f"not valid UTF-8 at byte {offset}"
    assert "Jos\\xe9" in kept.raw  # the bad byte kept, escaped, for a person


def _ingest_in_small_chunks(url: str, tmp_path: Path, monkeypatch) -> dict:
    """FEED with a conflicting copy and a bad row, two rows a chunk: incidents span chunks, messages are re-read."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    monkeypatch.setenv("MISSING_EPISODES_INGEST_CHUNK_SIZE", "2")
    rows = [FEED[0], message("B1", "2026-04-01T10:00:00", "lost", "INC-B1"), *FEED[1:], dict(FEED[0], notes="x")]
    folder = tmp_path / url.split(":")[0]
    folder.mkdir()
    summary = ingest("notifications", write_csv(folder / "police.csv", rows))
    assert (summary.read, summary.new, summary.duplicate, summary.quarantined) == (6, 4, 0, 2)
    with session_scope(url) as session:
        created = session.scalars(select(AuditEvent.entity_ref).where(AuditEvent.event == "episode_created")).all()
        assert sorted(created) == sorted(e.ref for e in session.scalars(select(Episode)))
    return snapshot(url)


def test_the_same_feed_in_small_chunks_gives_the_same_database_on_sqlite_and_postgresql(
    sqlite_url, pg_url, tmp_path, monkeypatch
):
    assert _ingest_in_small_chunks(sqlite_url, tmp_path, monkeypatch) == _ingest_in_small_chunks(
        pg_url, tmp_path, monkeypatch
    )


def test_a_big_load_keeps_postgresqls_statistics_current_so_lookups_stay_keyed(pg_url, tmp_path, monkeypatch):
    """Planned from the statistics of a table still empty, every chunk's key lookups scanned the whole table."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", pg_url)
    monkeypatch.setenv("MISSING_EPISODES_INGEST_CHUNK_SIZE", "500")
    rows = [message(f"BIG{n}", f"2026-04-01T{n % 24:02d}:00:00", "missing", f"INC-BIG{n}", child_id=f"P{n % 300}",
                    last_seen_at=f"2026-04-01T{n % 24:02d}:00:00") for n in range(2500)]
    summary = ingest("notifications", write_csv(tmp_path / "police.csv", rows))
    assert summary.new == 2500
    with session_scope(pg_url) as session:
        estimated = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'notification'"))
        analysed = session.scalar(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'notification'")
        )
    assert analysed is not None and estimated >= 1000  # analysed mid-load: after 1,000 rows, then on doubling
