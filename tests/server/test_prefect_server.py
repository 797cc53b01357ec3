"""On a REAL Prefect server: pool, ``python -m deployments``'s apply step, a process worker, runs through the API.

The stack (server on loopback with its own PREFECT_HOME, the deployments applied, one worker, a local webhook
receiving the failure alerts) is started once per test process by ``stack()`` (tests/server/stack.py) and shared
with test_privacy.py, test_ui.py and test_ui_forms.py, because a start costs ~15-40 s of a two-core machine; it
is stopped at exit, and each process is also tied to ours by ``setpriv --pdeathsig`` so a killed session leaves
nothing behind. Every wait polls a state or an endpoint with a deadline.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deployments import AUTOMATION_NAME, DEPLOYMENTS, DESK_POOL, FEEDS_LIMIT, RECORD_AN_OUTCOME, TAG, WORK_POOL
from deployments.local import wait_for
from tests.server.stack import CRON_SPECS, sample_daily_run, stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

def test_apply_creates_pool_deployments_limits_and_alert() -> None:
    current = stack()

    async def read(client):
        pool = await client.read_work_pool(WORK_POOL)
        desk = await client.read_work_pool(DESK_POOL)
        deployments = {spec.full_name: await client.read_deployment_by_name(spec.full_name) for spec in DEPLOYMENTS}
        automations = await client.read_automations_by_name(AUTOMATION_NAME)
        limit = await client.read_global_concurrency_limit_by_name(FEEDS_LIMIT)
        return pool, desk, deployments, automations, limit

    pool, desk, deployments, automations, limit = current.call(read)
    assert pool.type == "process" and pool.concurrency_limit
    assert desk.type == "in-process" and desk.concurrency_limit
    for spec in DEPLOYMENTS:
        deployment = deployments[spec.full_name]
        assert deployment.work_pool_name == (DESK_POOL if spec.desk else WORK_POOL) and TAG in deployment.tags
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


def test_scheduled_runs_are_created_for_every_cron_deployment() -> None:
    """The scheduler service really schedules (SQLAlchemy 2.1 broke it silently: declared schedules, no runs)."""
    scheduled = stack().scheduled
    assert set(scheduled) == {spec.full_name for spec in CRON_SPECS}
    assert all(count > 0 for count in scheduled.values()), scheduled


def test_a_worker_executes_a_scheduled_run_when_it_falls_due() -> None:
    """An extra deployment of a cheap flow of the project (an ingest of no files: the schema check and an
    artifact) scheduled every minute: its first auto-scheduled run must be created by the scheduler, picked up by
    the worker and reach Completed."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from deployments import DeploymentSpec, build
    from flows.ingest import ingest_files

    current = stack()
    spec = DeploymentSpec("every-minute-test", ingest_files, "Test only: an empty ingest every minute.",
                          cron="* * * * *", timezone="UTC",
                          parameters={"kind": "children", "paths": [], "run_rules": False}, concurrency=None)

    async def create(client):
        return await build(spec).aapply(work_pool_name=WORK_POOL)

    deployment_id = current.call(create)

    async def completed(client):
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
        return [run for run in runs if run.auto_scheduled and run.state and run.state.is_completed()]

    async def remove(client):
        await client.delete_deployment(deployment_id)

    try:
        (first, *_) = wait_for(lambda: current.call(completed), 240, "a scheduled run completed by the worker",
                               interval=3)  # type: ignore[misc]
    finally:
        current.call(remove)
    assert first.expected_start_time.second == 0  # on the minute: it came from the cron, not from a request
    # A process worker submits a run up to its prefetch window early (PREFECT_WORKER_PREFETCH_SECONDS, 10 s by
    # default), so the run may start a little before the minute, never long before it.
    from prefect.settings import PREFECT_WORKER_PREFETCH_SECONDS

    assert first.start_time >= first.expected_start_time - timedelta(seconds=PREFECT_WORKER_PREFETCH_SECONDS.value())


def _open_interview() -> tuple[str, str]:
    """(person id, police incident ref) of a child with an open Return Home Interview, after the sample run."""
    with sqlite3.connect(stack().product_db.removeprefix("sqlite:///")) as connection:
        row = connection.execute(
            "SELECT child.person_id, episode.incident_ref FROM action JOIN child ON child.id = action.child_id "
            "JOIN episode ON episode.id = action.episode_id WHERE action.kind = 'return_home_interview' "
            "AND action.status = 'open' AND child.person_id IS NOT NULL ORDER BY action.trigger_at DESC LIMIT 1"
        ).fetchone()
    assert row, "the sample leaves open interviews"
    return row


