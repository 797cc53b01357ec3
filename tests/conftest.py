"""Shared fixtures: fresh migrated databases on SQLite and PostgreSQL, Prefect's test harness, a sandboxed environment.

The contract other tests are written against:

* ``db_url`` -- parametrised ``sqlite`` / ``postgresql``: the URL of a fresh database, migrated to head with
  ``missing_episodes.db.upgrade``, private to the test and thrown away after it. ``sqlite_url`` and ``pg_url``
  give one kind only. PostgreSQL tests carry the ``postgres`` marker (``-m "not postgres"`` leaves them out).
* ``prefect_harness`` -- Prefect's test server, started once per session (per xdist worker); tests that request it
  are marked ``prefect`` automatically.
* Every test runs with ``MISSING_EPISODES_OUTPUT_DIR`` and ``MISSING_EPISODES_DATABASE_URL`` pointing into its own
  tmp_path, so nothing a test does lands in the repository.

Prefect is imported only inside ``prefect_harness``: the domain tests never pay for it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from missing_episodes.db.engine import copy_sqlite, make_engine, upgrade

# Environment set for the whole session (before any test module imports Prefect), restored at the end.
_session_env: dict[str, str | None] = {}
_session_dir: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Keep the session away from the developer's own Prefect profile, database and output directory."""
    global _session_dir
    _session_dir = Path(tempfile.mkdtemp(prefix="me-test-session-"))
    values = {
        # Prefect reads PREFECT_HOME when it is first imported (at collection), so this cannot wait for a fixture.
        "PREFECT_HOME": str(_session_dir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # A test server keeps its own database in SQLite; on a busy 2-core machine its services and the API collide
        # ("database is locked") and it answers 503 for a while. The client's default 5 retries (about a minute)
        # ran out in CI; 9 ride it out (the benchmarks' daily run needed the same).
        "PREFECT_CLIENT_MAX_RETRIES": "9",
        "MISSING_EPISODES_DATABASE_URL": f"sqlite:///{_session_dir / 'session.db'}",
        "MISSING_EPISODES_OUTPUT_DIR": str(_session_dir / "out"),
    }
    for key, value in values.items():
        _session_env[key] = os.environ.get(key)
        os.environ[key] = value


def pytest_unconfigure(config: pytest.Config) -> None:
    for key, value in _session_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by what they use, so ``-m "not prefect"`` / ``-m "not postgres"`` select reliably.

    Under xdist (``--dist loadgroup``, as scripts/test runs it) every Prefect test also goes to one worker: the
    harness costs ~20 s of CPU to start, and two workers each starting one on two cores was slower than one.
    """
    group_prefect = config.pluginmanager.hasplugin("xdist")
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "prefect_harness" in names:
            item.add_marker(pytest.mark.prefect)
            if group_prefect:
                item.add_marker(pytest.mark.xdist_group("prefect"))
        if "pg_url" in names:
            item.add_marker(pytest.mark.postgres)


# -- a sandboxed environment for every test ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are read from the environment at call time (config.get_settings), so this reaches all of them."""
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")


# -- databases -----------------------------------------------------------------------------------------------


def _dispose(url: str) -> None:
    """Close the pooled connections of the cached engine for ``url`` before its database goes away.

    ``make_engine`` is lru_cached per URL; clearing the cache afterwards means a later test never receives an
    engine whose database was dropped.
    """
    make_engine(url).dispose()
    make_engine.cache_clear()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (a migration costs ~100 ms, a copy ~1 ms)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    _dispose(url)
    return path


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (see tests/pg.py); skipped without binaries, except under CI where it fails."""
    from tests import pg

    try:
        server = pg.start()
    except pg.PostgresUnavailable as exc:
        if pg.in_ci():
            pytest.fail(f"CI is set and PostgreSQL is unavailable: {exc}", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pg_template(pg_server) -> Iterator[str]:
    """A database migrated once per session; tests get copies made with CREATE DATABASE … TEMPLATE."""
    name = pg_server.create_database(prefix="me_test_template")
    url = pg_server.url_for(name)
    try:
        upgrade(url)
        _dispose(url)  # a template must have no open connections to be copied
        yield name
    finally:
        _dispose(url)
        pg_server.drop_database(name)


def _fresh_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    template: Path = request.getfixturevalue("_sqlite_template")
    url = copy_sqlite(template, tmp_path / "test.db")
    try:
        yield url
    finally:
        _dispose(url)


def _fresh_postgres(request: pytest.FixtureRequest) -> Iterator[str]:
    # Looked up lazily so that a run selecting only SQLite tests never starts a server.
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("_pg_template")
    name = server.create_database(template=template)
    url = server.url_for(name)
    try:
        yield url
    finally:
        _dispose(url)
        server.drop_database(name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield from _fresh_sqlite(request, tmp_path)
    else:
        yield from _fresh_postgres(request)


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated SQLite database (a file in tmp_path)."""
    yield from _fresh_sqlite(request, tmp_path)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (``postgresql+psycopg://postgres@127.0.0.1:PORT/me_test_…``)."""
    yield from _fresh_postgres(request)


# -- Prefect -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test server with a throwaway database; ~15 s to start, so once per session (per xdist worker)."""
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    # The default 30 s start-up allowance is tight on a busy 2-core CI machine running two workers.
    with prefect_test_harness(server_startup_timeout=120):
        yield
