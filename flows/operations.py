"""On-demand flows a coordinator starts from the Prefect UI, and the monthly board report's date arithmetic.

Each takes one pydantic model, so the UI's "Run ▸ Custom run" shows a form with typed, validated fields instead
of a JSON box. What a coordinator types lands in Prefect's database as the flow run's parameters, so:

* a child is named by the authority's person id or its ``CH-`` ref, an episode by its ``EP-`` ref or the police
  incident reference; never by name;
* free text (who recorded it, rationale, notes) may well name people, so those fields are ``SecretStr``. The UI
  shows them as password fields, and a flow run started from Python with the model sends ``**********``, but
  Prefect 3.8 stores whatever the caller sent: a run started from the UI form or with plain strings over the
  API is stored in clear. ``record_outcome`` therefore overwrites its own stored parameters with the masked
  values as soon as the outcome is stored (``_scrub_stored_parameters``), and refuses to run on masked values
  (a "Retry" of a finished run) rather than store asterisks as a case note.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from prefect import flow, get_client, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import select

from flows.documents import daily_briefing, serious_notification
from flows.reports import board_report_flow
from flows.review import review_changed
from missing_episodes import service
from missing_episodes.clock import as_london, now
from missing_episodes.db.models import Child, Episode
from missing_episodes.feeds import OUTCOME_EVENTS
from missing_episodes.sources import RawRow
from tasks.ingest import ensure_schema

#: What pydantic writes for a SecretStr in JSON mode, and what a scrubbed stored parameter holds.
MASK = "**********"
#: Source name of outcomes recorded through Prefect (the audit trail says who: "coordinator").
COORDINATOR_SOURCE = "coordinator"

PERSON_OR_CHILD_REF = r"^(CH-[0-9A-F]{12}|[A-Za-z0-9][A-Za-z0-9_\-/]{0,63})$"
EPISODE_OR_INCIDENT_REF = r"^(EP-[0-9A-F]{12}|[A-Za-z0-9][A-Za-z0-9_\-/]{2,63})$"

# The events the feed contract knows, as an enumeration the UI's form can offer.
OutcomeEvent = Literal[tuple(sorted(OUTCOME_EVENTS))]  # type: ignore[valid-type]
RiskLevel = Literal["high", "medium", "low", "no_apparent_risk"]


class _Form(BaseModel):
    # Unknown keys are an operator's typo: reject them rather than drop what was meant.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BriefingRequest(_Form):
    """The daily briefing pack for one day (re-rendered; delivery is keyed, so nobody is mailed twice)."""

    day: date | None = Field(default=None, description="The morning to brief for; empty means today (London).")


class SeriousNotificationRequest(_Form):
    """Regenerate the serious notification form of one episode."""

    ref: str = Field(pattern=EPISODE_OR_INCIDENT_REF,
                     description="The episode's EP- ref (preferred) or the police incident reference.")
    rule_id: str | None = Field(default=None, description="The rule to report under; empty: the builder's choice.")


class OutcomeRequest(_Form):
    """A case outcome (RHI done or declined, strategy meeting held, …) recorded by a coordinator."""

    child: str = Field(pattern=PERSON_OR_CHILD_REF,
                       description="The authority's person id (e.g. P000101) or the child's CH- ref. Never a name.")
    event: OutcomeEvent = Field(description="What happened.")
    incident_ref: str | None = Field(default=None, max_length=64,
                                     description="The police incident reference the outcome belongs to, if any.")
    recorded_at: datetime | None = Field(default=None, description="When it happened; empty means now.")
    risk_level: RiskLevel | None = None
    by: SecretStr | None = Field(default=None, description="Who recorded it (masked in Prefect).")
    rationale: SecretStr | None = Field(
        default=None, description="Why (required for strategy_meeting_not_required). Masked in Prefect.")
    notes: SecretStr | None = Field(default=None, description="Free text; may name people, so masked in Prefect.")
    event_id: str | None = Field(default=None, max_length=64,
                                 description="Idempotency key; empty: one per flow run (COORD-<flow run id>).")

    def secrets(self) -> dict[str, SecretStr | None]:
        return {"by": self.by, "rationale": self.rationale, "notes": self.notes}


class BoardReportRequest(_Form):
    """The Corporate Parenting Board report over whole calendar months."""

    months: int = Field(default=1, ge=1, le=24, description="How many whole calendar months to cover.")
    ending_before: date | None = Field(
        default=None, description="The report ends on the last day of the month before this day; empty: today.")


def _revealed(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def board_period(request: BoardReportRequest, today: date) -> tuple[date, date]:
    """First and last day of the ``months`` whole calendar months before ``ending_before`` (or ``today``)."""
    anchor = request.ending_before or today
    date_to = anchor.replace(day=1) - timedelta(days=1)
    start = date_to.replace(day=1)
    for _ in range(request.months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, date_to


# -- tasks ---------------------------------------------------------------------------------------------------


@task(name="resolve-episode", task_run_name="resolve-episode")
def resolve_episode(ref: str) -> str:
    """An EP- ref as given, or the one episode with this incident reference (an error names refs, never people)."""
    if ref.startswith("EP-"):
        return ref
    with service.Context.load().session() as session:
        refs = list(session.scalars(select(Episode.ref).where(Episode.incident_ref == ref)))
    if len(refs) != 1:
        raise ValueError(f"incident reference {ref!r} matches {len(refs)} episodes ({', '.join(refs) or 'none'})")
    return refs[0]


@task(name="resolve-child", task_run_name="resolve-child")
def resolve_child(child: str) -> tuple[str, str]:
    """(person id, CH- ref) for a person id or a CH- ref; a person id not yet known gets its ref when stored."""
    context = service.Context.load()
    with context.session() as session:
        if child.startswith("CH-"):
            row = session.execute(select(Child.person_id, Child.ref).where(Child.ref == child)).first()
            if row is None:
                raise ValueError(f"no child with ref {child}")
            if not row.person_id:
                raise ValueError(f"child {child} has no person id yet (met only in a police notification): "
                                 "record the outcome against the person id once the register has it")
            return row.person_id, row.ref
        ref = session.scalar(select(Child.ref).where(Child.person_id == child))
    if ref is None:
        raise ValueError("the person id is not on the register; check it, or record the outcome by CH- ref")
    return child, ref


# NO_CACHE: the default cache key hashes the inputs, and these inputs are case notes.
@task(name="store-outcome", task_run_name="store-outcome-{event_id}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=5)
def store_outcome(outcome: OutcomeRequest, person_id: str, event_id: str) -> dict[str, object]:
    """One outcome row through the ordinary ingest (validation, quarantine, dedup on ``event_id``)."""
    recorded_at = outcome.recorded_at or now()
    data = {
        "event_id": event_id,
        "recorded_at": recorded_at.isoformat(),
        "child_id": person_id,
        "incident_ref": outcome.incident_ref or "",
        "event": outcome.event,
        "by": _revealed(outcome.by) or "",
        "rationale": _revealed(outcome.rationale) or "",
        "notes": _revealed(outcome.notes) or "",
        "risk_level": outcome.risk_level or "",
    }
    summary = service.summary_dict(
        service.ingest_records("outcomes", [RawRow(COORDINATOR_SOURCE, 1, data)], source=COORDINATOR_SOURCE)
    )
    if int(summary["quarantined"]):  # type: ignore[call-overload]
        # The quarantine row in the product's database has the reason; Prefect gets the key only.
        raise ValueError(f"outcome {event_id} was quarantined (see the quarantine for source {COORDINATOR_SOURCE})")
    return {k: summary[k] for k in ("read", "new", "duplicate", "quarantined")}


async def _scrub_stored_parameters(outcome: OutcomeRequest) -> bool:
    """Overwrite this flow run's stored parameters with the masked form (free text becomes ``**********``)."""
    run_id = flow_run.get_id()
    if run_id is None:
        return False
    async with get_client() as client:
        await client.update_flow_run(run_id, parameters={"outcome": outcome.model_dump(mode="json")})
    return True


