"""Hostile input, one kind at a time: whatever a row or a file holds, it affects itself only, on both databases.

NUL characters, lone surrogates, bytes that are not UTF-8, values longer than their columns, ids reused with
different content, files of the wrong kind, empty, binary or unreadable files. For every file ``read = new +
duplicate + quarantined``. (``tests/cli/test_hostile_feeds.py`` runs thousands of such rows through the CLI.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import AuditEvent, Child, Episode, Notification, Outcome, Quarantine
from missing_episodes.feeds import MESSAGE_ID_LENGTH, NUL_REASON, SURROGATE_REASON, column_length, columns_problem
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.sources import FolderSource
from missing_episodes.store import insert_ignoring_duplicates
from tests.builders.feeds import message, write_csv

GOOD = message(
    "G1", "2026-04-01T10:00:00", "missing", "INC-G1", child_id="P1", first_name="Amy", last_name="Stone",
    date_of_birth="2011-05-01", last_seen_at="2026-04-01T09:00:00",
)  # fmt: skip


def missing(nid: str, **fields: str) -> dict[str, str]:
    """A good missing notification of its own incident, with ``fields`` changed."""
    row = message(nid, "2026-04-01T10:00:00", "missing", f"INC-{nid}", child_id=f"P-{nid}",
                  last_seen_at="2026-04-01T09:00:00")  # fmt: skip
    row.update(fields)
    return row


@pytest.fixture
def use_db(db_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    return db_url


def quarantined(url: str) -> dict[tuple[str | None, int | None], Quarantine]:
    with session_scope(url) as session:
        rows = session.scalars(select(Quarantine)).all()
        session.expunge_all()
    return {(q.origin, q.row_number): q for q in rows}


def accounted(summary) -> bool:
    return summary.read == summary.new + summary.duplicate + summary.quarantined


def test_a_nul_character_anywhere_quarantines_its_row_and_the_rest_is_stored(use_db, tmp_path):
    rows = [
        GOOD,
        missing("N1", first_name="A\x00my", last_name="Stone", date_of_birth="2011-05-01"),
        missing("N2", notes="seen at\x00 the park"),
        missing("N3", last_seen_location="\x00"),
        {**missing("N4"), "force_division": "North\x00"},
    ]
    (tmp_path / "nul.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    summary = ingest_path("notifications", tmp_path / "nul.jsonl", "police")
    assert (summary.read, summary.new, summary.quarantined) == (5, 1, 4) and accounted(summary)
    kept = quarantined(use_db)
    assert {(n, kept[("nul.jsonl", n)].field) for n in (2, 3, 4, 5)} == {
        (2, "first_name"), (3, "notes"), (4, "last_seen_location"), (5, "force_division")
    }
    assert all(q.reason == NUL_REASON and "\\u0000" in q.raw for q in kept.values())
    outcomes = [
        {"event_id": "E1", "recorded_at": "2026-04-02T10:00:00", "child_id": "P1", "event": "rhi_completed",
         "notes": "said \x00 nothing"},
        {"event_id": "E2", "recorded_at": "2026-04-02T10:00:00", "child_id": "P1", "event": "rhi_completed"},
    ]  # fmt: skip
    write_csv(tmp_path / "outcomes.csv", outcomes, fields=["event_id", "recorded_at", "child_id", "event", "notes"])
    summary = ingest_path("outcomes", tmp_path / "outcomes.csv", "case-management")
    assert (summary.read, summary.new, summary.quarantined) == (2, 1, 1)
    assert quarantined(use_db)[("outcomes.csv", 1)].field == "notes"


def test_a_lone_surrogate_quarantines_its_row_only(use_db, tmp_path):
    lines = [json.dumps(GOOD), '{"notification_id": "S1", "first_name": "\\ud800", "event": "missing"}',
             json.dumps(missing("S2")), '{"notification_id": "S3", "\\udfff": "x"}']  # fmt: skip
    (tmp_path / "surrogate.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ingest_path("notifications", tmp_path / "surrogate.jsonl", "police")
    assert (summary.read, summary.new, summary.quarantined, summary.refused) == (4, 2, 2, 0)
    kept = quarantined(use_db)
    first, key = kept[("surrogate.jsonl", 2)], kept[("surrogate.jsonl", 4)]
    assert (first.field, first.reason) == ("first_name", SURROGATE_REASON) and "\\ud800" in first.raw
    assert (key.field, key.reason) == ("row", SURROGATE_REASON)


def test_a_byte_that_is_not_utf8_in_json_lines_quarantines_its_line_only(use_db, tmp_path):
    good = [json.dumps(r).encode() for r in (GOOD, missing("U2"), missing("U3"))]
    bad = json.dumps(missing("U1", first_name="Zoe")).encode().replace(b"Zoe", b"Zo\xeb")
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b"\n".join([good[0], bad, b"{not json \xff", good[1], good[2]]) + b"\n")
    summary = ingest_path("notifications", path, "police")
    assert (summary.read, summary.new, summary.quarantined) == (5, 3, 2)
    kept = quarantined(use_db)
    data = path.read_bytes()
    at_e, at_ff = data.index(b"\xeb"), data.index(b"\xff")
    assert kept[("bytes.jsonl", 2)].field == "first_name"
    assert kept[("bytes.jsonl", 2)].reason == f"not valid UTF-8 at byte {at_e}"
    assert kept[("bytes.jsonl", 3)].reason == f"not valid UTF-8 at byte {at_ff}"


def test_an_id_reused_with_different_content_in_one_chunk_is_quarantined(use_db, tmp_path):
    rows = [GOOD, dict(GOOD), dict(GOOD, last_seen_location="Elsewhere"), missing("R2")]
    summary = ingest_path("notifications", write_csv(tmp_path / "reused.csv", rows), "police")
    assert (summary.read, summary.new, summary.duplicate, summary.quarantined) == (4, 2, 1, 1)
    conflict = quarantined(use_db)[("reused.csv", 3)]
    assert conflict.field == "notification_id" and "different content" in conflict.reason
    with session_scope(use_db) as session:
        assert session.scalar(select(Episode.last_seen_location).where(Episode.incident_ref == "INC-G1")) is None


def test_values_longer_than_their_columns_are_quarantined_never_cut(use_db, tmp_path):
    long_id = "N" * (MESSAGE_ID_LENGTH + 1)
    rows = [
        GOOD,
        missing(long_id + "A"),
        missing(long_id + "B"),
        missing("L1", incident_ref="I" * 150),
        missing("L2", child_id="C" * 65),
        missing("L3", first_name="F" * 5004, last_name="Stone", date_of_birth="2011-05-01"),
        missing("L4", responsible_authority="A" * 201),
        missing("L5", first_name="\ufdfa" * 40, last_name="Stone", date_of_birth="2011-05-01"),
    ]
    summary = ingest_path("notifications", write_csv(tmp_path / "long.csv", rows), "police")
    assert (summary.read, summary.new, summary.quarantined) == (8, 1, 7)
    fields = {n: q.field for (_, n), q in quarantined(use_db).items()}
    assert fields == {2: "notification_id", 3: "notification_id", 4: "incident_ref", 5: "child_id",
                      6: "first_name", 7: "responsible_authority", 8: "first_name"}  # fmt: skip
    long_outcome = {"event_id": "E1", "recorded_at": "2026-04-02T10:00:00", "child_id": "P1",
                    "event": "contact_made", "who": "W" * 201}  # fmt: skip
    (tmp_path / "o.json").write_text(json.dumps([long_outcome]), encoding="utf-8")
    assert ingest_path("outcomes", tmp_path / "o.json", "case-management").quarantined == 1
    with session_scope(use_db) as session:
        assert session.scalar(select(func.count()).select_from(Outcome)) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_the_database_refuses_an_over_long_value_rather_than_cutting_it(use_db):
    """Behind the contract: the bulk insert must fail loudly, never store a cut value (PostgreSQL's varchar cast)."""
    too_long = "x" * (column_length(Child.phone) + 1)
    with pytest.raises(Exception) as caught, session_scope(use_db) as session:
        if session.get_bind().dialect.name == "sqlite":
            pytest.skip("SQLite does not enforce VARCHAR lengths; the contract keeps over-long values out")
        insert_ignoring_duplicates(session, Child, [{"ref": "CH-X", "phone": too_long}])
    assert "too long" in str(caught.value)


def test_a_file_of_another_feed_is_refused_whole_with_one_reason(use_db, tmp_path):
    outcomes = [{"event_id": f"E{n}", "recorded_at": "2026-04-02T10:00:00", "child_id": "P1",
                 "event": "rhi_completed"} for n in range(20)]  # fmt: skip
    path = write_csv(tmp_path / "outcomes.csv", outcomes)
    as_notifications = ingest_path("notifications", path, "police")
    assert (as_notifications.read, as_notifications.quarantined, as_notifications.refused) == (0, 0, 1)
    assert as_notifications.problems == [
        "outcomes.csv: the header does not match the notifications feed: missing incident_ref, notification_id, "
        "sent_at (it has the columns of the outcomes feed)"
    ]
    as_register = ingest_path("children", path, "register")
    assert as_register.refused == 1 and "it has the columns of the outcomes feed" in as_register.problems[0]
    (tmp_path / "outcomes.jsonl").write_text("".join(json.dumps(o) + "\n" for o in outcomes), encoding="utf-8")
    assert ingest_path("notifications", tmp_path / "outcomes.jsonl", "police").refused == 1
    with session_scope(use_db) as session:
        assert session.scalar(select(func.count()).select_from(Child)) == 0
        refusals = session.scalars(select(AuditEvent.detail).where(AuditEvent.event == "file_refused")).all()
        assert len(refusals) == 3 and all("outcomes" in json.loads(d)["file"] for d in refusals)


def test_empty_and_header_only_files_are_reported(use_db, tmp_path):
    (tmp_path / "zero.csv").write_bytes(b"")
    write_csv(tmp_path / "header.csv", [GOOD])
    (tmp_path / "header.csv").write_text((tmp_path / "header.csv").read_text().splitlines()[0] + "\n")
    (tmp_path / "none.json").write_text("[]")
    problems = []
    for name in ("zero.csv", "header.csv", "none.json"):
        summary = ingest_path("notifications", tmp_path / name, "police")
        assert (summary.read, summary.empty, summary.refused) == (0, 1, 0)
        problems += summary.problems
    assert problems == ["zero.csv: empty file (0 bytes)",
                        "header.csv: no rows (a header, an empty array or blank lines only)",
                        "none.json: no rows (a header, an empty array or blank lines only)"]  # fmt: skip
    with session_scope(use_db) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.event == "file_empty")) == 3


