"""The desk's execution of one flow run in a thread (``deployments.desk.execute``), on Prefect's test harness.

What the worker relies on: a completed run's return value and a failed run's one line land in the output store
(readable by their owner only) and the traceback in the desk's error log, never raised into the worker; a
cancelled run stops (a sync flow at its next Python instruction, an async flow at its next ``await``) and says so;
only desk flows are ever loaded. The whole path, command to desk to server, is in ``tests/server/test_desk.py``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from deployments.desk import (
    DESK_ENTRYPOINTS,
    _Execution,
    _TrustStoreOnce,
    answer_doorbell,
    doorbell,
    error_log,
    execute,
    load_desk_flow,
    outcome_path,
    share_trust_store,
)


@flow(name="desk-test-returns")
def returns_counts() -> dict[str, Any]:
    return {"key": "serious_notification:EP-TEST", "files": ["/out/form.pdf"]}


@flow(name="desk-test-returns-async")
async def returns_counts_async() -> dict[str, Any]:
    return {"key": "serious_notification:EP-TEST", "files": ["/out/form.pdf"]}


@flow(name="desk-test-fails")
def fails() -> None:
    raise ValueError("no episode EP-TEST")


@flow(name="desk-test-busy")
def busy(seconds: float = 120) -> int:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:  # Python instructions all along: an interrupt lands within one of them
        sum(range(1000))
    return 1


@flow(name="desk-test-waits")
async def waits(seconds: float = 120) -> int:
    await asyncio.sleep(seconds)
    return 1


def _start(chosen, parameters: dict[str, Any] | None = None) -> tuple[Any, _Execution]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(chosen, parameters=parameters or {})
    execution = _Execution(flow_run.id)
    execution.thread = threading.Thread(target=execute, args=(chosen, flow_run, execution), daemon=True)
    execution.thread.start()
    return flow_run, execution


def _state(flow_run_id) -> str:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state.type.value


def _until(predicate, seconds: float = 60) -> None:
    ends = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.02)


def _private(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_completed_run_leaves_its_return_value_for_the_command(prefect_harness: None) -> None:
    flow_run, execution = _start(returns_counts)
    assert execution.done.wait(120)
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    assert recorded["state"] == "COMPLETED" and recorded["result"]["files"] == ["/out/form.pdf"]
    assert _private(outcome_path(flow_run.id))
    assert _state(flow_run.id) == "COMPLETED"


def test_a_completed_run_s_outcome_is_written_before_the_engine_s_teardown_ends(prefect_harness: None) -> None:
    """The command waits for this file: it is written as the Completed state is set, not after the engine has
    joined its heartbeat thread (which sleeps in whole seconds), and once only."""
    flow_run, execution = _start(returns_counts)
    _until(lambda: outcome_path(flow_run.id).exists(), seconds=120)
    assert not execution.done.is_set()  # the run's thread is still tearing down
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    outcome_path(flow_run.id).unlink()  # read by the command, which deletes it
    assert execution.done.wait(120)
    assert not outcome_path(flow_run.id).exists()  # not written a second time
    assert recorded["result"]["key"] == "serious_notification:EP-TEST"


def test_an_async_flow_s_return_value_is_recorded_as_it_was_returned(prefect_harness: None) -> None:
    """Most desk flows are async: the completion hook then runs in the flow's event loop, and still records the
    value, not a coroutine's name."""
    flow_run, execution = _start(returns_counts_async)
    assert execution.done.wait(120)
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    assert recorded["result"] == {"key": "serious_notification:EP-TEST", "files": ["/out/form.pdf"]}


def test_a_failed_run_is_one_line_and_a_private_traceback_and_never_reaches_the_worker(prefect_harness: None) -> None:
    flow_run, execution = _start(fails)
    assert execution.done.wait(120)  # the thread ended by itself: nothing was raised out of it
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    assert recorded["state"] == "FAILED" and recorded["error"] == "ValueError: no episode EP-TEST"
    assert recorded["log"] == str(error_log()) and _private(error_log())
    assert "Traceback" in error_log().read_text(encoding="utf-8")
    assert _state(flow_run.id) == "FAILED"


@pytest.mark.parametrize("chosen", [busy, waits], ids=["sync", "async"])
def test_a_cancelled_run_stops_and_says_so(chosen, prefect_harness: None) -> None:
    flow_run, execution = _start(chosen, {"seconds": 120})
    _until(lambda: _state(flow_run.id) == "RUNNING" and (execution.task is not None or not chosen.isasync))
    started = time.monotonic()
    execution.cancel()
    assert execution.done.wait(30), "the run did not stop"
    assert time.monotonic() - started < 30
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    assert recorded["state"] == "CANCELLED" and recorded["error"] == "the run was cancelled"


def test_only_desk_flows_are_loaded() -> None:
    assert "flows.documents.serious_notification" in DESK_ENTRYPOINTS
    assert "flows.reports.board_report_flow" in DESK_ENTRYPOINTS
    assert "flows.daily.daily_run" not in DESK_ENTRYPOINTS  # scheduled work stays on the process workers
    assert load_desk_flow("flows.ingest.ingest_files").name == "ingest-files"
    for refused in ("os.system", "flows.daily.daily_run", ""):
        with pytest.raises(PermissionError):
            load_desk_flow(refused)


