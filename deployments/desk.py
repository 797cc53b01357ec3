"""The desk: a Prefect worker that runs on-demand flow runs inside its own, already warm process.

Why: a process worker (and ``flow.serve()``) starts a new Python for every run, and a new Python that imports
Prefect costs about 2 s of CPU before it does anything (``bench/results.md``, benchmark 6); with the product's
modules and WeasyPrint a form cost 6 s. A coordinator's form, a report or a one-file ingest should answer in
seconds, so their deployments go to a work pool of this worker's type (``in-process``, ``deployments.DESK_POOL``)
and this process, which imported Prefect, every desk flow and WeasyPrint once at start, runs each flow run in a
thread of its own through the engine's public entry point (``prefect.flow_engine.run_flow``). The process
workers keep the scheduled work (a daily run holds memory for minutes and should end with its process).

What the worker keeps from Prefect's ``BaseWorker``: polling the pool, claiming a run (Pending), the pool's and
the worker's concurrency limit (``--limit``), heartbeats, the Crashed state when the run's infrastructure (here a
thread) fails. What it adds:

* only flows of desk deployments are run (``DESK_ENTRYPOINTS``): a run of any other entrypoint is Crashed, so a
  deployment pointed at this pool by mistake cannot make the worker import arbitrary code;
* a run's crash ends its thread, never the process;
* cancellation: a run whose state becomes Cancelling is stopped (an async flow's task is cancelled, and its
  thread interrupted if it is still busy three seconds later; a sync flow's thread is interrupted at once: an
  exception raised at its next Python instruction) and set Cancelled;
* commands' checks are answered on a socket before their runs are created (``answer_checks``), and a command's
  doorbell makes the desk poll at once (``answer_doorbell``);
* the outcome goes to the output store as ``runs/<flow run id>.json`` (the flow's return value, which the flows
  keep to counts, refs and paths, or the failure's one line: its type and message, which the product words with
  refs only); the traceback goes to ``log/desk-errors.log`` beside it, never into Prefect. The command line
  (``cli.desk``) reads that file to print what the flow made.

Start it as ``python -m deployments.desk`` (see ``main``) with the product's settings in its environment, like
the process worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import functools
import importlib
import inspect
import json
import os
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import anyio.abc
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.flow_engine import run_flow
from prefect.flows import Flow
from prefect.logging import get_logger
from prefect.states import Cancelled
from prefect.workers.base import BaseJobConfiguration, BaseVariables, BaseWorker, BaseWorkerResult

from deployments import DEPLOYMENTS, DESK_POOL
from missing_episodes.clock import wall_clock
from missing_episodes.config import get_settings
from missing_episodes.desk import (
    ANSWER_SECONDS,
    QUESTION_BYTES,
    SOCKET_PATH_BYTES,
    answer,
    check_socket,
    doorbell,
    outcome_path,
)

logger = get_logger("desk")

#: The worker type the desk pool is created with (``prefect work-pool ls`` shows it).
DESK_TYPE = "in-process"
#: How often the desk looks at the doorbell a command rings after creating its run (a file's time: no server call).
DOORBELL_SECONDS = 0.02
#: How often a running run's state is read to notice a cancellation.
CANCEL_CHECK_SECONDS = 1.0
#: How long an async flow asked to stop may run on before its thread is interrupted: its task is cancelled at its
#: next ``await``, but a long synchronous step (reading a big file) has none.
CANCEL_GRACE_SECONDS = 3.0
#: Outcomes nobody read (runs started from the UI) are deleted after this long.
OUTCOME_KEEP_SECONDS = 7 * 24 * 3600
#: The flows the desk may run, by the entrypoint its deployments carry.
DESK_ENTRYPOINTS: frozenset[str] = frozenset(spec.entrypoint for spec in DEPLOYMENTS if spec.desk)


def error_log() -> Path:
    return get_settings().output_dir / "log" / "desk-errors.log"


class DeskJobConfiguration(BaseJobConfiguration):
    """Nothing to configure: the run happens in this process, with this process's environment."""


class DeskVariables(BaseVariables):
    """The pool's job variables: Prefect's base ones (the desk reads none of them)."""


class DeskResult(BaseWorkerResult):
    """Status 0 when the engine ran the flow to a final state (Completed, Failed or Cancelled alike); 1 when the
    run could not be executed at all, which makes ``BaseWorker`` propose Crashed."""


