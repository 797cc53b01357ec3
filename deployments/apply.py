"""Apply the declarations in ``deployments`` to a Prefect server: pool, limits, deployments, failure alert.

Idempotent: run it again after changing a schedule and it updates in place (deployments are keyed by
flow/name, the pool and limits are created once, the alert automation is replaced). It talks to
``PREFECT_API_URL`` like every Prefect client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from uuid import UUID

from prefect import get_client
from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, WorkPoolCreate, WorkPoolUpdate
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.exceptions import ObjectNotFound

from deployments import (
    ALERT_BLOCK_NAME,
    AUTOMATION_NAME,
    DEPLOYMENTS,
    DESK_POOL,
    FEEDS_LIMIT,
    POOL_CONCURRENCY,
    TAG,
    WORK_POOL,
    build,
)
from missing_episodes.config import get_settings
from missing_episodes.policy import load_policy

#: The states that page someone. Cancelled is not among them: CANCEL_NEW cancels an overlapping ingest on purpose.
ALERT_EVENTS = frozenset({"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"})
#: What the alert says: names of the flow run (pseudonymous refs and dates only) and a link; never the state
#: message, which quotes an exception and leaves the building in an e-mail or a chat message.
ALERT_SUBJECT = "missing-episodes: {{ flow.name }} run {{ flow_run.name }} is {{ flow_run.state.name }}"
ALERT_BODY = (
    "Flow run {{ flow_run.name }} ({{ flow.name }}/{{ deployment.name }}) ended {{ flow_run.state.name }}.\n"
    "Open it in Prefect: {{ flow_run|ui_url }}\n"
)


#: The second automation: a feed problem that is not a failed run (a looping cursor, ``max_pages`` reached with
#: more to read) posts to the same webhook. The alert line names the source and pages only.
FEED_ALERT_AUTOMATION = "missing-episodes: feed alert"
FEED_ALERT_SUBJECT = "missing-episodes: feed {{ event.resource['prefect.resource.name'] }} needs attention"
FEED_ALERT_BODY = "{{ event.payload.alert }}\n"


@dataclass
class Applied:
    work_pool: str
    deployments: dict[str, UUID] = field(default_factory=dict)
    automation: UUID | None = None


async def ensure_work_pool(name: str, concurrency: int = POOL_CONCURRENCY) -> None:
    """A ``process`` pool with Prefect's default job template and a concurrency limit for the whole pool."""
    from prefect.workers.process import ProcessWorker

    await _ensure_pool(name, "process", ProcessWorker.get_default_base_job_template(), concurrency,
                       "Scheduled runs, the coordinators' forms and the operators' runs: a new Python per run.")


async def ensure_desk_pool(name: str = DESK_POOL, concurrency: int = POOL_CONCURRENCY) -> None:
    """The desk's pool (type ``in-process``, ``deployments.desk``): on-demand runs, executed in one warm process."""
    from deployments.desk import DESK_TYPE, DeskWorker

    await _ensure_pool(name, DESK_TYPE, DeskWorker.get_default_base_job_template(), concurrency,
                       "The command line's runs, executed inside the desk worker's own process: "
                       "python -m deployments.desk")


async def _ensure_pool(name: str, type_: str, template: dict, concurrency: int, description: str) -> None:
    """Create the pool if it is not there; either way, set its concurrency limit for the whole pool."""
    async with get_client() as client:
        try:
            await client.read_work_pool(name)
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=name, type=type_, base_job_template=template,
                                                         concurrency_limit=concurrency, description=description))
            return
        await client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=concurrency))


async def ensure_global_limit(name: str = FEEDS_LIMIT, limit: int = 1) -> None:
    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))