def test_the_desk_s_prefect_clients_share_one_verifying_tls_context_and_never_a_weakened_one(monkeypatch) -> None:
    """Prefect parses the CA bundle again for every client (60-70 ms each, several per run); the desk shares the
    verifying context, which nobody changes, and leaves the one Prefect weakens for
    ``PREFECT_API_TLS_INSECURE_SKIP_VERIFY`` unshared."""
    import certifi
    import prefect._internal.websockets
    import prefect.client.orchestration
    from prefect.client.orchestration import get_client

    for module in (prefect.client.orchestration, prefect._internal.websockets):
        monkeypatch.setattr(module, "ssl", module.ssl)  # restored after the test
    share_trust_store()
    contexts = [get_client(sync_client=True)._client._transport._pool._ssl_context for _ in range(2)]
    assert contexts[0] is contexts[1]
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname

    store = _TrustStoreOnce()
    assert store.create_default_context(cafile=certifi.where()) is store.create_default_context(cafile=certifi.where())
    assert store.create_default_context() is not store.create_default_context()
    assert store.SSLContext is ssl.SSLContext and store.CERT_NONE is ssl.CERT_NONE


def test_a_command_s_doorbell_makes_the_desk_poll_at_once_and_only_then(monkeypatch, tmp_path) -> None:
    """The command touches the doorbell after creating its run; the desk polls its pool within a fraction of a
    second instead of at its next regular poll (2 s), and does not poll while nobody rings."""
    import anyio

    from cli.desk import _ring_doorbell

    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(tmp_path))

    class Worker:
        _work_pool = object()
        polls: list[float] = []

        async def get_and_submit_flow_runs(self) -> None:
            self.polls.append(time.monotonic())

    async def scenario() -> tuple[list[float], float]:
        worker = Worker()
        async with anyio.create_task_group() as group:
            group.start_soon(answer_doorbell, worker)
            await anyio.sleep(0.3)
            assert worker.polls == []  # nobody rang
            rung = time.monotonic()
            _ring_doorbell()
            await anyio.sleep(0.5)
            group.cancel_scope.cancel()
        return worker.polls, rung

    polls, rung = anyio.run(scenario)
    assert len(polls) == 1 and polls[0] - rung < 0.3
    assert stat.S_IMODE(doorbell().stat().st_mode) == 0o600


@pytest.mark.parametrize(("env", "args", "said"), [
    ({"MISSING_EPISODES_DESK_QUERY_SECONDS": "abc"}, [], "is not a number"),
    ({"MISSING_EPISODES_DESK_QUERY_SECONDS": "0"}, [], "MISSING_EPISODES_DESK_QUERY_SECONDS=0: give the seconds"),
    ({}, ["--limit", "0"], "--limit 0: the desk must run at least one run"),
], ids=["unreadable-poll", "zero-poll", "zero-limit"])
def test_a_desk_started_wrongly_says_what_to_fix_in_one_line_before_it_starts(env, args, said) -> None:
    import os
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "deployments.desk", *args], capture_output=True, text=True,
                               env={**os.environ, **env}, timeout=120, check=False)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert said in completed.stderr.strip().splitlines()[-1]


def test_a_command_s_checks_are_answered_by_the_desk_before_any_run_is_asked_for(monkeypatch, tmp_path,
                                                                                 sqlite_url) -> None:
    """``form serious-notification`` with ``PREFECT_API_URL`` set asks the desk whether the episode exists. The
    command's own policy file is broken here, so a refusal naming the episode can only be the desk's (which reads
    the good policy its flows use); no server listens at the API address, so no run was asked for. The socket is
    its owner's only, and goes when the desk stops."""
    import os
    import subprocess
    import sys
    import tempfile

    from anyio.from_thread import start_blocking_portal

    from deployments.desk import answer_checks
    from missing_episodes.desk import check_socket

    store = tempfile.TemporaryDirectory(prefix="me-")  # a path short enough for a socket's
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", store.name)
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    (tmp_path / "broken.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    command = Path(sys.executable).with_name("missing-episodes")
    with start_blocking_portal() as portal:
        serving = portal.start_task_soon(answer_checks)
        _until(check_socket().exists, seconds=10)
        assert stat.S_IMODE(check_socket().stat().st_mode) == 0o600
        completed = subprocess.run(
            [str(command), "form", "serious-notification", "--episode", "EP-NOPE"], capture_output=True, text=True,
            env={**os.environ, "MISSING_EPISODES_POLICY": str(tmp_path / "broken.yaml"),
                 "PREFECT_API_URL": "http://127.0.0.1:9/api"}, timeout=120, check=False)
        serving.cancel()
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.count("\n") == 1 and "no episode EP-NOPE" in completed.stderr
    assert not check_socket().exists()
    store.cleanup()