class RunCancelled(BaseException):
    """Raised in a sync flow's thread when its run is cancelled (a BaseException, so no ``except Exception`` in
    a flow swallows it)."""


@dataclass
class _Execution:
    """One flow run in its thread, and what is needed to stop it."""

    flow_run_id: UUID
    thread: threading.Thread | None = None
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task | None = None
    cancel_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    outcome: dict[str, Any] = field(default_factory=dict)

    def cancel(self) -> None:
        """Stop the run where it is: an async flow's task is cancelled (it stops at its next ``await``); a sync
        flow's thread gets ``RunCancelled`` at its next Python instruction (``interrupt``)."""
        self.cancel_requested = True
        if self.loop is not None and self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        else:
            self.interrupt()

    def interrupt(self) -> None:
        """``RunCancelled`` raised in the run's thread at its next Python instruction (work inside one C call,
        such as a PDF being laid out, finishes first)."""
        if self.thread is not None and self.thread.ident is not None and not self.done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread.ident),
                                                       ctypes.py_object(RunCancelled))


def load_desk_flow(entrypoint: str) -> Flow:
    """The flow object of a desk entrypoint (``module.function``), imported once; any other is refused."""
    if entrypoint not in DESK_ENTRYPOINTS:
        raise PermissionError(f"{entrypoint!r} is not a flow of a desk deployment")
    module, name = entrypoint.rsplit(".", 1)
    flow = getattr(importlib.import_module(module), name)
    if not isinstance(flow, Flow):
        raise TypeError(f"{entrypoint!r} is not a flow")
    return flow


def _one_line(exc: BaseException) -> str:
    flat = " ".join(f"{type(exc).__name__}: {exc}".split())
    return flat if len(flat) <= 300 else flat[:299] + "…"


def _write_private(path: Path, text: str, *, append: bool = False) -> None:
    """Outcome and error log readable by their owner only (they name refs and folders, and tracebacks quote
    values)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "a" if append else "w", encoding="utf-8") as handle:
        handle.write(text)


def record_outcome(flow_run: FlowRun, state: Any, cancelled: bool = False) -> dict[str, Any]:
    """The run's outcome as the command prints it: the return value when Completed, else one line and the log."""
    outcome: dict[str, Any] = {"flow_run": str(flow_run.id), "name": flow_run.name, "state": state.type.value}
    if cancelled:  # however the engine ended it, the run was stopped on request
        outcome.update(state="CANCELLED", error="the run was cancelled")
    elif state.is_completed():
        # ``_sync``: the hook runs inside an async flow's event loop, where ``result()`` would return a coroutine.
        outcome["result"] = state.result(_sync=True)
    else:
        failure = (state.result(raise_on_failure=False, _sync=True) if state.is_failed() or state.is_crashed()
                   else None)
        if isinstance(failure, BaseException):
            outcome["error"] = _one_line(failure)
            outcome["log"] = str(_log_failure(flow_run, failure))
        else:
            outcome["error"] = f"the run ended {state.name}"
    _write_private(outcome_path(flow_run.id), json.dumps(outcome, default=str))
    _prune(outcome_path(flow_run.id).parent)
    return outcome


def _prune(folder: Path) -> None:
    """Delete outcomes older than ``OUTCOME_KEEP_SECONDS``: a command deletes the one it reads, but nobody reads
    the outcome of a run started from the UI."""
    oldest = wall_clock().timestamp() - OUTCOME_KEEP_SECONDS  # file times are the real clock's, not a replay's
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < oldest:
                path.unlink()


def _log_failure(flow_run: FlowRun, exc: BaseException) -> Path:
    path = error_log()
    stamp = wall_clock().isoformat(timespec="seconds")
    _write_private(path, f"--- {stamp} flow run {flow_run.id} ({flow_run.name}) failed\n"
                   + "".join(traceback.format_exception(exc)), append=True)
    return path


#: The runs being executed here, by flow run id: ``_record_completion`` finds its run's execution in it.
_EXECUTING: dict[UUID, _Execution] = {}


