"""The command line's on-demand path with ``PREFECT_API_URL`` set (``cli.desk``), against a stand-in for Prefect's
REST API: the command never imports Prefect, sends the flow's parameters (refs, dates, folders), prints what the
desk recorded, and says what went wrong in one line (exit 1 for a failed run or no desk, exit 2 for a server or
deployment that is not there, before anything runs).

The stand-in answers the four calls the command makes (deployment by name, create a flow run, read it, delete
it) as Prefect 3.8 does; the real server and the desk are exercised in ``tests/server/test_desk.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

RUN_ID = "6f1f0f5e-0000-4000-8000-000000000001"


@dataclass
class FakeApi:
    """What the stand-in answers and what it was asked."""

    states: list[str] = field(default_factory=lambda: ["PENDING", "RUNNING", "COMPLETED"])
    deployments: set[str] = field(default_factory=lambda: {"oversight-report/command line"})
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    reads: int = 0


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length)) if length else None

        def do_GET(self) -> None:
            from urllib.parse import unquote

            path = unquote(self.path)
            api.requests.append(("GET", path, None))
            if path.startswith("/api/deployments/name/"):
                name = path.removeprefix("/api/deployments/name/")
                if name in api.deployments:
                    self._answer(200, {"id": "dep-1", "name": name})
                else:
                    self._answer(404, {"detail": "Deployment not found"})
            elif not path.startswith("/api/"):  # the UI's address: a page for any path, as Prefect's UI serves
                data = b"<!doctype html><title>Prefect</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif path == f"/api/flow_runs/{RUN_ID}":
                state = api.states[min(api.reads, len(api.states) - 1)]
                api.reads += 1
                self._answer(200, {"id": RUN_ID, "name": "oversight-report-2026-10-31",
                                   "state": {"type": state, "name": state.title()}})
            else:
                self._answer(404, {"detail": "not here"})

        def do_POST(self) -> None:
            body = self._body()
            api.requests.append(("POST", self.path, body))
            if self.path == "/api/deployments/dep-1/create_flow_run":
                self._answer(201, {"id": RUN_ID, "name": "witty-fox", "state": {"type": "SCHEDULED"}})
            elif self.path == f"/api/flow_runs/{RUN_ID}/set_state":
                self._answer(201, {"status": "ACCEPT", "state": body["state"]})
            else:
                self._answer(404, {"detail": "not here"})

        def do_DELETE(self) -> None:
            api.requests.append(("DELETE", self.path, None))
            self._answer(204, None)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeApi, str]]:
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield api, f"http://127.0.0.1:{server.server_port}/api"
    finally:
        server.shutdown()


@pytest.fixture
def work(tmp_path: Path, _sqlite_template: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "state.db").write_bytes(_sqlite_template.read_bytes())
    return folder


def _command(work: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``missing-episodes ARGS`` as a real process, with ``-X importtime`` so its imports can be checked."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    environment.update({"MISSING_EPISODES_DATABASE_URL": f"sqlite:///{work / 'state.db'}",
                        "MISSING_EPISODES_OUTPUT_DIR": str(work / "out"), "PREFECT_API_URL": url,
                        "PREFECT_HOME": str(work / "prefect"), **env})
    code = "import sys; from cli import app; sys.exit(app())"
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], cwd=work, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def _errors(completed: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without ``-X importtime``'s lines."""
    return [line for line in completed.stderr.splitlines() if not line.startswith("import time:")]


def _imported(completed: subprocess.CompletedProcess[str]) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def _outcome(work: Path, outcome: dict[str, Any]) -> None:
    """What the desk writes when the run ends (``deployments.desk.record_outcome``)."""
    runs = work / "out" / "runs"
    runs.mkdir(parents=True)
    (runs / f"{RUN_ID}.json").write_text(json.dumps({"flow_run": RUN_ID, **outcome}), encoding="utf-8")


def test_a_report_runs_on_the_desk_and_the_command_never_imports_prefect(fake_api, work: Path) -> None:
    api, url = fake_api
    _outcome(work, {"state": "COMPLETED", "result": {"counts": {"repeat_missing_children": 6},
                                                     "paths": {"csv": "/o/oversight-20261031.csv"}}})
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o")
    assert completed.returncode == 0, _errors(completed)
    assert completed.stdout.splitlines() == ["repeat_missing_children: 6", "csv: /o/oversight-20261031.csv"]
    assert not (work / "out" / "runs" / f"{RUN_ID}.json").exists()  # read once, then gone
    imported = _imported(completed)
    assert "cli.desk" in imported and "missing_episodes.policy" in imported  # the list is the real one
    assert "sqlalchemy" not in imported  # the database and schema checks read a SQLite file without it
    assert not {name for name in imported if name == "prefect" or name.startswith("prefect.")}
    assert not {name for name in imported if name.startswith(("flows", "tasks", "deployments", "httpx"))}
    (created,) = [body for method, path, body in api.requests if method == "POST"]
    # Ids-only parameters, as the flow takes them: the day and the folder.
    assert created["parameters"] == {"day": "2026-10-31", "out_dir": str((work / "o").resolve())}
    assert created["idempotency_key"].startswith("cli-")  # a retried request makes one run


