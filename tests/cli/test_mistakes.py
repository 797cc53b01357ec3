"""Every user mistake is one line on stderr naming the problem, exit status 2, no traceback, no file created.

The table holds the mistakes a newcomer made on a fresh clone (issue 18) and more: bad times and dates, a policy
file that does not validate, database URLs that are not URLs, name an unsupported database, a server nobody
listens on or a folder that does not exist, commands on a database that is missing, empty or not migrated,
refs that do not exist, out-of-range numbers. Each runs in-process through Typer's runner in an empty folder with
its own settings; a few run as real processes, to prove Prefect is never started and the answer is quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import make_engine


@dataclass(frozen=True)
class Case:
    """``args`` run with the database ``db`` (missing, migrated, empty file, not a database) and ``env``;
    stderr must contain every one of ``says`` (case-insensitive)."""

    name: str
    args: tuple[str, ...]
    says: tuple[str, ...]
    db: str = "missing"
    env: dict[str, str] = field(default_factory=dict)


BAD_YAML = "rules: [unclosed\n"
INVALID_POLICY = "version: 1\nrules:\n  - id: x\n    action: nonsense\n"
PG_NOBODY = "postgresql://me@127.0.0.1:1/missing"

CASES = [
    # times and dates
    Case("as-of-word", ("actions", "--as-of", "yesterday"), ("--as-of", "yesterday", "ISO 8601")),
    Case("as-of-month-13", ("actions", "--as-of", "2026-13-40T08:30"), ("--as-of", "2026-13-40")),
    Case("as-of-spring-gap", ("actions", "--as-of", "2026-03-29T01:30"), ("--as-of", "does not exist")),
    Case("care-leavers-as-of-word", ("care-leavers", "--as-of", "yesterday"), ("--as-of", "yesterday")),
    Case("due-before-word", ("actions", "--due-before", "soon"), ("--due-before", "soon")),
    Case("run-date-month-13", ("run", "--date", "2026-13-40"), ("--date", "2026-13-40", "YYYY-MM-DD")),
    Case("run-date-1900", ("run", "--date", "1900-01-01"), ("--date", "1900-01-01")),
    Case("briefing-date-word", ("briefing", "--date", "tomorrow"), ("--date", "tomorrow")),
    Case("weekly-wednesday", ("weekly-list", "--week-ending", "2026-11-04"), ("--week-ending", "not a Sunday")),
    Case("weekly-not-date", ("weekly-list", "--week-ending", "last week"), ("--week-ending", "YYYY-MM-DD")),
    Case("letter-day-31-nov", ("form", "written-confirmation", "--child", "CH-X", "--on", "2026-11-31"),
         ("--on", "2026-11-31")),
    Case("annex-a-30-feb", ("export", "annex-a", "--date", "2026-02-30", "--out", "o"), ("--date", "2026-02-30")),
    Case("board-backwards", ("report", "board", "--from", "2026-11-01", "--to", "2026-10-01", "--out", "o"),
         ("--to", "before")),
    Case("oversight-not-date", ("report", "oversight", "--date", "nope", "--out", "o"), ("--date", "nope")),
    Case("fixed-clock-word", ("actions",), ("MISSING_EPISODES_NOW",), env={"MISSING_EPISODES_NOW": "yesterday"}),
    Case("chunk-size-word", ("actions",), ("not a number", "'many'"),
         env={"MISSING_EPISODES_INGEST_CHUNK_SIZE": "many"}),
    # choices and numbers
    Case("kind-bogus", ("actions", "--kind", "bogus"), ("--kind", "bogus", "return_home_interview")),
    Case("json-and-csv", ("actions", "--json", "--csv"), ("--json", "--csv")),
    Case("names-in-json", ("actions", "--names", "--json"), ("--names",)),
    Case("worker-empty", ("actions", "--worker", " "), ("--worker", "empty")),
    Case("quarantine-limit-negative", ("quarantine", "--limit", "-5"), ("--limit",)),
    Case("quarantine-limit-zero", ("quarantine", "--limit", "0"), ("--limit",)),
    Case("quarantine-offset-negative", ("quarantine", "--offset", "-1"), ("--offset",)),
    Case("quarantine-offset-and-page", ("quarantine", "--offset", "5", "--page", "2"), ("--offset", "--page")),
    Case("quarantine-id-zero", ("quarantine", "show", "0"), ("ID",)),
    Case("resolve-without-note", ("quarantine", "resolve", "1"), ("--note",)),
    Case("resolve-empty-note", ("quarantine", "resolve", "1", "--note", " "), ("--note", "empty")),
    Case("retry-bad-set", ("quarantine", "retry", "1", "--set", "nonsense"), ("--set", "FIELD=VALUE")),
    Case("ssda903-1900", ("export", "ssda903", "--year", "1900", "--out", "o"), ("--year", "1900")),
    Case("ssda903-word", ("export", "ssda903", "--year", "last", "--out", "o"), ("--year",)),
    Case("ingest-kind-bogus", ("ingest", "--kind", "bogus", "x.csv"), ("--kind", "bogus")),
    Case("ingest-missing-file", ("ingest", "--kind", "notifications", "missing.csv"), ("missing.csv",)),
    Case("generate-episodes-zero", ("generate", "--episodes", "0", "--out", "g"), ("--episodes",)),
    Case("generate-over-sample", ("generate",), ("--force", "sample")),
    Case("recompute-empty-reason", ("recompute", "--reason", ""), ("--reason", "empty")),
    Case("unknown-command", ("frobnicate",), ("frobnicate",)),
    Case("unknown-option", ("actions", "--bogus"), ("--bogus",)),
    # the database
    Case("actions-no-database", ("actions", "--as-of", "2026-11-02T08:30", "--open"), ("no database", "db upgrade")),
    Case("care-leavers-no-database", ("care-leavers",), ("no database", "db upgrade")),
    Case("care-leavers-empty-file", ("care-leavers", "--csv"), ("no tables", "db upgrade"), db="empty"),
    Case("quarantine-no-database", ("quarantine",), ("no database", "db upgrade")),
    Case("ssda903-no-database", ("export", "ssda903", "--year", "2027", "--out", "o"), ("no database",)),
    Case("ssd-no-database", ("export", "ssd", "--out", "o"), ("no database",)),
    Case("briefing-no-database", ("briefing", "--date", "2026-11-02"), ("no database", "db upgrade")),
    Case("notices-no-database", ("notices",), ("no database", "db upgrade")),
    Case("record-no-database", ("record", "rhi_completed", "--child", "P000101"), ("no database", "db upgrade")),
    Case("notify-no-database", ("notify",), ("no database", "db upgrade")),
    Case("weekly-no-database", ("weekly-list", "--week-ending", "2026-11-01"), ("no database",)),
    Case("recompute-no-database", ("recompute", "--reason", "policy change"), ("no database",)),
    Case("rhi-record-no-database", ("form", "rhi-record", "--episode", "EP-NOPE"), ("no database",)),
    Case("actions-empty-file", ("actions",), ("no tables", "db upgrade"), db="empty"),
    Case("actions-not-sqlite", ("actions",), ("not a SQLite database",), db="garbage"),
    Case("url-not-a-url", ("actions",), ("notaurl", "not a URL"), env={"MISSING_EPISODES_DATABASE_URL": "notaurl"}),
    Case("url-mysql", ("actions",), ("mysql", "not supported"),
         env={"MISSING_EPISODES_DATABASE_URL": "mysql://me@localhost/db"}),
    Case("url-memory", ("actions",), ("names no file",), env={"MISSING_EPISODES_DATABASE_URL": "sqlite://"}),
    Case("url-postgres-nobody", ("actions",), ("PostgreSQL", "127.0.0.1"),
         env={"MISSING_EPISODES_DATABASE_URL": PG_NOBODY}),
    Case("upgrade-postgres-nobody", ("db", "upgrade"), ("PostgreSQL",),
         env={"MISSING_EPISODES_DATABASE_URL": PG_NOBODY}),
    Case("upgrade-missing-folder", ("db", "upgrade"), ("no folder", "nofolder"),
         env={"MISSING_EPISODES_DATABASE_URL": "sqlite:///nofolder/x.db"}),
    Case("run-missing-folder", ("run",), ("no folder",),
         env={"MISSING_EPISODES_DATABASE_URL": "sqlite:///nofolder/x.db"}),
    Case("ingest-url-not-a-url", ("ingest", "--kind", "notifications", "feed.csv"), ("not a URL",),
         env={"MISSING_EPISODES_DATABASE_URL": "notaurl"}),
    # the policy file
    Case("policy-bad-yaml", ("run",), ("not valid YAML", "MISSING_EPISODES_POLICY"), env={"POLICY": BAD_YAML}),
    Case("policy-invalid", ("briefing", "--date", "2026-11-02"), ("invalid policy",), db="migrated",
         env={"POLICY": INVALID_POLICY}),
    Case("policy-missing", ("ingest", "--kind", "notifications", "feed.csv"), ("policy file not found",),
         env={"MISSING_EPISODES_POLICY": "no-such-policy.yaml"}),
    # refs that are not there (a migrated, empty database)
    Case("serious-notification-nope", ("form", "serious-notification", "--episode", "EP-NOPE"),
         ("no episode EP-NOPE",), db="migrated"),
    Case("rhi-record-nope", ("form", "rhi-record", "--episode", "EP-NOPE"), ("no episode EP-NOPE",), db="migrated"),
    Case("written-confirmation-nope", ("form", "written-confirmation", "--child", "CH-NOPE"), ("no child CH-NOPE",),
         db="migrated"),
    Case("quarantine-show-nope", ("quarantine", "show", "999"), ("no quarantine row 999",), db="migrated"),
    Case("quarantine-resolve-nope", ("quarantine", "resolve", "999", "--note", "done"), ("no quarantine row 999",),
         db="migrated"),
    Case("quarantine-retry-nope", ("quarantine", "retry", "999"), ("no quarantine row 999",), db="migrated"),
    Case("out-is-a-file", ("export", "ssd", "--out", "feed.csv"), ("--out", "not a folder"), db="migrated"),
]


def test_the_table_is_long_enough() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 40


def _close_connections() -> None:
    url = os.environ["MISSING_EPISODES_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        make_engine(url).dispose()
    make_engine.cache_clear()


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*")}


def _prepare(case: Case, work: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working folder with a feed file (for ``ingest``) and the case's database and settings."""
    monkeypatch.chdir(work)
    (work / "feed.csv").write_text("message_id,sent_at\n", encoding="utf-8")
    database = work / "state.db"
    if case.db == "migrated":
        database.write_bytes(template.read_bytes())
    elif case.db == "empty":
        database.touch()
    elif case.db == "garbage":
        database.write_text("not a database\n", encoding="utf-8")
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(work / "out"))
    for name, value in case.env.items():
        if name == "POLICY":
            (work / "policy.yaml").write_text(value, encoding="utf-8")
            monkeypatch.setenv("MISSING_EPISODES_POLICY", str(work / "policy.yaml"))
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture
def template(_sqlite_template: Path) -> Path:
    return _sqlite_template


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_mistake_is_one_line_and_exit_2(case: Case, tmp_path: Path, template: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _prepare(case, work, template, monkeypatch)
    before = _files(tmp_path)
    result = CliRunner().invoke(app, list(case.args), catch_exceptions=False)
    _close_connections()  # SQLite's -wal/-shm files live while a pooled connection does (a process ends them)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for words in case.says:
        assert words.lower() in lines[0].lower(), (words, lines[0])
    assert "Traceback" not in result.output and result.stdout == ""
    assert _files(tmp_path) == before  # nothing created: no database, no output folder, no log


def test_generate_over_the_bundled_sample_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = DATA_DIR / "sample"
    stamps = {path: path.stat().st_mtime_ns for path in sample.iterdir()}
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["generate"])
    assert result.exit_code == 2 and "--force" in result.stderr
    assert {path: path.stat().st_mtime_ns for path in sample.iterdir()} == stamps


