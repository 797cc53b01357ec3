"""A throwaway PostgreSQL server for one test session (one per xdist worker).

Production runs on PostgreSQL while the embedded default is SQLite; the two disagree on enough (time zones,
triggers, constraint timing) that the store is tested on both. Nobody should have to install or configure a
server to run the tests, so the session starts its own from the PostgreSQL binaries: ``initdb`` into a temporary
directory, a free loopback port, durability switched off (the data dies with the session anyway), and it is
stopped and deleted at the end. ``MISSING_EPISODES_TEST_POSTGRES_URL`` (an admin URL) points the tests at an
existing server instead; only databases named ``me_test_…`` are created and dropped there.

Nothing here imports Prefect, and nothing here is imported by the product.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from missing_episodes.db.engine import normalise_url

EXTERNAL_URL_ENV = "MISSING_EPISODES_TEST_POSTGRES_URL"
WORKDIR_ENV = "MISSING_EPISODES_TEST_POSTGRES_DIR"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60.0


class PostgresUnavailable(RuntimeError):
    """No server binaries on this machine (and no external server configured)."""


def in_ci() -> bool:
    """CI sets ``CI=true``; there a missing PostgreSQL is a broken runner, never a reason to skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``: from PATH first, then Debian's versioned directories.

    Debian puts the server binaries in ``/usr/lib/postgresql/<major>/bin`` and not on PATH; a PATH entry may be a
    symlink into there, so it is resolved to find ``postgres`` beside ``initdb``.
    """
    candidates: list[Path] = []
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            candidates.append(Path(found).resolve().parent)
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(debian, key=_major_version, reverse=True)]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def _major_version(path: str) -> int:
    match = re.search(r"/postgresql/(\d+)/", path)
    return int(match.group(1)) if match else 0


def _base_dir() -> str:
    """Memory (/dev/shm) when there is room: every test copies a template database, and on a disk shared with
    other work that copy took 0.3 s instead of 0.05 s. The path stays short: the server's Unix socket lives in
    it, and socket paths are limited to ~107 bytes. ``MISSING_EPISODES_TEST_POSTGRES_DIR`` names another folder:
    a benchmark's 1,000,000-episode database and its template copy would not fit in memory."""
    chosen = os.environ.get(WORKDIR_ENV)
    if chosen:
        if problem := workdir_problem():
            raise PostgresUnavailable(problem)
        return chosen
    shm = "/dev/shm"
    with contextlib.suppress(OSError):
        stat = os.statvfs(shm)
        if os.access(shm, os.W_OK) and stat.f_bavail * stat.f_frsize > 1 << 30:
            return shm
    base = tempfile.gettempdir()
    return base if len(base) < 60 else "/tmp"