def test_binary_and_broken_files_are_refused_and_their_records_stored(use_db, tmp_path):
    (tmp_path / "image.csv").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "broken.json").write_bytes(b'[{"notification_id": "X\x00", \xff')
    (tmp_path / "object.json").write_text('{"notification_id": "X"}')
    (tmp_path / "notes.txt").write_text("not a feed")
    write_csv(tmp_path / "excel.csv", [GOOD])
    (tmp_path / "excel.csv").write_bytes((tmp_path / "excel.csv").read_text().encode("utf-16"))
    reasons = {}
    for name in ("image.csv", "broken.json", "object.json", "notes.txt", "excel.csv"):
        summary = ingest_path("notifications", tmp_path / name, "police")
        assert (summary.read, summary.refused) == (0, 1)
        reasons[name] = summary.problems[0].split(": ", 1)[1]
    assert reasons["image.csv"].startswith("not a text file")
    assert reasons["broken.json"].startswith("not valid JSON")
    assert reasons["object.json"] == "a JSON feed file must hold an array of objects"
    assert reasons["notes.txt"].startswith("unknown file type '.txt'")
    assert reasons["excel.csv"] == "UTF-16 text, not UTF-8 (save or export the file as UTF-8)"
    kept = quarantined(use_db)
    image = kept[("image.csv", None)]
    assert image.field == "file" and "\\x00\x01" in image.raw and "\\xff" in image.raw  # NUL escaped, stored
    assert "\\xff" in kept[("broken.json", None)].raw


