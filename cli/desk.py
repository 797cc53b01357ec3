"""A command's flow run on the desk (``deployments.desk``), asked for over Prefect's REST API without Prefect.

With ``PREFECT_API_URL`` set, ``form serious-notification``, ``briefing``, ``weekly-list``, ``report board``,
``report oversight`` and ``ingest`` used to import Prefect and run their flow in the command's own process: about
2 s of CPU for ``import prefect`` alone, 6-8 s a command. Here the command asks the server for a run of the flow's
desk deployment (``deployments.COMMAND_LINE``) with its parameters (refs, dates, folders and file paths, as the
flow takes them: never a child's details), waits until the run is final, and reads what the flow returned from the
output store (``runs/<flow run id>.json``, written by the desk). The desk, a worker that already imported Prefect,
the flows and WeasyPrint, runs the flow in its own process.

Only the standard library's ``http.client`` is imported here (httpx would add a tenth of a second). What can go
wrong is one line: a server that does not answer or has not had ``python -m deployments`` applied (exit 2, before
anything runs); no desk polling the pool (the run is deleted, exit 1); a run that failed (its cause in one line,
the traceback's file, exit 1).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import typer

from cli._app import one_line
from cli.checks import Mistake
from missing_episodes.config import get_settings
from missing_episodes.desk import doorbell, outcome_path

#: The pools' and deployments' names (``deployments``: not imported here, it imports Prefect).
DESK_POOL = "missing-episodes-desk"
COMMAND_LINE = "command line"
#: How long one request may wait for the server's answer.
REQUEST_TIMEOUT_S = 60.0
#: How long a run may take once the desk has it (a big ingest runs for minutes).
RUN_TIMEOUT_S = 3600.0
#: Time between two readings of the run's state: the first soon, then less often (each GET is work for a server
#: that is also running the flow's state changes).
POLL_FIRST_S, POLL_MAX_S = 0.1, 0.3
#: Between two readings the command looks for the run's outcome file, which the desk writes once the run's final
#: state is set: it learns of the end within this, without asking the server more often.
OUTCOME_LOOK_S = 0.03
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _headers() -> dict[str, str]:
    """Prefect's own client settings: basic auth (``PREFECT_API_AUTH_STRING``) or an API key."""
    if credential := os.environ.get("PREFECT_API_AUTH_STRING"):
        return {"Authorization": "Basic " + base64.b64encode(credential.encode("utf-8")).decode("ascii")}
    if key := os.environ.get("PREFECT_API_KEY"):
        return {"Authorization": f"Bearer {key}"}
    return {}