async def ensure_alert(webhook_url: str) -> UUID:
    """A webhook notification block and an automation: any of our flow runs Failed/Crashed/TimedOut → POST.

    The webhook is generic JSON (``{"subject", "body"}``); point it at Teams/Slack/an e-mail relay. The
    automation matches flow runs by the deployments' tag, so ad-hoc runs outside the deployments stay quiet.
    """
    block = CustomWebhookNotificationBlock(
        name="missing-episodes", url=webhook_url, json_data={"subject": "{{subject}}", "body": "{{body}}"},
    )
    block_id = await block.asave(ALERT_BLOCK_NAME, overwrite=True)
    async with get_client() as client:
        for existing in await client.read_automations_by_name(AUTOMATION_NAME):
            await client.delete_automation(existing.id)
    automation = Automation(
        name=AUTOMATION_NAME,
        description="Notify the on-call contact when a missing-episodes flow run fails, crashes or times out.",
        trigger=EventTrigger(
            expect=set(ALERT_EVENTS),
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.id": f"prefect.tag.{TAG}"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block_id, subject=ALERT_SUBJECT, body=ALERT_BODY)],
    )
    created = await automation.acreate()
    await _ensure_feed_alert(block_id)
    return created.id


async def _ensure_feed_alert(block_id: UUID) -> UUID:
    """The automation for ``flows.ingest.FEED_ALERT_EVENT`` (replaced on every apply, like the failure alert)."""
    from flows.ingest import FEED_ALERT_EVENT

    async with get_client() as client:
        for existing in await client.read_automations_by_name(FEED_ALERT_AUTOMATION):
            await client.delete_automation(existing.id)
    automation = Automation(
        name=FEED_ALERT_AUTOMATION,
        description="Notify the on-call contact when a feed loops or has more pages than a poll may read.",
        trigger=EventTrigger(expect={FEED_ALERT_EVENT}, match={"prefect.resource.id": "missing-episodes.feed.*"},
                             posture=Posture.Reactive, threshold=1),
        actions=[SendNotification(block_document_id=block_id, subject=FEED_ALERT_SUBJECT, body=FEED_ALERT_BODY)],
    )
    return (await automation.acreate()).id


async def apply(work_pool: str = WORK_POOL, alert_webhook: str | None = None,
                pool_concurrency: int = POOL_CONCURRENCY, only: Collection[str] | None = None,
                desk_pool: str = DESK_POOL) -> Applied:
    """The pool, the limits and every deployment; with ``only`` (flow names), those flows' deployments alone (a
    benchmark or a test that wants no cron deployment to put scheduled runs on its workers)."""
    await ensure_work_pool(work_pool, pool_concurrency)
    await ensure_desk_pool(desk_pool, pool_concurrency)
    await ensure_global_limit()
    applied = Applied(work_pool)
    policy = load_policy(get_settings().policy_path)  # read and validated once, not once per deployment
    for spec in DEPLOYMENTS:
        if only is not None and spec.flow.name not in only:
            continue
        applied.deployments[spec.full_name] = await build(spec, work_pool, policy, desk_pool).aapply()
    if alert_webhook:
        applied.automation = await ensure_alert(alert_webhook)
    return applied


def main(argv: list[str] | None = None) -> int:
    """``python -m deployments [--pool NAME] [--alert-webhook URL]``: apply everything to PREFECT_API_URL."""
    parser = argparse.ArgumentParser(prog="python -m deployments", description=main.__doc__)
    parser.add_argument("--pool", default=WORK_POOL, help=f"process work pool (default {WORK_POOL})")
    parser.add_argument("--pool-concurrency", type=int, default=POOL_CONCURRENCY)
    parser.add_argument("--alert-webhook", default=os.environ.get("MISSING_EPISODES_ALERT_WEBHOOK"),
                        help="URL the failure alert POSTs to (default $MISSING_EPISODES_ALERT_WEBHOOK; none: no alert)")
    args = parser.parse_args(argv)
    applied = asyncio.run(apply(args.pool, args.alert_webhook, args.pool_concurrency))
    for name, deployment_id in applied.deployments.items():
        print(f"deployment {name}: {deployment_id}")
    if applied.automation:
        print(f"automation {AUTOMATION_NAME!r}: {applied.automation}")
    else:
        print("no alert webhook given: failures show in the UI only (pass --alert-webhook URL)")
    print(f"next: prefect worker start --pool {args.pool} --limit 2, and python -m deployments.desk (the on-demand "
          f"runs of pool {DESK_POOL}), both with MISSING_EPISODES_* in their environment")
    return 0