def _record_completion(flow: Flow, flow_run: FlowRun, state: Any) -> None:
    """Prefect's ``on_completion`` hook on every flow the desk runs. Hooks run as the Completed state is set,
    before the engine's teardown, and that teardown is slow: a sync flow's engine joins its heartbeat thread,
    which sleeps in whole seconds (0.3-1 s measured), then stops its suspension observer. Writing the outcome
    here lets the waiting command print and exit meanwhile. ``execute`` writes it otherwise (other end states, a
    hook that failed)."""
    execution = _EXECUTING.get(flow_run.id)
    if execution is not None and not execution.cancel_requested and not execution.outcome:
        execution.outcome = record_outcome(flow_run, state)


@functools.lru_cache(maxsize=64)
def _reporting_completion(flow: Flow) -> Flow:
    """``flow`` with ``_record_completion`` added to its own completion hooks (made once per flow)."""
    return flow.with_options(on_completion=[*flow.on_completion_hooks, _record_completion])


def execute(flow: Flow, flow_run: FlowRun, execution: _Execution) -> None:
    """Run ``flow_run`` to a final state in this thread (the engine reports every state to the server) and record
    its outcome once (at completion, by ``_record_completion``, or when the engine returns); never raises, so one
    run's crash cannot reach the worker."""
    _EXECUTING[flow_run.id] = execution
    try:
        state = run_flow(_reporting_completion(flow), flow_run=flow_run, return_type="state")
        if inspect.iscoroutine(state):
            loop = asyncio.new_event_loop()
            execution.loop = loop
            try:
                execution.task = loop.create_task(state)
                if execution.cancel_requested:
                    execution.task.cancel()
                state = loop.run_until_complete(execution.task)
            finally:
                loop.close()
        if not execution.outcome:
            execution.outcome = record_outcome(flow_run, state, cancelled=execution.cancel_requested)
    except (RunCancelled, asyncio.CancelledError):
        execution.outcome = {"flow_run": str(flow_run.id), "name": flow_run.name, "state": "CANCELLED",
                             "error": "the run was cancelled"}
        _write_private(outcome_path(flow_run.id), json.dumps(execution.outcome))
    except BaseException as exc:  # a run's failure stays in its run
        execution.outcome = {"flow_run": str(flow_run.id), "name": flow_run.name, "state": "CRASHED",
                             "error": _one_line(exc), "log": str(_log_failure(flow_run, exc))}
        with contextlib.suppress(OSError):
            _write_private(outcome_path(flow_run.id), json.dumps(execution.outcome))
    finally:
        _EXECUTING.pop(flow_run.id, None)
        execution.done.set()


class DeskWorker(BaseWorker[DeskJobConfiguration, DeskVariables, DeskResult]):
    """Runs each flow run of its pool in a thread of this process (see the module docstring)."""

    type = DESK_TYPE
    job_configuration = DeskJobConfiguration
    job_configuration_variables = DeskVariables
    _description = "Runs on-demand flow runs inside the worker's own process, with the flows imported once."
    _display_name = "In-process (desk)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._executions: dict[UUID, _Execution] = {}

    async def run(self, flow_run: FlowRun, configuration: DeskJobConfiguration,
                  task_status: anyio.abc.TaskStatus[int] | None = None) -> DeskResult:
        logger = self.get_flow_run_logger(flow_run)
        try:
            deployment = await self.client.read_deployment(flow_run.deployment_id) if flow_run.deployment_id \
                else None
            flow = load_desk_flow(deployment.entrypoint if deployment and deployment.entrypoint else "")
        except Exception as exc:  # refused: the worker marks the run Crashed
            logger.error("The desk does not run this deployment: %s", _one_line(exc))
            if task_status is not None:
                task_status.started(os.getpid())
            return DeskResult(identifier=str(flow_run.id), status_code=1)
        execution = _Execution(flow_run.id)
        self._executions[flow_run.id] = execution
        thread = threading.Thread(target=execute, args=(flow, flow_run, execution), daemon=True,
                                  name=f"desk-{flow_run.id}")
        execution.thread = thread
        thread.start()
        if task_status is not None:
            task_status.started(os.getpid())
        try:
            await self._watch(execution)
        finally:
            del self._executions[flow_run.id]
        if execution.cancel_requested:
            await self._mark_cancelled(flow_run)
        return DeskResult(identifier=str(flow_run.id), status_code=0)

    async def _watch(self, execution: _Execution) -> None:
        """Wait for the run's thread; meanwhile notice a request to cancel it (the UI's Cancel, the API), and
        interrupt a run that has not stopped ``CANCEL_GRACE_SECONDS`` after it was asked to."""
        last_check = time.monotonic()
        cancelled_at: float | None = None
        while not execution.done.is_set():
            await anyio.sleep(0.05)
            if execution.cancel_requested:
                cancelled_at = cancelled_at or time.monotonic()
                if time.monotonic() - cancelled_at > CANCEL_GRACE_SECONDS:
                    execution.interrupt()
                    cancelled_at = time.monotonic()  # again later if it is still running
                continue
            if time.monotonic() - last_check < CANCEL_CHECK_SECONDS:
                continue
            last_check = time.monotonic()
            try:
                current = await self.client.read_flow_run(execution.flow_run_id)
            except Exception:  # a missed check is retried a second later
                continue
            if current.state is not None and current.state.type == StateType.CANCELLING:
                self._logger.info("Cancelling flow run %s", execution.flow_run_id)
                execution.cancel()

    async def _mark_cancelled(self, flow_run: FlowRun) -> None:
        with contextlib.suppress(Exception):
            current = await self.client.read_flow_run(flow_run.id)
            if current.state is None or current.state.type != StateType.CANCELLED:
                await self.client.set_flow_run_state(flow_run.id, Cancelled(message="Cancelled on the desk."),
                                                     force=True)

    async def _cancel_run(self, flow_run_id: UUID) -> None:
        """Prefect's observer reports a Cancelling run: stop it if it runs here, else Prefect's handling (a run
        not started yet is marked Cancelled)."""
        execution = self._executions.get(flow_run_id)
        if execution is not None:
            execution.cancel()
            return
        await super()._cancel_run(flow_run_id)


