"""The real-server stack the server tests share: started once per test process, stopped at exit.

``stack()`` starts a Prefect server on loopback with its own PREFECT_HOME, applies the deployments, counts the
scheduled runs the scheduler creates for every cron deployment (then pauses them), and starts one process worker and
a local webhook receiving the failure alerts: ~15-40 s of a two-core machine, so test_prefect_server.py,
test_privacy.py, test_ui.py and test_ui_forms.py share one (their ``xdist_group("prefect-server")`` keeps them on
one worker). ``sample_daily_run()`` is the daily run on the bundled feed, also once per process.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import tempfile
import time
from pathlib import Path

from deployments import DEPLOYMENTS
from deployments.local import PrefectServer, wait_for
from deployments.stack import LocalStack, start_stack

#: The scheduler service's loop in the test server (Prefect's default is 60 s): scheduled runs appear in seconds.
SCHEDULER_LOOP_S = 5
SCHEDULES_TIMEOUT_S = 120.0
CRON_SPECS = [spec for spec in DEPLOYMENTS if spec.cron]


@functools.cache
def stack() -> LocalStack:
    """Start the shared stack once per process (see the module docstring); scheduled runs are counted, then the
    cron deployments paused, before the worker starts."""

    def schedules(current: LocalStack) -> None:
        started = time.monotonic()
        current.scheduled = _scheduled_runs_then_pause(current.server)
        current.timings["schedules_s"] = time.monotonic() - started

    current = start_stack(Path(tempfile.mkdtemp(prefix="me-prefect-")),
                          server_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(SCHEDULER_LOOP_S)},
                          before_worker=schedules)
    atexit.register(current.stop)
    return current


def _scheduled_runs_then_pause(server: PrefectServer) -> dict[str, int]:
    """Wait (bounded) until the scheduler service has created SCHEDULED runs for every cron deployment, then pause
    those deployments and delete their scheduled runs: the other tests' worker must not start an ingest
    every five minutes. Runs before the worker starts, so none of them is executed."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    async def scheduled_runs(client, spec):
        deployment = await client.read_deployment_by_name(spec.full_name)
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
        )

    async def counts(client) -> dict[str, int]:
        return {spec.full_name: sum(1 for run in await scheduled_runs(client, spec) if run.auto_scheduled)
                for spec in CRON_SPECS}

    async def pause_and_delete(client) -> None:
        # Pausing deletes only the runs still in the future: a run already due (the five-minute ingest on a slow
        # machine, shown as Late) stays SCHEDULED for good, so what is left is deleted by id.
        for spec in CRON_SPECS:
            await client.pause_deployment((await client.read_deployment_by_name(spec.full_name)).id)
            for run in await scheduled_runs(client, spec):
                await client.delete_flow_run(run.id)

    def paused_and_none_left() -> bool:
        # A scheduler loop that read the deployments before the pause can still insert runs after it: pause and
        # delete again until a whole loop has passed with none left.
        asyncio.run(go(pause_and_delete))
        time.sleep(SCHEDULER_LOOP_S + 1)
        return not any(asyncio.run(go(counts)).values())

    async def go(coroutine_function):
        from prefect import get_client

        async with get_client() as client:
            return await coroutine_function(client)

    latest: dict[str, int] = {}

    def every_one_scheduled() -> bool:
        latest.update(asyncio.run(go(counts)))
        return all(latest.values())

    with server.client_settings():
        try:
            wait_for(every_one_scheduled, SCHEDULES_TIMEOUT_S, "scheduled runs for every cron deployment",
                     interval=2)
        except TimeoutError:
            pass  # the test reports which ones are missing
        finally:
            # Generous: on a busy 2-core CI machine the server took over a minute to settle the pauses.
            wait_for(paused_and_none_left, 240, "cron deployments paused with no scheduled run left", interval=1)
    return dict(latest)


@functools.cache
def sample_daily_run():
    """The daily run on the bundled feed, through the worker; once per process (privacy and UI tests reuse it)."""
    current = stack()
    requested = time.monotonic()
    # ``sample`` is an engineer's switch, off the coordinators' form (the schema refuses it): an operator's run
    # without the form's check, as the JSON editor with "Validate parameters" unticked would send it.
    flow_run = current.run_unchecked("daily-run/working-days-0830", {"sample": True})
    current.timings["daily_run_total_s"] = time.monotonic() - requested
    if flow_run.start_time and flow_run.expected_start_time:
        current.timings["request_to_running_s"] = (flow_run.start_time - flow_run.expected_start_time).total_seconds()
    return flow_run
