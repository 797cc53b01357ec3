"""Run a Prefect server and process workers on this machine: for `scripts/prefect-server`, the docs and the tests.

One place says how this project's Prefect server is configured (`server_settings`): analytics off, a retention
period for flow runs and events, loopback only. Every process started here gets its own process group, so
stopping it stops its children too (``prefect server start`` runs uvicorn as a child, a process worker starts
one child per flow run), and every wait is bounded and polls a real signal (``/api/health``, a worker's
heartbeat, a flow run's state) instead of sleeping a guessed time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from missing_episodes.config import PROJECT_ROOT

#: How long Prefect keeps finished flow runs (with their task runs, logs and artifacts) before the vacuum
#: service deletes them: the runs are operational metadata, the product's own database is the record.
FLOW_RUN_RETENTION_DAYS = 30
#: How long Prefect keeps events (the event feed, automations' input). Prefect's default is 7 days.
EVENT_RETENTION_DAYS = 7

START_TIMEOUT_S = 180.0
WORKER_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0


def prefect_executable() -> str:
    """The ``prefect`` command of this interpreter's environment (the venv), not whatever is first on PATH."""
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_settings(
    home: Path, port: int, database_url: str | None = None, *, host: str = "127.0.0.1",
    auth_string: str | None = None,
) -> dict[str, str]:
    """The environment of this project's Prefect server (and of clients that talk to it).

    * analytics off: a council's scheduler should not report to anyone;
    * the DB vacuum service deletes flow runs ``FLOW_RUN_RETENTION_DAYS`` after they end (Prefect 3.8 keeps
      them forever by default: only events are vacuumed unless ``flow_runs`` is enabled), and events after
      ``EVENT_RETENTION_DAYS``;
    * ``database_url`` (``postgresql://…``, any driver: see ``async_driver``) puts Prefect's own database on
      PostgreSQL; the default is
      a SQLite file in ``PREFECT_HOME``;
    * ``auth_string`` (``user:password``) turns on Prefect's HTTP basic authentication: the server refuses every
      API call without it (401; only ``GET /api/health`` and ``/api/ready`` stay open) and the clients given
      these settings (workers, ``python -m deployments``, the CLI) send it (``PREFECT_API_AUTH_STRING``).
    """
    settings = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(FLOW_RUN_RETENTION_DAYS * 86400),
        # A plain timedelta setting: ISO 8601 ("P7D"), unlike the vacuum's seconds.
        "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": f"P{EVENT_RETENTION_DAYS}D",
        # The worker reports to the server every few seconds; a UI on loopback needs no telemetry either.
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    }
    if database_url:
        settings["PREFECT_API_DATABASE_CONNECTION_URL"] = async_driver(database_url)
    if auth_string:
        settings["PREFECT_SERVER_API_AUTH_STRING"] = auth_string
        settings["PREFECT_API_AUTH_STRING"] = auth_string
    return settings


def async_driver(database_url: str) -> str:
    """The URL with the driver Prefect's server needs: it opens its database with asyncpg, while the product (and
    ``tests.pg``) write ``postgresql://`` or ``postgresql+psycopg://``; one database URL serves both."""
    for prefix in ("postgresql+psycopg://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url.removeprefix(prefix)
    return database_url


#: Where ``scripts/prefect-server`` keeps the API credential when none is given: in the server's home, 0600.
AUTH_FILE_NAME = "api-auth"
AUTH_USER = "missing-episodes"


def api_credential(home: Path, auth_file: Path | None = None) -> tuple[str, Path | None]:
    """The API's ``user:password``: ``PREFECT_SERVER_API_AUTH_STRING`` if set, else the first line of
    ``auth_file`` (default ``home/api-auth``), created with a random password (readable by its owner only) when
    absent. Returns the credential and the file it is kept in (``None`` when it came from the environment)."""
    import secrets

    from missing_episodes.permissions import PRIVATE_FILE, make_private

    if given := os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        return given, None
    path = auth_file or home / AUTH_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"{AUTH_USER}:{secrets.token_urlsafe(24)}\n")
    make_private(path)
    credential = path.read_text(encoding="utf-8").strip()
    if ":" not in credential:
        raise SystemExit(f"{path}: the API credential must be one line user:password")
    return credential, path


def basic_auth_headers(env: dict[str, str]) -> dict[str, str]:
    """The ``Authorization`` header a plain HTTP client needs for a server started with ``env``'s credential."""
    import base64

    credential = env.get("PREFECT_API_AUTH_STRING")
    if not credential:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(credential.encode("utf-8")).decode("ascii")}