def workdir_problem() -> str | None:
    """Why ``MISSING_EPISODES_TEST_POSTGRES_DIR`` cannot hold the server's data, in one line, or None (unset is
    fine: ``_base_dir`` chooses)."""
    chosen = os.environ.get(WORKDIR_ENV)
    if chosen and not (os.path.isdir(chosen) and os.access(chosen, os.W_OK | os.X_OK)):
        return f"{WORKDIR_ENV}={chosen} is not a folder this user can write: create it, or unset it"
    if chosen and os.geteuid() == 0 and not os.stat(chosen).st_mode & stat.S_IXOTH:
        # root hands the server to another user (``_run_as``), who must be able to pass through the folder
        # to the data folder made for it inside; otherwise initdb fails after the benchmark has started.
        return (f"{WORKDIR_ENV}={chosen}: the server runs as another user, who cannot enter this folder: "
                f"chmod o+x {chosen}, or choose another folder")
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _conninfo(url: URL) -> str:
    """A libpq URI for psycopg from a SQLAlchemy URL (which may name the ``+psycopg`` driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class PostgresServer:
    """A running server (ours or an external one) and the admin connection used to make and drop databases."""

    admin_url: URL
    process: subprocess.Popen | None = None
    workdir: Path | None = None
    _admin: psycopg.Connection | None = field(default=None, repr=False)
    _stopped: bool = False

    # -- databases -------------------------------------------------------------------------------------------

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL (``postgresql+psycopg://…``) of one database on this server."""
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def admin(self) -> psycopg.Connection:
        # CREATE/DROP DATABASE cannot run inside a transaction block, hence autocommit.
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(_conninfo(self.admin_url), autocommit=True, connect_timeout=10)
        return self._admin

    def create_database(self, template: str | None = None, prefix: str = "me_test") -> str:
        """Create an empty database, or a copy of ``template`` (a file-level copy: milliseconds, not a migration)."""
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            sql += f' TEMPLATE "{template}"'
            # FILE_COPY copies the template's files instead of WAL-logging every page (PostgreSQL 15's default);
            # with fsync off that is the faster of the two for a small schema.
            if self.admin().info.server_version >= 150000:
                sql += " STRATEGY FILE_COPY"
        self.admin().execute(sql)
        return name

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test leaked (an engine not disposed), which would otherwise block the drop.
        force = " WITH (FORCE)" if self.admin().info.server_version >= 130000 else ""
        self.admin().execute(f'DROP DATABASE IF EXISTS "{name}"{force}')

    # -- lifecycle -------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop our server and delete its directory; for an external server only close the admin connection."""
        if self._stopped:
            return
        self._stopped = True
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
        if self.process is not None and self.process.poll() is None:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions and exit cleanly.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start() -> PostgresServer:
    """The session's server: the external one when configured, else a new local one.

    Raises ``PostgresUnavailable`` when there is neither; the caller decides whether that skips or fails.
    """
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        server = PostgresServer(admin_url=make_url(normalise_url(external)))
        server.admin()  # fail now, with the server's own message, if the URL is wrong
        return server
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, postgres) not found on PATH nor in /usr/lib/postgresql/*/bin; "
            "run `bash scripts/setup-system` (Debian package `postgresql`) or set " + EXTERNAL_URL_ENV
        )
    return _start_local(bindir)


def _run_as() -> pwd.struct_passwd | None:
    """Who runs the server: initdb and postgres refuse to run as root, so root hands them to a system user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root and neither a `postgres` nor a `nobody` user exists to run the server")


def _command_prefix(user: pwd.struct_passwd | None) -> list[str]:
    """Drop root privileges, and tie the server's life to ours.

    ``--pdeathsig QUIT`` makes the kernel send PostgreSQL's immediate-shutdown signal to the postmaster if this
    Python process dies without running its cleanup (killed by a CI timeout, say), so no server is left behind.
    setpriv sets it after switching user (a uid change clears it), which a ``preexec_fn`` cannot easily do.
    """
    setpriv = shutil.which("setpriv")
    if setpriv:
        prefix = [setpriv, "--pdeathsig=QUIT"]
        if user is not None:
            prefix += [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        return [*prefix, "--"]
    if user is None:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--"]
    raise PostgresUnavailable("running as root without setpriv or runuser to start PostgreSQL as another user")


def _start_local(bindir: Path) -> PostgresServer:
    user = _run_as()
    prefix = _command_prefix(user)
    workdir = Path(tempfile.mkdtemp(prefix="me-pg-", dir=_base_dir()))
    server = PostgresServer(admin_url=URL.create("postgresql+psycopg"), workdir=workdir)
    atexit.register(server.stop)  # belt and braces: the session fixture stops it, this covers an aborted session
    try:
        if user is not None:
            os.chown(workdir, user.pw_uid, user.pw_gid)
        os.chmod(workdir, 0o700)
        data = workdir / "data"
        initdb = subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",  # loopback and a private socket directory only; the server lives for one test session
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
        log_path = workdir / "postgres.log"
        last_error = ""
        for _attempt in range(5):  # the free port may be taken between choosing it and binding it
            port = _free_port()
            server.admin_url = URL.create(
                "postgresql+psycopg", username=SUPERUSER, host="127.0.0.1", port=port, database="postgres"
            )
            settings = {
                "listen_addresses": "127.0.0.1",
                "port": str(port),
                "unix_socket_directories": str(workdir),
                # Durability buys nothing for data deleted at the end of the session, and costs seconds.
                "fsync": "off",
                "full_page_writes": "off",
                "synchronous_commit": "off",
                # A test database lives for one test and never needs vacuuming; an autovacuum worker connected to
                # the template would only make CREATE DATABASE … TEMPLATE wait for it to leave.
                "autovacuum": "off",
                "max_connections": "200",
            }
            options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
            with open(log_path, "ab") as log:
                if user is not None:
                    os.chown(log_path, user.pw_uid, user.pw_gid)
                server.process = subprocess.Popen(
                    [*prefix, str(bindir / "postgres"), "-D", str(data), *options],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a Ctrl-C in the terminal is pytest's to handle, not the server's
                )
            if _wait_until_ready(server):
                return server
            last_error = log_path.read_text(errors="replace")[-4000:]
            if "could not bind" not in last_error and "Address already in use" not in last_error:
                break
        raise RuntimeError(f"PostgreSQL did not start; its log:\n{last_error}")
    except BaseException:
        server.stop()
        raise


def _wait_until_ready(server: PostgresServer) -> bool:
    """Poll until the server accepts a connection; False as soon as the process has exited (a failed start)."""
    assert server.process is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    conninfo = _conninfo(server.admin_url)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            psycopg.connect(conninfo, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.02)
    raise RuntimeError(f"PostgreSQL did not accept connections within {START_TIMEOUT_S:.0f} s")