# -- flows ---------------------------------------------------------------------------------------------------


@flow(name="brief-for-date", flow_run_name="brief-for-date")
async def brief_for_date(request: BriefingRequest) -> dict[str, object]:
    """The briefing pack for a chosen day, e.g. again after a late feed or for a missed bank-holiday morning."""
    return await daily_briefing(request.day or as_london(now()).date())


@flow(name="regenerate-serious-notification", flow_run_name="regenerate-serious-notification")
async def regenerate_serious_notification(request: SeriousNotificationRequest) -> dict[str, object]:
    """Re-render (and, if never sent, send) the serious notification form of one episode."""
    episode_ref = resolve_episode(request.ref)
    return await serious_notification(episode_ref, request.rule_id)


@flow(name="record-outcome", flow_run_name="record-outcome")
async def record_outcome(outcome: OutcomeRequest) -> dict[str, object]:
    """Store a coordinator's outcome for a child, then run the rules for what changed (the outcome closes actions).

    Not retried as a flow: a retry would read the scrubbed parameters. The storing task is retried instead.
    """
    logger = get_run_logger()
    masked = [name for name, value in outcome.secrets().items() if value is not None and
              value.get_secret_value() == MASK]
    if masked:
        raise ValueError(f"{', '.join(masked)} hold the mask {MASK}: this run's parameters were scrubbed after an "
                         "earlier attempt. Start a new run with the text typed again.")
    ensure_schema()
    event_id = outcome.event_id or f"COORD-{flow_run.get_id()}"
    try:
        person_id, child_ref = resolve_child(outcome.child)
        stored = store_outcome(outcome, person_id, event_id)
    finally:
        # Whatever happened, the free text leaves Prefect's database now (it is in the product's, if stored).
        scrubbed = await _scrub_stored_parameters(outcome)
    logger.info("outcome %s (%s) for %s: %s; parameters scrubbed: %s", event_id, outcome.event, child_ref, stored,
                scrubbed)
    rules = await review_changed()
    await acreate_markdown_artifact(
        key="record-outcome",
        markdown="\n".join([
            f"## Outcome {event_id}", "", "| field | value |", "| --- | --- |",
            f"| child | `{child_ref}` |", f"| event | {outcome.event} |",
            f"| stored | {stored['new']} new, {stored['duplicate']} duplicate |",
            f"| rules | {rules.get('created', 0)} created, {rules.get('updated', 0)} updated, "
            f"{rules.get('withdrawn', 0)} withdrawn |",
        ]),
        description=f"Outcome {outcome.event} recorded by a coordinator",
    )
    return {"event_id": event_id, "child_ref": child_ref, "event": outcome.event, "stored": stored, "rules": rules}


@flow(name="monthly-board-report", flow_run_name="monthly-board-report")
def monthly_board_report(request: BoardReportRequest | None = None) -> dict[str, object]:
    """The board report for the last whole month(s): a schedule cannot compute dates, so this flow does."""
    date_from, date_to = board_period(request or BoardReportRequest(), as_london(now()).date())
    return board_report_flow(date_from, date_to)
