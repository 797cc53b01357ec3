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

from deployments.forms import form_schema
from flows.daily import daily_run
from flows.documents import daily_briefing, serious_notification, weekly_list
from flows.fanout import RULES_RANGE_DEPLOYMENT, recompute_fan_out, rules_range
from flows.ingest import FEED_CONCURRENCY_LIMIT, ingest_files, ingest_sources
from flows.notify import notify
from flows.operations import brief_for_date, monthly_board_report, record_outcome, regenerate_serious_notification
from flows.recompute import recompute_actions
from flows.reports import bimonthly_oversight_report, board_report_flow, oversight_report_flow
from missing_episodes.config import PROJECT_ROOT, get_settings
from missing_episodes.policy import Policy, load_policy

WORK_POOL = "missing-episodes"
#: The desk's pool (``deployments.desk``): on-demand runs executed inside one warm process, answered in seconds.
DESK_POOL = "missing-episodes-desk"
TAG = "missing-episodes"
LONDON = "Europe/London"
#: Runs at once across the pool: the machine has two cores, a flow run is a Python process of ~150 MB.
POOL_CONCURRENCY = 4
#: The global concurrency limit the feed-reading flows hold (defined beside them; created here by the apply step).
FEEDS_LIMIT = FEED_CONCURRENCY_LIMIT
AUTOMATION_NAME = "missing-episodes: flow run failed"
ALERT_BLOCK_NAME = "missing-episodes-alerts"

#: Deployment concurrency: (limit, what a run arriving at the limit does). ENQUEUE waits, CANCEL_NEW gives up.
ONE_AT_A_TIME = (1, ConcurrencyLimitStrategy.ENQUEUE)
SKIP_IF_RUNNING = (1, ConcurrencyLimitStrategy.CANCEL_NEW)

