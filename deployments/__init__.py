"""Every Prefect deployment of the project, declared once (``DEPLOYMENTS``), and the step that applies them.

Why Python rather than a ``prefect.yaml``: the same declarations feed ``python -m deployments`` (create the work
pool, the deployments, the concurrency limits and the failure alert in one idempotent step), the smoke test
(build each deployment offline and check its flow, schedule and parameter form) and the docs. Entrypoints are
module paths (``flows.daily.daily_run``), which the process worker imports from the installed package, so no code
is copied anywhere; the job's working directory is the repository (templates, ``data/``, relative output paths).

Schedules are cron with an explicit time zone. Clock-time jobs use Europe/London and sit outside 01:00–02:59:
Prefect 3.8's cron schedule skips the repeated hour when the clocks go back (``*/30 * * * *`` in Europe/London
on 2026-10-25 yields 00:00Z, 00:30Z, then 02:00Z), so the every-five-minutes ingest, which has no clock-time
meaning and must not go quiet for an hour at night, is cron in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule

from flows.daily import daily_run
from flows.documents import weekly_list
from flows.ingest import ingest_files, ingest_sources
from flows.operations import brief_for_date, monthly_board_report, record_outcome, regenerate_serious_notification
from flows.recompute import recompute_actions
from missing_episodes.config import PROJECT_ROOT

WORK_POOL = "missing-episodes"
TAG = "missing-episodes"
LONDON = "Europe/London"
#: Runs at once across the pool: the machine has two cores, a flow run is a Python process of ~150 MB.
POOL_CONCURRENCY = 4
#: The global concurrency limit the feed-reading flows should hold (see docs/operations.md): two ingests moving
#: the same drop-folder file would fail one of them.
FEEDS_LIMIT = "missing-episodes-feeds"
AUTOMATION_NAME = "missing-episodes: flow run failed"
ALERT_BLOCK_NAME = "missing-episodes-alerts"

#: Deployment concurrency: (limit, what a run arriving at the limit does). ENQUEUE waits, CANCEL_NEW gives up.
ONE_AT_A_TIME = (1, ConcurrencyLimitStrategy.ENQUEUE)
SKIP_IF_RUNNING = (1, ConcurrencyLimitStrategy.CANCEL_NEW)


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: a flow, when it runs (cron + zone, or on demand) and what it may overlap with."""

    name: str
    flow: Flow
    description: str
    cron: str | None = None
    timezone: str = LONDON
    parameters: dict[str, Any] = field(default_factory=dict)
    concurrency: tuple[int, ConcurrencyLimitStrategy] | None = ONE_AT_A_TIME
    tags: tuple[str, ...] = ()

    @property
    def entrypoint(self) -> str:
        """``module.function`` of the flow: what the worker imports."""
        return f"{self.flow.fn.__module__}.{self.flow.fn.__name__}"

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as ``prefect deployment run`` and ``run_deployment`` want it."""
        return f"{self.flow.name}/{self.name}"


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "every-5-minutes", ingest_sources,
        "Read every configured feed (drop folders, HTTP) and run the rules for what changed. A run still going "
        "when the next is due makes the next one cancel itself rather than queue.",
        cron="2-59/5 * * * *", timezone="UTC", concurrency=SKIP_IF_RUNNING, tags=("feeds",),
    ),
    DeploymentSpec(
        "working-days-0830", daily_run,
        "The main job: ingest, every rule, roll the long-term schedules forward, the daily briefing pack. "
        "Runs on bank holidays too (see docs/operations.md).",
        cron="30 8 * * 1-5", tags=("feeds", "documents"),
    ),
    DeploymentSpec(
        "monday-0900", weekly_list,
        "The weekly list of children who are or were missing, for the week ending the Sunday before.",
        cron="0 9 * * 1", tags=("documents",),
    ),
    DeploymentSpec(
        "long-term-missing-reviews", recompute_actions,
        "Daily, weekends included: re-run the rules for children still missing so repeating reviews roll on.",
        cron="0 7 * * *", parameters={"everyone": False, "reason": "daily long-term missing reviews"},
    ),
    DeploymentSpec(
        "first-of-month", monthly_board_report,
        "The Corporate Parenting Board report for the previous calendar month.",
        cron="0 7 1 * *", tags=("reports",),
    ),
    DeploymentSpec(
        "on-demand", brief_for_date,
        "A coordinator's briefing pack for a chosen day (after a late feed, or a bank holiday).",
        concurrency=None, tags=("documents", "on-demand"),
    ),
    DeploymentSpec(
        "on-demand", regenerate_serious_notification,
        "Regenerate the serious notification form of an episode (EP- ref or police incident ref).",
        concurrency=None, tags=("documents", "on-demand"),
    ),
    DeploymentSpec(
        "on-demand", record_outcome,
        "Record a case outcome (RHI, strategy meeting, …) for a child by person id or CH- ref; free text is masked.",
        concurrency=None, tags=("on-demand",),
    ),
    DeploymentSpec(
        "on-demand", ingest_files,
        "Ingest named files of one feed now (paths on the worker's machine).",
        concurrency=None, tags=("feeds", "on-demand"),
    ),
)


def job_variables() -> dict[str, Any]:
    """The process job's variables: run in the repository. Settings (database URL with its password, SMTP) come
    from the worker's environment, never from here: job variables are stored in Prefect's database in clear."""
    return {"working_dir": str(PROJECT_ROOT)}


def build(spec: DeploymentSpec, work_pool: str = WORK_POOL):
    """The ``RunnerDeployment`` for one spec; offline (no API call), so the smoke test can build every one."""
    from prefect.types.entrypoint import EntrypointType

    schedules = [CronSchedule(cron=spec.cron, timezone=spec.timezone)] if spec.cron else None
    deployment = spec.flow.to_deployment(
        name=spec.name,
        description=spec.description,
        schedules=schedules,
        parameters=spec.parameters or None,
        concurrency_limit=ConcurrencyLimitConfig(limit=spec.concurrency[0], collision_strategy=spec.concurrency[1])
        if spec.concurrency else None,
        tags=[TAG, *spec.tags],
        work_pool_name=work_pool,
        job_variables=job_variables(),
        entrypoint_type=EntrypointType.MODULE_PATH,
        enforce_parameter_schema=True,
        _sync=True,  # the same object whether ``apply`` (async) or the smoke test (sync) asks
    )
    deployment.entrypoint = spec.entrypoint
    return deployment


def build_all(work_pool: str = WORK_POOL) -> list:
    return [build(spec, work_pool) for spec in DEPLOYMENTS]
