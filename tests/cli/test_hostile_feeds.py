"""More than 10,000 hostile rows and every kind of broken file through the command line, on SQLite and PostgreSQL.

The corpus (``tests/builders/hostile.py``) says what each file must give; the drop folders are read with
``missing-episodes ingest-sources`` in this process. For every file: ``read = new + duplicate + quarantined`` and
each count as expected, every quarantined row in the database with its source, row, field and reason, every good
row stored, and each file that cannot be used moved to ``failed/`` with its reason while every other file carries
on. A replay stores nothing and adds no quarantine record.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli import app
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import AuditEvent, Child, Notification, Quarantine
from tests.builders.hostile import Corpus, build_corpus

FILE_LINE = re.compile(r"^  (\S+): read (\d+), new (\d+), duplicate (\d+), quarantined (\d+)$", re.MULTILINE)
SOURCES = {"children": "register", "notifications": "police", "outcomes": "case-management"}


def ingest_sources(corpus: Corpus) -> tuple[int, str, dict[str, tuple[int, ...]]]:
    result = CliRunner().invoke(app, ["ingest-sources", "--sources", str(corpus.sources_file), "--no-rules"])
    # No exception escaped the command (exit 1 is a SystemExit: files were refused).
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = {m[0]: tuple(int(n) for n in m[1:]) for m in FILE_LINE.findall(result.output)}
    return result.exit_code, result.output, lines


@pytest.mark.slow  # 52-73 s a database on this project's shared 2-core machine; each kind alone: test_ingest_hostile
def test_hostile_feeds_through_the_cli(prefect_harness, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_INGEST_CHUNK_SIZE", "700")  # reused ids within and across chunks
    corpus = build_corpus(tmp_path / "corpus")
    assert corpus.hostile_rows >= 10_000

    code, output, lines = ingest_sources(corpus)
    assert code == 1  # files were refused: documented; every other file was ingested
    refused = {name for name, e in corpus.files.items() if e.refused}
    empty = {name for name, e in corpus.files.items() if e.empty}
    for name, expected in corpus.files.items():
        read, new, duplicate, quarantined = lines[name]
        assert (read, new, duplicate, quarantined) == (
            expected.read, expected.new, expected.duplicate, expected.quarantined
        ), name  # fmt: skip
        assert read == new + duplicate + quarantined, name
        folder = corpus.inboxes[expected.feed].parent
        assert not (corpus.inboxes[expected.feed] / name).exists(), name
        if name in refused:
            reason = (folder / "failed" / f"{name}.reason.txt").read_text()
            assert f"warning: {name}: {reason.strip()}" in output
            assert (folder / "failed" / name).is_symlink() or (folder / "failed" / name).is_file()
        else:
            assert (folder / "archive" / name).is_file(), name
    for name in empty:
        assert re.search(rf"^warning: {re.escape(name)}: (empty file|no rows)", output, re.MULTILINE)
    assert refused >= {"binary.csv", "broken.json", "object.json", "misfiled-outcomes.csv", "bad-header.csv"}

    with session_scope(db_url) as session:
        records = session.scalars(select(Quarantine)).all()
        rows = {(q.origin, q.row_number): q for q in records if q.row_number is not None}
        files = {q.origin: q for q in records if q.row_number is None}
        for name, expected in corpus.files.items():
            for number, field in expected.fields.items():
                kept = rows.pop((name, number))
                assert kept.field == field and kept.reason, (name, number, kept.field, kept.reason)
                assert kept.source == SOURCES[expected.feed] and kept.raw
        assert rows == {}  # no quarantine record the corpus did not expect
        assert set(files) == refused and all(q.field == "file" and q.reason for q in files.values())
        stored = set(session.scalars(select(Notification.message_id)))
        expected_ids = {i for e in corpus.files.values() if e.feed != "children" for i in e.stored}
        assert stored == expected_ids
        registered = set(session.scalars(select(Child.person_id).where(Child.person_id.like("hostile-register%"))))
        assert registered == corpus.files["hostile-register.csv"].stored
        alerts = session.scalars(select(AuditEvent.detail).where(AuditEvent.event == "file_refused")).all()
        assert sorted(json.loads(detail)["file"] for detail in alerts) == sorted(refused)
        assert session.scalar(select(func.count()).where(AuditEvent.event == "file_empty")) == len(empty)
        quarantined = session.scalar(select(func.count()).select_from(Quarantine))

    # The same files again (the smaller ones, one of each form): nothing new, no quarantine record added.
    replayed = ("hostile-register.csv", "hostile-c.json", "surrogate.jsonl", "hostile-outcomes.csv", "zero.csv")
    for name in replayed:
        expected = corpus.files[name]
        archived = corpus.inboxes[expected.feed].parent / "archive" / name
        shutil.copy(archived, corpus.inboxes[expected.feed] / f"again-{name}")
    code, output, lines = ingest_sources(corpus)
    assert code == 0, output
    for name in replayed:
        expected = corpus.files[name]
        read, new, duplicate, quarantined_again = lines[f"again-{name}"]
        assert (read, new, quarantined_again) == (expected.read, 0, expected.quarantined), name
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Quarantine)) == quarantined

    # A file of the wrong kind named on the command line: refused whole, one reason, exit 1.
    misfiled = corpus.inboxes["notifications"].parent / "failed" / "misfiled-outcomes.csv"
    result = CliRunner().invoke(app, ["ingest", "--kind", "notifications", "--no-rules", str(misfiled)])
    assert result.exit_code == 1
    assert "notifications: read 0, new 0, duplicate 0, quarantined 0" in result.output
    assert "warning: misfiled-outcomes.csv: the header does not match the notifications feed" in result.output


@pytest.mark.slow
def test_a_bad_file_in_an_inbox_leaves_the_main_job_exit_0_with_its_briefing(prefect_harness, sqlite_url, tmp_path,
                                                                             monkeypatch):
    """``missing-episodes run`` on the configured feeds: the bad file goes to failed/, the rest and the briefing are
    done, and the exit status is 0 (a warning names the file)."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    corpus = build_corpus(tmp_path / "corpus", notifications=200)
    for expected in corpus.files.values():  # keep a good file, a surrogate row, a broken and an empty one
        if expected.name not in ("hostile-a.csv", "surrogate.jsonl", "broken.json", "zero.csv"):
            path = corpus.inboxes[expected.feed] / expected.name
            path.unlink()
    monkeypatch.setenv("MISSING_EPISODES_SOURCES", str(corpus.sources_file))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--no-sample", "--date", "2026-06-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: broken.json: not valid JSON" in result.output
    assert "warning: zero.csv: empty file (0 bytes)" in result.output
    assert (corpus.inboxes["notifications"].parent / "failed" / "broken.json").is_file()
    assert list(out.glob("briefing/briefing-2026-06-01.*"))
    with session_scope(sqlite_url) as session:
        stored = session.scalar(select(func.count()).select_from(Notification))
    expected = corpus.files["hostile-a.csv"].new + corpus.files["surrogate.jsonl"].new
    assert stored == expected