class Api:
    """Prefect's REST API: JSON in, (status, JSON) out; a connection per request (a kept-alive one is closed by
    the server after 5 s idle, and a busy server is slow to answer)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url.rstrip("/"))
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise Mistake(f"PREFECT_API_URL={url} is not an http(s) address: give the API's, e.g. "
                          "http://127.0.0.1:4200/api, or unset it to run the command without a server")
        self.kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.host, self.port, self.prefix = parts.hostname, port, parts.path
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", "Connection": "close",
                        **_headers()}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """One request, again (after 0.5, 1, 2, 4 s) after a 503, a timeout or a dropped connection: a busy
        SQLite-backed server does all three now and then. A refused connection (no server) is not retried."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        status, data = 0, b""
        for attempt in range(5):
            connection = self.kind(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
            try:
                connection.request(method, self.prefix + path, body=payload, headers=self.headers)
                response = connection.getresponse()
                status, data = response.status, response.read()
            except ConnectionRefusedError:
                raise
            except (OSError, http.client.HTTPException):
                if attempt == 4:
                    raise
                time.sleep(0.5 * 2**attempt)
                continue
            finally:
                connection.close()
            if status != 503 or attempt == 4:
                break
            time.sleep(0.5 * 2**attempt)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode("utf-8", "replace")


def _deployment_id(api: Api, url: str, flow: str, deployment: str) -> str:
    try:
        status, body = api.call("GET", f"/deployments/name/{quote(flow)}/{quote(deployment)}")
    except (OSError, http.client.HTTPException) as exc:
        raise Mistake(f"no Prefect server answers at PREFECT_API_URL={url} ({type(exc).__name__}): start it, or "
                      "unset PREFECT_API_URL to run the command without one") from None
    if status in (401, 403):
        raise Mistake(f"the Prefect server at {url} refused the credential: set PREFECT_API_AUTH_STRING")
    if status == 404:
        raise Mistake(f"the Prefect server at {url} has no deployment {flow}/{deployment}: run "
                      "`python -m deployments` once against it")
    if not (200 <= status < 300 and isinstance(body, dict) and "id" in body):
        raise Mistake(f"the server at PREFECT_API_URL={url} did not answer as Prefect's API ({status}): give the "
                      "API's address, e.g. http://127.0.0.1:4200/api")
    return str(body["id"])


def _expect(status: int, body: Any, doing: str) -> None:
    if not 200 <= status < 300:
        detail = body.get("detail", body) if isinstance(body, dict) else body
        raise RuntimeError(f"the Prefect server answered {status} {doing}: {one_line(str(detail), limit=200)}")


def run_on_desk(what: str, flow: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Run ``flow``'s desk deployment with ``parameters`` (JSON values) and return what the flow returned.

    Exit 2 (one line) when the server or the deployment is not there, exit 1 (one line) when the run fails, is
    cancelled or no desk takes it.
    """
    # An unset value is left out (the flow's default is None), not sent as null: the deployment's form types an
    # optional field as the plain type, which refuses null.
    parameters = {key: value for key, value in parameters.items() if value is not None}
    url = os.environ["PREFECT_API_URL"]
    api = Api(url)
    deployment_id = _deployment_id(api, url, flow, COMMAND_LINE)
    try:
        # The idempotency key makes a retried request (a timeout, a dropped connection) one run, not two.
        status, run = api.call("POST", f"/deployments/{deployment_id}/create_flow_run",
                               {"parameters": parameters, "idempotency_key": f"cli-{uuid.uuid4()}"})
        if status == 409:  # the deployment's form refused a value
            detail = run.get("detail", run) if isinstance(run, dict) else run
            raise Mistake(f"the server refused the parameters: {one_line(str(detail), limit=300)}")
        _expect(status, run, "creating the flow run")
        _ring_doorbell()
        try:
            final = _wait(api, run["id"], what)
        except KeyboardInterrupt:
            _cancel(api, run)
    except (typer.Exit, Mistake):  # click's Exit is a RuntimeError too
        raise
    except (OSError, RuntimeError) as exc:
        _fail(what, f"{type(exc).__name__}: {exc}")
    return _outcome(what, final)


def _cancel(api: Api, run: dict[str, Any]) -> NoReturn:
    """Ctrl-C while waiting cancels the run as well: the desk stops it where it is (and a run no desk has taken
    yet is cancelled outright), rather than filing and mailing a document nobody is waiting for. Exit 130."""
    try:
        _, current = api.call("GET", f"/flow_runs/{run['id']}")
        waiting = isinstance(current, dict) and (current.get("state") or {}).get("type") == "SCHEDULED"
        kind = "CANCELLED" if waiting else "CANCELLING"
        api.call("POST", f"/flow_runs/{run['id']}/set_state", {"state": {
            "type": kind, "name": kind.title(), "message": "interrupted on the command line"}, "force": True})
        said = f"flow run {run.get('name')} is cancelled"
    except (OSError, http.client.HTTPException):
        said = f"flow run {run.get('name')} could not be cancelled: cancel it in the Prefect UI"
    typer.echo(f"error: interrupted; {said}", err=True)
    raise typer.Exit(130)


def _ring_doorbell() -> None:
    """Touch ``runs/.doorbell`` in the output store: a desk sharing it asks the server for new runs at once rather
    than at its next poll (``deployments.desk.answer_doorbell``). A desk elsewhere finds the run by polling anyway."""
    bell = doorbell()
    try:
        bell.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        bell.touch(mode=0o600)  # an existing file's time is set to now
    except OSError:  # only a shortcut: the run is found at the desk's next poll
        pass


def _wait(api: Api, flow_run_id: str, what: str) -> dict[str, Any]:
    started = time.monotonic()
    picked = False
    pause = POLL_FIRST_S
    outcome = outcome_path(flow_run_id)
    while True:
        status, run = api.call("GET", f"/flow_runs/{flow_run_id}")
        _expect(status, run, "reading the flow run")
        state = (run.get("state") or {}).get("type", "SCHEDULED")
        if state in FINAL:
            return run
        picked = picked or state != "SCHEDULED"
        waited = time.monotonic() - started
        if not picked and waited > (pickup := get_settings().desk_pickup_timeout):
            api.call("DELETE", f"/flow_runs/{flow_run_id}")
            _fail(what, f"no desk worker took the run within {pickup:g} s (the run is deleted): start "
                  f"`python -m deployments.desk` (pool {DESK_POOL}) with the product's settings")
        if waited > RUN_TIMEOUT_S:
            _fail(what, f"flow run {run.get('name')} ({flow_run_id}) still {state} after {RUN_TIMEOUT_S:g} s; "
                  "see the Prefect UI")
        _nap(pause, until=outcome)
        pause = min(pause * 1.5, POLL_MAX_S)


def _nap(seconds: float, until: Path) -> None:
    """Sleep ``seconds``, or less if the outcome file ``until`` appears meanwhile (then the run is final: read it
    now). A file there already changes nothing: the state is read again after the whole pause."""
    if until.exists():
        time.sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not until.exists():
        time.sleep(min(OUTCOME_LOOK_S, left))


def _outcome(what: str, run: dict[str, Any]) -> dict[str, Any]:
    """The flow's return value from the desk's outcome file; a run that did not complete is one line, exit 1."""
    state = run["state"]["type"]
    path = outcome_path(run["id"])
    recorded = _read(path)
    path.unlink(missing_ok=True)  # read once, by this command: the output store keeps documents, not run notes
    if state == "COMPLETED" and recorded is not None and "result" in recorded:
        return recorded["result"]
    if state == "COMPLETED":
        _fail(what, f"flow run {run.get('name')} completed but left no outcome in {path}: do the desk and this "
              "command share MISSING_EPISODES_OUTPUT_DIR?")
    cause = (recorded or {}).get("error") or f"the run ended {run['state'].get('name', state)}"
    where = f" (traceback in {recorded['log']})" if recorded and recorded.get("log") else ""
    _fail(what, f"{cause}{where}; flow run {run.get('name')}")


def _read(path: Path) -> dict[str, Any] | None:
    """The outcome file, waiting briefly: the desk writes it as the run's final state is set."""
    for _ in range(100):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            time.sleep(0.05)
    return None


def _fail(what: str, message: str) -> NoReturn:
    typer.echo(f"error: {what} failed: {one_line(message, limit=500)}", err=True)
    raise typer.Exit(1)
