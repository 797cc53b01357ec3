"""The checks every command makes first avoid SQLAlchemy where they can (``cli.checks``): a plain SQLite URL is read
without ``make_url``, the migrations folder is found without importing ``missing_episodes.db``. Each shortcut must
give what the long way gives, and a command line start must not import the heavy libraries at all."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli import checks
from missing_episodes import sqlite_support
from missing_episodes.db.engine import MIGRATIONS_DIR

PLAIN = ["sqlite:///var/x.db", "sqlite:////tmp/a b/x.db", "sqlite+pysqlite:///rel/x.sqlite", "sqlite:///./x.db",
         "sqlite:///C:/data/x.db", "sqlite:////srv/data/missing-episodes.db"]
IN_MEMORY = ["sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true", "sqlite://", "sqlite:///"]


@pytest.mark.parametrize("url", PLAIN)
def test_a_plain_sqlite_url_reads_as_sqlalchemy_reads_it(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    assert checks._PLAIN_SQLITE_URL.fullmatch(url)
    assert checks.database(url) == checks.Database(url, parsed.render_as_string(hide_password=True), "sqlite",
                                                   Path(parsed.database))


@pytest.mark.parametrize("url", IN_MEMORY)
def test_an_in_memory_sqlite_url_is_still_refused(url: str) -> None:
    with pytest.raises(checks.Mistake, match="names no file"):
        checks.database(url)


def test_the_migrations_folder_the_schema_check_reads_holds_alembic_s_scripts() -> None:
    assert checks.MIGRATIONS_DIR == MIGRATIONS_DIR
    assert (MIGRATIONS_DIR / "env.py").is_file() and any((MIGRATIONS_DIR / "versions").glob("0001_*.py"))


def test_starting_the_command_line_imports_no_heavy_library() -> None:
    probe = ("import sys; from cli import app; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'holidays', 'rich', 'pandas', "
             "'jinja2', 'prefect'}))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_a_sqlite_without_json_functions_is_one_line_before_anything_starts(monkeypatch, tmp_path: Path) -> None:
    """Key lookups read their keys through ``json_each`` (``store.one_of``): a Python whose SQLite lacks it is
    told so at the command's first check, not by a traceback from deep in a flow."""
    class OldSqlite:
        def execute(self, statement: str) -> None:
            raise sqlite3.OperationalError("no such function: json_valid")

        def close(self) -> None:
            pass

    monkeypatch.setattr(sqlite_support.sqlite3, "connect", lambda *args, **kwargs: OldSqlite())
    target = tmp_path / "x.db"
    with pytest.raises(checks.Mistake, match=r"has no JSON functions \(no such function: json_valid\): "
                                             r"missing-episodes needs SQLite 3\.38 or later"):
        checks.writable_database(f"sqlite:///{target}")
    assert not target.exists()


def test_this_python_s_sqlite_has_the_json_functions() -> None:
    assert sqlite_support.json_functions_problem() is None