class _TrustStoreOnce:
    """Stands in for the ``ssl`` module inside Prefect's client modules, in the desk's process only.

    Prefect builds a new verifying SSL context, parsing certifi's (or ``PREFECT_API_SSL_CERT_FILE``'s) whole CA
    bundle, for every client it creates: the engine makes several per flow run and one per task call, 60-70 ms of
    CPU each, 0.2-0.4 s a form. A context that verifies against a given CA file is the same every time and is
    never changed after it is made, so the desk builds it once per file and shares it (OpenSSL contexts are safe
    to share between connections and threads). A context made without a CA file is the one Prefect weakens when
    ``PREFECT_API_TLS_INSECURE_SKIP_VERIFY`` is set: it is always new. A changed bundle is read when the desk
    restarts. Everything else is the real module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH, *, cafile: str | None = None,
                               capath: str | None = None, cadata: str | bytes | None = None) -> ssl.SSLContext:
        if cafile is None or capath is not None or cadata is not None:
            return ssl.create_default_context(purpose, cafile=cafile, capath=capath, cadata=cadata)
        return _verifying_context(purpose, cafile)


@functools.lru_cache(maxsize=4)
def _verifying_context(purpose: ssl.Purpose, cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(purpose, cafile=cafile)


def share_trust_store() -> None:
    """Give Prefect's API and websocket clients ``_TrustStoreOnce`` (see there)."""
    import prefect._internal.websockets
    import prefect.client.orchestration

    for module in (prefect.client.orchestration, prefect._internal.websockets):
        module.ssl = _TrustStoreOnce()  # type: ignore[assignment]