def test_an_unreadable_file_is_refused(use_db, tmp_path):
    """A file whose bytes cannot be read (an I/O error): here a link to this process's memory at address 0."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc/self/mem")
    (tmp_path / "unreadable.csv").symlink_to("/proc/self/mem")
    summary = ingest_path("notifications", tmp_path / "unreadable.csv", "police")
    assert summary.refused == 1 and "the file cannot be read (OSError" in summary.problems[0]


def test_the_same_bad_row_replayed_does_not_grow_the_quarantine(use_db, tmp_path):
    rows = [GOOD, missing("B1", event="lost"), missing("B2", sent_at="not a time")]
    for name in ("day1.csv", "day1-again.csv", "day1.csv"):
        summary = ingest_path("notifications", write_csv(tmp_path / name, rows), "police")
        assert (summary.read, summary.quarantined) == (3, 2)
    assert len(quarantined(use_db)) == 2


def test_a_register_naming_a_child_twice_keeps_the_first_row(use_db, tmp_path, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_INGEST_CHUNK_SIZE", "2")
    first = {"child_id": "P1", "first_name": "Amy", "last_name": "Stone", "date_of_birth": "2011-05-01",
             "placement": "Home A", "placement_distance_miles": "3"}  # fmt: skip
    rows = [first, {**first, "child_id": "P2"}, dict(first), {**first, "placement": "Home B"},
            {**first, "child_id": "P3", "placement_distance_miles": "nan"},
            {**first, "child_id": "P4", "phone": "0" * 65}]  # fmt: skip
    summary = ingest_path("children", write_csv(tmp_path / "register.csv", rows, [*first, "phone"]), "register")
    assert (summary.read, summary.new, summary.duplicate, summary.quarantined) == (6, 2, 1, 3)
    fields = {n: q.field for (_, n), q in quarantined(use_db).items()}
    assert fields == {4: "child_id", 5: "placement_distance_miles", 6: "phone"}
    with session_scope(use_db) as session:
        assert session.scalar(select(Child.placement).where(Child.person_id == "P1")) == "Home A"


def test_a_drop_folder_moves_a_refused_file_to_failed_with_its_reason(tmp_path):
    source = FolderSource(name="police", feed="notifications", type="folder", inbox=tmp_path / "inbox",
                          archive=tmp_path / "archive")  # fmt: skip
    source.inbox.mkdir()
    for _ in range(2):
        (source.inbox / "bad.json").write_text("[{")
        moved = source.fail_file(source.pending()[0], "not valid JSON")
    assert source.failed_folder == tmp_path / "failed" and source.pending() == []
    assert sorted(p.name for p in source.failed_folder.iterdir()) == [
        "bad.1.json", "bad.1.json.reason.txt", "bad.json", "bad.json.reason.txt"
    ]
    assert moved.with_name("bad.1.json.reason.txt").read_text() == "not valid JSON\n"


def test_a_files_columns_are_judged_against_its_feed_and_the_stricter_feeds():
    notification = list(GOOD)
    outcome = ["event_id", "recorded_at", "child_id", "event", "notes"]
    assert columns_problem("notifications", notification) is None
    assert columns_problem("children", ["child_id", "first_name", "placement"]) is None
    assert columns_problem("children", outcome) == (
        "the header does not match the children feed (it has the columns of the outcomes feed)"
    )
    assert columns_problem("notifications", [c for c in notification if c != "incident_ref"]) == (
        "the header does not match the notifications feed: missing incident_ref"
    )
    # A JSON file's first object is one row, perhaps a bad one: only another feed's columns refuse the file.
    assert columns_problem("notifications", ["notification_id", "sent_at"], False) is None
    assert columns_problem("notifications", outcome, False) is not None