@functools.cache
def recorded_outcome():
    """A coordinator records an RHI as done from the form (once per process; the retry test reuses it)."""
    sample_daily_run()
    person_id, incident = _open_interview()
    flow_run = stack().run(f"record-outcome/{RECORD_AN_OUTCOME}", {
        "child": person_id, "incident_ref": incident, "event": "Return home interview completed",
        "day": datetime.now(ZoneInfo("Europe/London")).date().isoformat(),
    })
    return flow_run, person_id, incident


def _artifacts(flow_run_id) -> list[str]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read(client):
        return await client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))

    return [artifact.data for artifact in stack().call(read)]


def test_record_outcome_closes_the_interview_and_says_so_on_the_run() -> None:
    flow_run, person_id, incident = recorded_outcome()
    assert flow_run.state.is_completed(), flow_run.state.message
    assert flow_run.name.startswith("outcome ") and person_id in flow_run.name and incident in flow_run.name
    (artifact,) = _artifacts(flow_run.id)
    assert f"RHI completed for {incident} marked done; 1 action closed" in artifact
    with sqlite3.connect(stack().product_db.removeprefix("sqlite:///")) as connection:
        (stored,) = connection.execute("SELECT event, incident_ref FROM outcome WHERE event_id = ?",
                                       (f"COORD-{flow_run.id}",)).fetchall()
    assert stored == ("rhi_completed", incident)


def test_retrying_a_completed_outcome_run_is_a_harmless_no_op() -> None:
    """The UI's Retry on a Completed run: it runs again on the same parameters, stores nothing, pages nobody."""
    from prefect.client.schemas.objects import State, StateType

    flow_run, _, _ = recorded_outcome()
    current = stack()
    # Prefect 3.8's process worker dies ("this borrower is already holding one of this CapacityLimiter's
    # tokens") when asked to run a flow run again before it has reaped that run's process: wait until it has.
    wait_for(lambda: not _children(current.server.workers[0].pid), 60, "worker done with the first attempt",
             interval=0.5)
    time.sleep(2)
    asked = time.time()

    async def retry(client):
        await client.set_flow_run_state(flow_run.id, State(type=StateType.SCHEDULED, name="AwaitingRetry",
                                                           message="Retry from the UI"), force=True)

    current.call(retry)
    again = current.wait_final(flow_run.id, after=asked)
    assert again.state.is_completed(), again.state.message
    assert again.run_count >= 2
    assert any("already recorded by this run's first attempt; nothing changed" in a for a in _artifacts(flow_run.id))
    with sqlite3.connect(current.product_db.removeprefix("sqlite:///")) as connection:
        (count,) = connection.execute("SELECT count(*) FROM outcome WHERE event_id = ?",
                                      (f"COORD-{flow_run.id}",)).fetchone()
    assert count == 1
    time.sleep(10)  # an alert would arrive within seconds; give it the chance to (wrongly) come
    assert not [a for a in current.alerts if str(flow_run.id) in a.get("body", "")]


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_a_failed_run_alerts_through_the_automation() -> None:
    current = stack()
    flow_run = current.run(f"record-outcome/{RECORD_AN_OUTCOME}", {
        "child": "CH-000000000000", "event": "Return home interview completed", "day": "2026-11-02"})
    assert flow_run.state.is_failed()
    assert "no child has that CH- ref" in (flow_run.state.message or "")

    def alerted():
        return [a for a in current.alerts if str(flow_run.id) in a.get("body", "")]

    (alert,) = wait_for(alerted, 120, "failure alert")  # type: ignore[misc]
    # The run's name (checked refs only) and a link, never the state message.
    assert "Failed" in alert["subject"] and "no child has that" not in json.dumps(alert)
    assert f"/runs/flow-run/{flow_run.id}" in alert["body"]


def test_measured_timings_are_recorded() -> None:
    """Not a benchmark: the figures docs/operations.md quotes, printed with -s and kept sane."""
    sample_daily_run()
    timings = stack().timings
    print({k: round(v, 1) for k, v in timings.items()})
    assert timings["server_start_s"] < 180 and 100 < timings["server_rss_mb"] < 1500