def warm_up() -> None:
    """Import every desk flow, and what they render with, before the first run asks: each import here is CPU a
    command would otherwise wait for. A tiny PDF also loads WeasyPrint's fonts."""
    for entrypoint in sorted(DESK_ENTRYPOINTS):
        load_desk_flow(entrypoint)
    for module in ("weasyprint", "docx", "openpyxl", "pandas", "matplotlib.pyplot",
                   "missing_episodes.jobs.documents", "missing_episodes.jobs.reports"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    with contextlib.suppress(Exception):
        from weasyprint import HTML

        HTML(string="<p>warm</p>").write_pdf()


async def answer_doorbell(worker: DeskWorker) -> None:
    """Poll the pool as soon as a command rings (the doorbell's time changes), not at the next regular poll
    (``MISSING_EPISODES_DESK_QUERY_SECONDS``, 2 s; Prefect's default is 10): a command's run is picked up within
    ``DOORBELL_SECONDS`` plus one poll's round trip, and the server sees one poll per command. A second claim of
    a run the regular poll took is refused by the server, as when two workers share a pool."""
    bell = doorbell()
    last = _mtime(bell)
    while True:
        await anyio.sleep(DOORBELL_SECONDS)
        rung = _mtime(bell)
        if rung == last:
            continue
        last = rung
        if getattr(worker, "_work_pool", None) is None:  # not started yet: its first poll comes anyway
            continue
        try:
            await worker.get_and_submit_flow_runs()
        except Exception as exc:  # the regular poll is still there
            worker._logger.debug("Answering the doorbell failed: %s", _one_line(exc))


async def answer_checks() -> None:
    """Answer commands' checks (``missing_episodes.desk``) on ``runs/.desk.sock`` until cancelled.

    A check runs in a thread (it reads the database) while flows run; the socket is its owner's only (0600, in the
    0700 ``runs`` folder). A socket left by a desk that stopped is replaced; a second desk on the same output store
    takes it over (either answers as the other would: both run the command's flows with the same settings). Where
    the path is too long for a Unix socket, or it cannot be made, commands check for themselves.
    """
    path = check_socket()
    if len(os.fsencode(path)) > SOCKET_PATH_BYTES:
        logger.info("Checks are made by the commands: %s is too long for a socket", path)
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        listener = await anyio.create_unix_listener(path, mode=0o600)
    except OSError as exc:
        logger.info("Checks are made by the commands: no socket at %s (%s)", path, _one_line(exc))
        return
    made = path.stat().st_ino
    try:
        async with listener:
            await listener.serve(_answer_check)
    finally:
        with contextlib.suppress(OSError):
            if path.stat().st_ino == made:  # not a later desk's
                path.unlink()


async def _answer_check(stream: anyio.abc.SocketStream) -> None:
    async with stream:
        question = b""
        try:
            with anyio.fail_after(ANSWER_SECONDS):
                async for chunk in stream:
                    question += chunk
                    if len(question) > QUESTION_BYTES:
                        break
            reply = await anyio.to_thread.run_sync(answer, json.loads(question))
        except (ValueError, TimeoutError, anyio.BrokenResourceError) as exc:
            reply = {"error": _one_line(exc)}
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await stream.send(json.dumps(reply).encode("utf-8"))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


async def serve(pool: str = DESK_POOL, name: str | None = None, limit: int = 2, run_once: bool = False) -> None:
    from prefect.settings import PREFECT_WORKER_QUERY_SECONDS, temporary_settings

    with temporary_settings(updates={PREFECT_WORKER_QUERY_SECONDS: get_settings().desk_query_seconds}):
        worker = DeskWorker(work_pool_name=pool, name=name, limit=limit, prefetch_seconds=0,
                            base_job_template=DeskWorker.get_default_base_job_template())
        if run_once:
            await worker.start(run_once=True)
            return
        async with anyio.create_task_group() as group:
            group.start_soon(answer_doorbell, worker)
            group.start_soon(answer_checks)
            await worker.start()
            group.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> int:
    """``python -m deployments.desk [--pool NAME] [--name NAME] [--limit N]``: the desk worker, in the
    foreground, against ``PREFECT_API_URL``."""
    parser = argparse.ArgumentParser(prog="python -m deployments.desk", description=main.__doc__)
    parser.add_argument("--pool", default=DESK_POOL, help=f"the desk's work pool (default {DESK_POOL})")
    parser.add_argument("--name", default=None, help="worker name shown in the UI")
    parser.add_argument("--limit", type=int, default=2, help="runs at once (default 2: the machine's two cores)")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error(f"--limit {args.limit}: the desk must run at least one run at a time; give 1 or more")
    try:
        query_seconds = get_settings().desk_query_seconds
    except ValueError as exc:  # before anything starts: one line, as the command line says a setting's mistake
        parser.error(f"a MISSING_EPISODES_* setting is not a number ({exc}): fix or unset it")
    if not query_seconds > 0:
        parser.error(f"MISSING_EPISODES_DESK_QUERY_SECONDS={query_seconds:g}: give the seconds between two polls, "
                     "more than 0 (default 2)")
    started = time.monotonic()
    warm_up()
    print(f"desk: flows and renderers loaded in {time.monotonic() - started:.1f} s", flush=True)
    share_trust_store()
    asyncio.run(serve(args.pool, args.name, args.limit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