def _real(args: list[str], work: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    command = Path(sys.executable).with_name("missing-episodes")
    started = time.monotonic()
    completed = subprocess.run([str(command), *args], cwd=work, env={**os.environ, **env}, capture_output=True,
                               text=True, timeout=120, check=False)
    return completed, time.monotonic() - started


@pytest.mark.parametrize(
    ("args", "db", "says"),
    [
        (["actions", "--as-of", "yesterday"], "missing", "yesterday"),
        (["form", "serious-notification", "--episode", "EP-NOPE"], "migrated", "no episode EP-NOPE"),
        (["actions", "--open"], "postgres-nobody", "PostgreSQL"),
        (["run"], "bad-policy", "not valid YAML"),
    ],
    ids=["as-of", "serious-notification", "postgres", "policy"],
)
def test_a_real_process_answers_a_mistake_in_one_line(
    args: list[str], db: str, says: str, tmp_path: Path, template: Path
) -> None:
    """As a user runs it: the real entry point, one line, exit 2, nothing written (no Prefect home either)."""
    work = tmp_path / "work"
    work.mkdir()
    database = work / "state.db"
    env = {"MISSING_EPISODES_DATABASE_URL": f"sqlite:///{database}", "MISSING_EPISODES_OUTPUT_DIR": str(work / "out"),
           "PREFECT_HOME": str(work / "prefect")}
    if db == "migrated":
        database.write_bytes(template.read_bytes())
    elif db == "postgres-nobody":
        env["MISSING_EPISODES_DATABASE_URL"] = PG_NOBODY
    elif db == "bad-policy":
        (work / "policy.yaml").write_text(BAD_YAML, encoding="utf-8")
        env["MISSING_EPISODES_POLICY"] = str(work / "policy.yaml")
    before = _files(work)
    completed, seconds = _real(args, work, env)
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and completed.stdout == "", completed.stderr
    assert _files(work) == before and not (work / "prefect").exists()
    # No time limit here (a shared 2-core machine took 16-20 s to start Python and SQLAlchemy under load); that
    # Prefect is never imported is proved in tests/cli/test_failures_and_progress.py.
    assert seconds < 120
