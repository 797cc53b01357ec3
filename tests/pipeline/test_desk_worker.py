"""The desk's execution of one flow run in a thread (``deployments.desk.execute``), on Prefect's test harness.

What the worker relies on: a completed run's return value and a failed run's one line land in the output store
(readable by their owner only) and the traceback in the desk's error log, never raised into the worker; a
cancelled run stops (a sync flow at its next Python instruction, an async flow at its next ``await``) and says so;
only desk flows are ever loaded. The whole path, command to desk to server, is in ``tests/server/test_desk.py``.
"""

from __future__ import annotations

import asyncio
import json
import stat
import threading
import time
from typing import Any

import pytest
from prefect import flow

from deployments.desk import DESK_ENTRYPOINTS, _Execution, error_log, execute, load_desk_flow, outcome_path


@flow(name="desk-test-returns")
def returns_counts() -> dict[str, Any]:
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
        time.sleep(0.1)


def _private(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_completed_run_leaves_its_return_value_for_the_command(prefect_harness: None) -> None:
    flow_run, execution = _start(returns_counts)
    assert execution.done.wait(120)
    recorded = json.loads(outcome_path(flow_run.id).read_text(encoding="utf-8"))
    assert recorded["state"] == "COMPLETED" and recorded["result"]["files"] == ["/out/form.pdf"]
    assert _private(outcome_path(flow_run.id))
    assert _state(flow_run.id) == "COMPLETED"


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