def _tied_to_us() -> list[str]:
    """``setpriv --pdeathsig=TERM``: the kernel stops the child if this process dies without cleaning up
    (a CI timeout's SIGKILL), since ``start_new_session`` keeps terminal signals from reaching it."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig=TERM", "--"] if setpriv else []


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any PREFECT_* setting (a developer's profile must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(extra)
    return env


def _process_group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group, from /proc (Linux; 0 elsewhere)."""
    total_kb = 0
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else []:
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid:  # fields[2] is the process group id
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM the process's group, then SIGKILL what is left after ``STOP_TIMEOUT_S``; safe to call twice."""
    if process is None or (process.poll() is not None and not _group_alive(process.pid)):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2,
              abort: Callable[[], str | None] | None = None) -> object:
    """Poll ``predicate`` until it returns something truthy; raise ``TimeoutError`` naming ``what`` otherwise.

    ``abort`` returns a reason to stop early (the server process exited, say) so a failed start is reported at
    once with its reason instead of after the whole timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if abort is not None and (reason := abort()):
            raise RuntimeError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


@dataclass
class PrefectServer:
    """A running ``prefect server start``: its environment, its log and what its start cost."""

    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    start_seconds: float = 0.0
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def client_settings(self) -> Iterator[None]:
        """Point this process's Prefect client at this server (Prefect reads its settings once, at import)."""
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        updates: dict = {PREFECT_API_URL: self.api_url}
        if self.env.get("PREFECT_API_AUTH_STRING"):
            updates[PREFECT_API_AUTH_STRING] = self.env["PREFECT_API_AUTH_STRING"]
        with temporary_settings(updates=updates):
            yield

    def rss_mb(self) -> float:
        return _process_group_rss_mb(self.process.pid)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.api_url}/health", timeout=2)
            return response.status_code == 200 and response.json() is True
        except (httpx.HTTPError, ValueError):
            return False

    def start_worker(self, pool: str, name: str, limit: int = 2, env: dict[str, str] | None = None,
                     log_path: Path | None = None) -> subprocess.Popen:
        """A process worker on ``pool``; returns once the server lists it ONLINE (its first heartbeat)."""
        command = [prefect_executable(), "worker", "start", "--pool", pool, "--name", name, "--limit", str(limit),
                   "--type", "process"]
        return self._start(command, pool, name, {**self.env, **(env or {})},
                           log_path or self.home / f"worker-{name}.log", f"worker {name}")

    def runs_executed_by(self, worker: str) -> set[str]:
        """The flow runs the process worker ``worker`` (started by ``start_worker``) executed: submitted and not
        told to abort (another worker had it first), read from its console log."""
        log = (self.home / f"worker-{worker}.log").read_text(errors="replace")
        aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", log))
        return set(re.findall(r"submitting flow run '([0-9a-f-]{36})'", log)) - aborted

    def start_desk(self, name: str = "desk-1", limit: int = 2, env: dict[str, str] | None = None,
                   log_path: Path | None = None) -> subprocess.Popen:
        """The desk worker (``python -m deployments.desk``: on-demand runs inside its own warm process) on the
        desk pool; returns once the server lists it ONLINE, that is after it imported the flows and WeasyPrint."""
        from deployments import DESK_POOL

        command = [sys.executable, "-m", "deployments.desk", "--name", name, "--limit", str(limit)]
        return self._start(command, DESK_POOL, name, {**self.env, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})},
                           log_path or self.home / f"desk-{name}.log", f"desk {name}")

    def _start(self, command: list[str], pool: str, name: str, env: dict[str, str], log_path: Path,
               what: str) -> subprocess.Popen:
        """Start one worker process (tied to this one, its output to ``log_path``) and wait until it is ONLINE;
        a worker that exits first is reported at once with its exit code."""
        log = open(log_path, "ab")  # noqa: SIM115 - outlives this call
        try:
            process = subprocess.Popen(
                [*_tied_to_us(), *command],
                env=env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.workers.append(process)
        wait_for(lambda: self._worker_online(pool, name), WORKER_TIMEOUT_S, f"{what} online",
                 interval=0.5, abort=lambda: f"exited with {process.returncode}" if process.poll() is not None
                 else None)
        return process

    def _worker_online(self, pool: str, name: str) -> bool:
        try:
            response = httpx.post(f"{self.api_url}/work_pools/{pool}/workers/filter", json={}, timeout=5,
                                  headers=basic_auth_headers(self.env))
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and any(
            w["name"] == name and w.get("status") == "ONLINE" for w in response.json()
        )

    def stop(self) -> None:
        for worker in self.workers:
            stop_process(worker)
        stop_process(self.process)


def start_server(home: Path, *, port: int | None = None, database_url: str | None = None,
                 timeout: float = START_TIMEOUT_S, ui: bool = True, extra_env: dict[str, str] | None = None,
                 auth_string: str | None = None) -> PrefectServer:
    """``prefect server start`` on loopback with its own ``PREFECT_HOME``; returns when /api/health answers.

    A port chosen free can be taken before the server binds it, so a start that exits early is retried on a new
    port (three attempts). The caller owns the server: call ``stop()`` (``running_server`` does it for you).
    """
    home.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _attempt in range(3):
        chosen = port or free_port()
        env = clean_environment({**server_settings(home, chosen, database_url, auth_string=auth_string),
                                 **(extra_env or {})})
        if not ui:
            env["PREFECT_UI_ENABLED"] = "false"
        log_path = home / "server.log"
        started = time.monotonic()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [*_tied_to_us(), prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port",
                 str(chosen)],
                env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = PrefectServer(home=home, port=chosen, env=env, process=process, log_path=log_path)
        try:
            wait_for(server.healthy, timeout, "Prefect server health", interval=0.25,
                     abort=lambda p=process: f"exited with {p.returncode}" if p.poll() is not None else None)
        except RuntimeError:
            last_error = server.log_tail()
            server.stop()
            if port is None and ("address already in use" in last_error.lower() or "errno 98" in last_error):
                continue
            raise RuntimeError(f"Prefect server did not start; its log:\n{last_error}") from None
        except BaseException:
            server.stop()
            raise
        server.start_seconds = time.monotonic() - started
        return server
    raise RuntimeError(f"Prefect server did not start on a free port; its log:\n{last_error}")


@contextlib.contextmanager
def running_server(home: Path, **kwargs) -> Iterator[PrefectServer]:
    """``start_server`` whose server and workers are stopped however the block ends."""
    server = start_server(home, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m deployments.local [--port N] [--home DIR]``: the server in the foreground, configured as above,
    with the API behind basic authentication.

    ``scripts/prefect-server`` calls this; Ctrl-C stops it. The credential is ``PREFECT_SERVER_API_AUTH_STRING``
    or the file ``--auth-file`` (default ``HOME/api-auth``, made with a random password when absent); workers, the
    CLI and ``python -m deployments`` are given it as ``PREFECT_API_AUTH_STRING``. ``--no-auth`` is for a
    throwaway server nobody else can reach.
    """
    import argparse

    from missing_episodes.permissions import restrict_process

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=4200)
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser())
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless behind a proxy)")
    parser.add_argument("--database-url", default=os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"),
                        help="postgresql://… for Prefect's own database, any driver (default: SQLite in --home)")
    parser.add_argument("--auth-file", type=Path, default=None,
                        help=f"file holding the API's user:password (default HOME/{AUTH_FILE_NAME}, created)")
    parser.add_argument("--no-auth", action="store_true",
                        help="no API authentication: only for a throwaway server on a machine nobody else uses")
    args = parser.parse_args(argv)
    restrict_process()  # Prefect's home (its database, the credential) is the service account's only
    credential, kept_in = (None, None) if args.no_auth else api_credential(args.home, args.auth_file)
    settings = server_settings(args.home, args.port, args.database_url, host=args.host, auth_string=credential)
    env = {**os.environ, **settings}
    if credential is None:
        env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    for key, value in sorted(settings.items()):
        if key not in ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_API_AUTH_STRING",
                       "PREFECT_API_AUTH_STRING"):
            print(f"{key}={value}", file=sys.stderr)
    if credential is None:
        print("API authentication is OFF (--no-auth)", file=sys.stderr)
    elif kept_in is not None:
        print(f"API authentication on: give clients PREFECT_API_AUTH_STRING=\"$(cat {kept_in})\"", file=sys.stderr)
    else:
        print("API authentication on: clients need PREFECT_API_AUTH_STRING (the same user:password)",
              file=sys.stderr)
    command = [prefect_executable(), "server", "start", "--host", args.host, "--port", str(args.port)]
    os.execvpe(command[0], command, env)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