#: The on-demand deployments, named by what they do (the UI lists deployments by these names).
RECORD_AN_OUTCOME = "Record an outcome"
BRIEFING_FOR_A_DAY = "Briefing for a chosen day"
SERIOUS_NOTIFICATION = "Serious notification for an episode"
INGEST_NAMED_FILES = "Ingest named files (operators)"
RULES_RANGE = RULES_RANGE_DEPLOYMENT.split("/", 1)[1]
RECOMPUTE_ACROSS_WORKERS = "Recompute every child across the workers"
#: The deployments the command line runs on the desk when ``PREFECT_API_URL`` is set (``cli.desk``).
COMMAND_LINE = "command line"


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
    #: The parameters the UI's form shows; None: all of them. Engineers' settings (``sample``, ``out_dir``,
    #: ``sources_file``) are left off coordinators' forms and take their defaults (or ``parameters``).
    form: tuple[str, ...] | None = None
    #: On demand and wanted in seconds: the run goes to the desk's pool (``DESK_POOL``), whose worker runs it in
    #: its own warm process, rather than to the process workers, which start a new Python for every run.
    desk: bool = False
    #: The server checks a run's parameters against the form (off only for the command line's deployments: their
    #: form is empty, the command checked its values, and the flow checks their types again).
    check_parameters: bool = True

    @property
    def entrypoint(self) -> str:
        """``module.function`` of the flow: what the worker imports."""
        return f"{self.flow.fn.__module__}.{self.flow.fn.__name__}"

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as ``prefect deployment run`` and ``run_deployment`` want it."""
        return f"{self.flow.name}/{self.name}"


ON_LONDON_TIME = "Times are Europe/London (BST in summer, GMT in winter)."

DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "every-5-minutes", ingest_sources,
        "Every 5 minutes, on the UTC clock: read every configured feed (drop folders, HTTP) and run the rules for "
        "what changed. UTC because a 5-minute job has no clock time to keep, and Prefect skips the repeated hour "
        "when London's clocks go back: on London time it would go quiet for an hour every October. A run still "
        "going when the next is due makes the next one cancel itself rather than queue.",
        cron="2-59/5 * * * *", timezone="UTC", concurrency=SKIP_IF_RUNNING, tags=("feeds",), form=(),
    ),
    DeploymentSpec(
        "notify-every-5-minutes", notify,
        "Every 5 minutes, on the UTC clock: tell the people who must act when an action falls due, goes overdue, "
        "changes hands or climbs the escalation ladder (out of office hours, the on-call contact of the rota), and "
        "send the Team Manager the serious notification form when it falls due. Each message goes once; one that "
        "failed is retried here. Also runs at the end of every ingest and daily run. Nothing to fill in.",
        cron="4-59/5 * * * *", timezone="UTC", concurrency=SKIP_IF_RUNNING, tags=("notifications",), form=(),
    ),
    DeploymentSpec(
        "working-days-0830", daily_run,
        "Monday to Friday at 08:30 London time: read the feeds, run every rule, roll the long-term schedules "
        "forward, and send the daily briefing pack. Runs on bank holidays too (see docs/operations.md). "
        "To brief for another day, use 'Briefing for a chosen day'. " + ON_LONDON_TIME,
        cron="30 8 * * 1-5", tags=("feeds", "documents"), form=("day",),
    ),
    DeploymentSpec(
        "monday-0900", weekly_list,
        "Mondays at 09:00 London time: the weekly list of children who are or were missing, for the week ending "
        "the Sunday before. " + ON_LONDON_TIME,
        cron="0 9 * * 1", tags=("documents",), form=("week_ending",),
    ),
    DeploymentSpec(
        "long-term-missing-reviews", recompute_actions,
        "Every day at 07:00 London time, weekends included: re-run the rules for children still missing so "
        "repeating reviews roll on. Nothing to fill in. " + ON_LONDON_TIME,
        cron="0 7 * * *", parameters={"everyone": False, "reason": "daily long-term missing reviews"}, form=(),
    ),
    DeploymentSpec(
        "first-of-month", monthly_board_report,
        "On the 1st of each month at 07:00 London time: the Corporate Parenting Board report for the previous "
        "calendar month. Run it by hand for other months (fill in how many months and the last one). "
        + ON_LONDON_TIME,
        cron="0 7 1 * *", tags=("reports",),
    ),
    DeploymentSpec(
        "every-second-month", bimonthly_oversight_report,
        "On the 1st of January, March, May, July, September and November at 07:00 London time: the management "
        "oversight list of children missing three or more times in the two calendar months just ended. "
        + ON_LONDON_TIME,
        cron="0 7 1 */2 *", tags=("reports",), form=(),
    ),
    DeploymentSpec(
        BRIEFING_FOR_A_DAY, brief_for_date,
        "The daily briefing pack for a day you choose: again after a late feed, or for a missed bank-holiday "
        "morning. Nobody who already had that day's pack is mailed again. The run page says what is in it and "
        "where it went.",
        concurrency=None, tags=("documents", "coordinators"),
    ),
    DeploymentSpec(
        SERIOUS_NOTIFICATION, regenerate_serious_notification,
        "The serious notification form of one episode, made again (and sent, if it never was). Give the EP- ref "
        "from the briefing or the police incident reference.",
        concurrency=None, tags=("documents", "coordinators"),
    ),
    DeploymentSpec(
        RECORD_AN_OUTCOME, record_outcome,
        "Record what happened for a child: a return home interview done or declined, a strategy meeting held or "
        "not needed, ... Name the child by person id or CH- ref and the incident by the police reference; no "
        "names or notes here (they go in through the case-management system). The run page says which actions "
        "it closed.",
        concurrency=None, tags=("coordinators",),
    ),
    DeploymentSpec(
        INGEST_NAMED_FILES, ingest_files,
        "For operators: read named files of one feed now (paths on the worker's machine), then run the rules. "
        "Runs on the process workers, so several at once spread over the pool.",
        concurrency=None, tags=("feeds", "operators"),
    ),
    DeploymentSpec(
        RECOMPUTE_ACROSS_WORKERS, recompute_fan_out,
        "After a policy change or a first load: run the rules again for every child, in batches of children "
        "spread over every worker of the pool (one run per batch). Nothing to fill in; the run page says how "
        "many children and batches.",
        parameters={"everyone": True, "reason": "policy change: recompute across the workers"}, form=(),
        tags=("operators",),
    ),
    DeploymentSpec(
        RULES_RANGE, rules_range,
        "One batch of 'Recompute every child across the workers', started by it: the rules for the flagged "
        "children in a range of child ids. Not meant to be started by hand: its stored range is empty, so a run "
        "started from the UI does nothing.",
        parameters={"first_id": 0, "last_id": -1}, concurrency=None, form=(), tags=("operators",),
    ),
    # What the command line runs (``missing-episodes form serious-notification``, ``report board``, ...): the
    # same flows as without a server, on the desk, so a command answers in seconds and its run is recorded here.
    *(DeploymentSpec(
        COMMAND_LINE, flow,
        f"Started by `missing-episodes {command}` when PREFECT_API_URL is set: the command checks its values and "
        f"this records the run. Not for the UI's Run button (it has no form){also}.",
        concurrency=None, tags=(kind, "command-line"), desk=True, form=(), check_parameters=False,
    ) for flow, command, kind, also in (
        (ingest_files, "ingest", "feeds", "; use 'Ingest named files (operators)'"),
        (serious_notification, "form serious-notification", "documents",
         "; use 'Serious notification for an episode'"),
        (daily_briefing, "briefing", "documents", "; use 'Briefing for a chosen day'"),
        (weekly_list, "weekly-list", "documents", ""),
        (board_report_flow, "report board", "reports", ""),
        (oversight_report_flow, "report oversight", "reports", ""),
    )),
)

def job_variables() -> dict[str, Any]:
    """The process job's variables: run in the repository. Settings (database URL with its password, SMTP) come
    from the worker's environment, never from here: job variables are stored in Prefect's database in clear."""
    return {"working_dir": str(PROJECT_ROOT)}


def build(spec: DeploymentSpec, work_pool: str = WORK_POOL, policy: Policy | None = None,
          desk_pool: str = DESK_POOL):
    """The ``RunnerDeployment`` for one spec; offline (no API call), so the smoke test can build every one.
    A desk spec goes to ``desk_pool`` (no job variables: its runs execute in the desk's own process), every other
    to the process pool ``work_pool``.

    ``policy`` (default: the configured one) gives the forms the authority's id formats and reason list.
    """
    from prefect.types.entrypoint import EntrypointType

    policy = policy or load_policy(get_settings().policy_path)
    schedules = [CronSchedule(cron=spec.cron, timezone=spec.timezone)] if spec.cron else None
    deployment = spec.flow.to_deployment(
        name=spec.name,
        description=spec.description,
        schedules=schedules,
        parameters=spec.parameters or None,
        concurrency_limit=ConcurrencyLimitConfig(limit=spec.concurrency[0], collision_strategy=spec.concurrency[1])
        if spec.concurrency else None,
        tags=[TAG, *spec.tags],
        work_pool_name=desk_pool if spec.desk else work_pool,
        job_variables=None if spec.desk else job_variables(),
        entrypoint_type=EntrypointType.MODULE_PATH,
        enforce_parameter_schema=spec.check_parameters,
        _sync=True,  # the same object whether ``apply`` (async) or the smoke test (sync) asks
    )
    deployment.entrypoint = spec.entrypoint
    deployment._parameter_openapi_schema = form_schema(spec, deployment._parameter_openapi_schema, policy)
    return deployment


def build_all(work_pool: str = WORK_POOL) -> list:
    policy = load_policy(get_settings().policy_path)
    return [build(spec, work_pool, policy) for spec in DEPLOYMENTS]
