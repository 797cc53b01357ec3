"""On a REAL Prefect server: pool, ``python -m deployments``'s apply step, a process worker, runs through the API.

The stack (server on loopback with its own PREFECT_HOME, the deployments applied, one worker, a local webhook
receiving the failure alerts) is started once per test process by ``stack()`` and shared with test_privacy.py
and test_ui.py, because a start costs ~15-40 s of a two-core machine; it is stopped at exit, and each process is
also tied to ours by ``setpriv --pdeathsig`` so a killed session leaves nothing behind. Every wait polls a state
or an endpoint with a deadline.
"""

from __future__ import annotations

import atexit
import functools
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from deployments import AUTOMATION_NAME, DEPLOYMENTS, FEEDS_LIMIT, TAG, WORK_POOL
from deployments.local import wait_for
from deployments.stack import LocalStack, start_stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]


@functools.cache
def stack() -> LocalStack:
    """Start the shared stack once per process (see the module docstring)."""
    current = start_stack(Path(tempfile.mkdtemp(prefix="me-prefect-")))
    atexit.register(current.stop)
    return current


@functools.cache
def sample_daily_run():
    """The daily run on the bundled feed, through the worker; once per process (privacy and UI tests reuse it)."""
    current = stack()
    requested = time.monotonic()
    flow_run = current.run("daily-run/working-days-0830", {"sample": True})
    current.timings["daily_run_total_s"] = time.monotonic() - requested
    if flow_run.start_time and flow_run.expected_start_time:
        current.timings["request_to_running_s"] = (flow_run.start_time - flow_run.expected_start_time).total_seconds()
    return flow_run


def test_apply_creates_pool_deployments_limits_and_alert() -> None:
    current = stack()

    async def read(client):
        pool = await client.read_work_pool(WORK_POOL)
        deployments = {spec.full_name: await client.read_deployment_by_name(spec.full_name) for spec in DEPLOYMENTS}
        automations = await client.read_automations_by_name(AUTOMATION_NAME)
        limit = await client.read_global_concurrency_limit_by_name(FEEDS_LIMIT)
        return pool, deployments, automations, limit

    pool, deployments, automations, limit = current.call(read)
    assert pool.type == "process" and pool.concurrency_limit
    for spec in DEPLOYMENTS:
        deployment = deployments[spec.full_name]
        assert deployment.work_pool_name == WORK_POOL and TAG in deployment.tags
        assert deployment.entrypoint == spec.entrypoint
        if spec.cron:
            (schedule,) = deployment.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (spec.cron, spec.timezone)
            assert schedule.active
        else:
            assert not deployment.schedules
    daily = deployments["daily-run/working-days-0830"]
    assert daily.global_concurrency_limit is not None and daily.global_concurrency_limit.limit == 1
    (automation,) = automations
    assert automation.enabled and automation.actions[0].type == "send-notification"
    assert limit.limit == 1


def test_daily_run_on_the_sample_completes_with_its_briefing_artifact() -> None:
    flow_run = sample_daily_run()
    assert flow_run.state.is_completed(), flow_run.state.message

    async def artifact(client):
        return await client.read_latest_artifacts(limit=50)

    latest = {a.key: a for a in stack().call(artifact)}
    assert "daily-briefing" in latest
    briefing = latest["daily-briefing"]
    assert "Delivery" in briefing.data and "| section | count |" in briefing.data
    result_day = stack().timings
    assert result_day["request_to_running_s"] < 120


def test_record_outcome_from_the_form_stores_text_in_the_product_only() -> None:
    """Plain strings, as the UI form sends them: stored in clear by Prefect until the flow scrubs them."""
    current = stack()
    sample_daily_run()  # the register must know the child
    flow_run = current.run("record-outcome/on-demand", {"outcome": {
        "child": "P000101", "event": "rhi_completed", "by": "Coordinator Quentin Marchbanks",
        "notes": "Spoke with Xanthe Quillfeather at the bus station",
    }})
    assert flow_run.state.is_completed(), flow_run.state.message

    async def stored(client, run_id):
        return (await client.read_flow_run(run_id)).parameters

    parameters = current.call(stored, flow_run.id)
    assert parameters["outcome"]["notes"] == "**********" and parameters["outcome"]["by"] == "**********"
    with sqlite3.connect(current.product_db.removeprefix("sqlite:///")) as connection:
        notes = connection.execute("SELECT notes FROM outcome WHERE source = 'coordinator'").fetchall()
    assert ("Spoke with Xanthe Quillfeather at the bus station",) in notes


def test_a_failed_run_alerts_through_the_automation() -> None:
    current = stack()
    flow_run = current.run("record-outcome/on-demand", {"outcome": {"child": "CH-000000000000",
                                                                    "event": "rhi_completed"}})
    assert flow_run.state.is_failed()
    assert "CH-000000000000" in (flow_run.state.message or "")

    def alerted():
        return [a for a in current.alerts if str(flow_run.id) in a.get("body", "")]

    (alert,) = wait_for(alerted, 120, "failure alert")  # type: ignore[misc]
    assert "Failed" in alert["subject"] and "CH-" not in alert["body"]  # a link, not the error


def test_measured_timings_are_recorded() -> None:
    """Not a benchmark: the figures docs/operations.md quotes, printed with -s and kept sane."""
    sample_daily_run()
    timings = stack().timings
    print({k: round(v, 1) for k, v in timings.items()})
    assert timings["server_start_s"] < 180 and 100 < timings["server_rss_mb"] < 1500