def test_a_failed_run_is_one_line_naming_its_cause_and_exit_1(fake_api, work: Path) -> None:
    api, url = fake_api
    api.states = ["RUNNING", "FAILED"]
    _outcome(work, {"state": "FAILED", "error": "NotADirectoryError: [Errno 20] Not a directory: '/dev/null/o'",
                    "log": "/srv/out/log/desk-errors.log"})
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o")
    assert completed.returncode == 1
    (line,) = _errors(completed)
    assert line.startswith("error: the oversight report failed: NotADirectoryError:")
    assert "traceback in /srv/out/log/desk-errors.log" in line and "oversight-report-2026-10-31" in line
    assert completed.stdout == ""


def test_no_desk_taking_the_run_is_one_line_and_the_run_is_deleted(fake_api, work: Path) -> None:
    api, url = fake_api
    api.states = ["SCHEDULED"]
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o",
                         MISSING_EPISODES_DESK_PICKUP_TIMEOUT="1")
    assert completed.returncode == 1
    (line,) = _errors(completed)
    assert "no desk worker took the run" in line and "python -m deployments.desk" in line
    assert ("DELETE", f"/api/flow_runs/{RUN_ID}", None) in api.requests


def test_a_server_without_the_deployments_is_a_mistake_before_any_run(fake_api, work: Path) -> None:
    api, url = fake_api
    api.deployments = set()
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o")
    assert completed.returncode == 2
    (line,) = _errors(completed)
    assert "no deployment oversight-report/command line" in line and "python -m deployments" in line
    assert not [request for request in api.requests if request[0] == "POST"]


def test_no_server_is_a_mistake_in_one_line(work: Path) -> None:
    completed = _command(work, "http://127.0.0.1:1/api", "report", "oversight", "--date", "2026-10-31",
                         "--out", "o")
    assert completed.returncode == 2
    (line,) = _errors(completed)
    assert "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:1/api" in line


@pytest.mark.parametrize(("url", "said"), [
    ("http://127.0.0.1:abc/api", "is not an http(s) address"),
    ("127.0.0.1:4200/api", "is not an http(s) address"),
    ("{base}", "did not answer as Prefect's API (200)"),  # the UI's address, not the API's
])
def test_a_wrong_api_address_is_a_mistake_in_one_line(fake_api, work: Path, url: str, said: str) -> None:
    api, api_url = fake_api
    url = url.format(base=api_url.removesuffix("/api"))
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o")
    assert completed.returncode == 2, _errors(completed)
    (line,) = _errors(completed)
    assert line.startswith("error:") and said in line and "Traceback" not in completed.stderr
    assert not [request for request in api.requests if request[0] == "POST"]


def test_an_unreadable_pickup_timeout_is_a_mistake_in_one_line(fake_api, work: Path) -> None:
    api, url = fake_api
    completed = _command(work, url, "report", "oversight", "--date", "2026-10-31", "--out", "o",
                         MISSING_EPISODES_DESK_PICKUP_TIMEOUT="abc")
    assert completed.returncode == 2
    (line,) = _errors(completed)
    assert "MISSING_EPISODES_* setting is not a number" in line
    assert not api.requests


def test_the_command_line_names_the_pool_and_deployment_that_deployments_create() -> None:
    """cli.desk copies two names from ``deployments`` (importing it would import Prefect): a rename in one place
    would send every command to a deployment or pool that does not exist."""
    import cli.desk
    import deployments

    assert (cli.desk.DESK_POOL, cli.desk.COMMAND_LINE) == (deployments.DESK_POOL, deployments.COMMAND_LINE)
    assert any(spec.name == deployments.COMMAND_LINE and spec.flow.name == "ingest-files" and spec.desk
               for spec in deployments.DEPLOYMENTS)


@pytest.mark.parametrize(("states", "cancelled"), [
    (["PENDING", "RUNNING"], "CANCELLING"), (["SCHEDULED"], "CANCELLED"),
], ids=["running", "not-taken-yet"])
def test_ctrl_c_while_waiting_cancels_the_run_too(fake_api, work: Path, states: list[str], cancelled: str) -> None:
    """A coordinator who stops the command stops the form: a run the desk has is set Cancelling (the desk stops
    it where it is), one no desk has taken yet is Cancelled outright. One line, exit 130."""
    import signal
    import time

    api, url = fake_api
    api.states = states
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    environment.update({"MISSING_EPISODES_DATABASE_URL": f"sqlite:///{work / 'state.db'}",
                        "MISSING_EPISODES_OUTPUT_DIR": str(work / "out"), "PREFECT_API_URL": url})
    # The command gets Ctrl-C as a person's terminal sends it: a test run started in the background by a shell
    # without job control inherits SIGINT ignored, and Python then never raises KeyboardInterrupt (the command
    # went on polling: 202 reads in a minute).
    process = subprocess.Popen([sys.executable, "-c", "import sys; from cli import app; sys.exit(app())", "report",
                                "oversight", "--date", "2026-10-31", "--out", "o"], cwd=work, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240  # once it is waiting for the run, however slowly a loaded host starts it
    while api.reads < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert api.reads >= 3, f"the command never waited for the run: {process.poll()=}, {api.reads} reads"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    (line,) = stderr.splitlines()
    assert line == "error: interrupted; flow run witty-fox is cancelled"
    (set_state,) = [body for method, path, body in api.requests if path.endswith("/set_state")]
    assert set_state["state"]["type"] == cancelled and set_state["force"] is True
