"""The flows behind the coordinators' forms in the Prefect UI, and the monthly board report's date arithmetic.

Each flow takes flat, structured parameters, so the UI's "Run ▸ Custom run" shows one plain field per value:
ids in the authority's formats, choices from lists, dates. There is no free-text field at all: whatever a form
sends is stored by Prefect in ``flow_run.parameters`` in clear (``SecretStr`` included), and the form's checks
can be switched off ("Validate parameters" unticked), so the only safe free text is none (issue 17: free text
comes by the case-management feed or the CLI). The parameter types here are deliberately loose (no spaces,
bounded length); the deployments (``deployments/__init__.py``) put the policy's exact formats and lists into
each form's schema, and ``missing_episodes.forms`` checks every value again at run time.

Should something else be typed anyway, ``tasks.privacy.scrub_hooks`` runs on every end state the engine sees
(Completed, Failed, including a failed validation of the parameters before the body runs, Crashed, Cancelled)
and overwrites each stored value that fails its field's check with a marker. Run names are built from checked
values only, for the same reason.
"""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from prefect.artifacts import acreate_markdown_artifact, create_markdown_artifact
from prefect.runtime import flow_run as current_run
from pydantic import Field

from flows.documents import announce_briefing, daily_briefing, serious_notification, where_it_went
from flows.reports import board_report_flow
from flows.review import review_changed
from missing_episodes.clock import as_london, now
from missing_episodes.findings import CONCERNS, REASONS
from missing_episodes.forms import REMOVED, RISK_LABELS, event_of_label, sanitised_parameters
from missing_episodes.vocabulary import short_label
from tasks.ingest import ensure_schema
from tasks.outcomes import actions_closed, already_recorded, check_outcome, find_child, resolve_episode, store_outcome
from tasks.privacy import private_flow, scrub_hooks

#: Loose shapes the engine checks before the body runs: no spaces, nothing long. The exact formats are the
#: policy's, checked in the form (the deployment's schema) and again in the body.
ID_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,39}$"
OPTIONAL_ID_SHAPE = r"^([A-Za-z0-9][A-Za-z0-9/_-]{0,39})?$"

RiskChoice = Literal[tuple(RISK_LABELS)]  # type: ignore[valid-type]
ReasonChoice = Literal[tuple(REASONS.values())]  # type: ignore[valid-type]
ConcernChoice = Literal[tuple(CONCERNS.values())]  # type: ignore[valid-type]
#: The event's label: the form's list (its ``enum``) is the policy's vocabulary, put into the deployment's schema
#: (``deployments.forms.policy_formats``) and checked again in the body, so an authority's own closing events
#: appear on its form without a code change. Here only a loose shape: no digits-and-names free text.
OutcomeChoice = Annotated[str, Field(
    title="What happened",
    description="Choose the outcome. It closes the matching open actions of the child (or of the incident).",
    max_length=120, pattern=r"^[A-Za-z0-9 ():,'-]+$")]

ChildId = Annotated[str, Field(
    title="Child: person id or CH- ref",
    description="The child's person id from the case system (like P000101) or the CH- ref on the briefing. "
                "Never a name.",
    pattern=ID_SHAPE)]
IncidentRef = Annotated[str, Field(
    title="Police incident reference",
    description="The police incident reference exactly as the police sent it (like KBP-2026-000318). It must be "
                "one of this child's episodes. Leave empty for the child's most recent episode.",
    pattern=OPTIONAL_ID_SHAPE)]
Day = Annotated[date, Field(
    title="Day it happened (YYYY-MM-DD)",
    description="Pick the day from the calendar. If you type it, type YYYY-MM-DD (2026-11-02 is 2 November).")]
TimeOfDay = Annotated[str, Field(
    title="Time (HH:MM, 24-hour, London)",
    description="Leave empty: now if the day is today, otherwise the end of that day.",
    pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9])?$")]
Reason = Annotated[str, Field(
    title="Reason (a decline, a meeting not held, an NRM referral not made)",
    description="Required for an outcome that says '(choose the reason)' and for a declined interview: choose "
                "the reason from the list. A fuller rationale goes in through the case-management system or "
                "the command line.",
    max_length=200)]

FORM_RECORD_OUTCOME = "record-outcome"
FORM_BRIEFING = "brief-for-date"
FORM_SERIOUS_NOTIFICATION = "regenerate-serious-notification"


def _policy():
    from missing_episodes.jobs import Context

    return Context.load().policy


def _checked(form: str) -> dict[str, Any]:
    """This run's parameters with every value that fails its check replaced (for run names)."""
    return sanitised_parameters(form, dict(current_run.parameters), _policy())


def outcome_run_name() -> str:
    """``outcome 2026-11-02 P000101 KBP-2026-000318 RHI completed``: checked values only."""
    cleaned = _checked(FORM_RECORD_OUTCOME)
    event = cleaned.get("event")
    code = event_of_label(_policy()).get(event) if isinstance(event, str) else None
    event_words = short_label(code) if code else None
    parts = [cleaned.get("day"), cleaned.get("child"), cleaned.get("incident_ref"), event_words]
    return "outcome " + " ".join(str(p) for p in parts if p and p != REMOVED)


def briefing_run_name() -> str:
    day = _checked(FORM_BRIEFING).get("day")
    return f"briefing for {day}" if day and day != REMOVED else "briefing for a chosen day"


def serious_notification_run_name() -> str:
    cleaned = _checked(FORM_SERIOUS_NOTIFICATION)
    parts = [cleaned.get("episode"), cleaned.get("rule")]
    return "serious notification " + " ".join(str(p) for p in parts if p and p != REMOVED)


# -- flows ---------------------------------------------------------------------------------------------------


@private_flow(name="brief-for-date", flow_run_name=briefing_run_name, **scrub_hooks(FORM_BRIEFING))
async def brief_for_date(
    day: Annotated[date, Field(
        title="Day to brief for (YYYY-MM-DD)",
        description="Pick the morning from the calendar. If you type it, type YYYY-MM-DD (2026-11-02 is 2 November).")],
) -> dict[str, object]:
    """The briefing pack for a chosen day, e.g. again after a late feed or for a missed bank-holiday morning."""
    result = await daily_briefing(day)
    await announce_briefing(day, result, "briefing-for-a-chosen-day")
    return result


@private_flow(name="regenerate-serious-notification", flow_run_name=serious_notification_run_name,
              **scrub_hooks(FORM_SERIOUS_NOTIFICATION))
async def regenerate_serious_notification(
    episode: Annotated[str, Field(
        title="Episode: EP- ref or police incident reference",
        description="The EP- ref from the briefing (like EP-0123456789AB), or the police incident reference.",
        pattern=ID_SHAPE)],
    rule: Annotated[str, Field(
        title="Rule",
        description="Leave empty: the episode's own serious-notification rule. Or a rule id from the policy "
                    "(like serious_notification.missing_72h) to report under that rule.",
        pattern=r"^[a-z0-9_.]{0,100}$")] = "",
) -> dict[str, object]:
    """Re-render (and, if never sent, send) the serious notification form of one episode."""
    episode_ref = resolve_episode(episode)
    result = await serious_notification(episode_ref, rule or None)
    where = where_it_went(str(result.get("delivery")), list(result.get("files", [])),  # type: ignore
                           "serious_notification")
    await acreate_markdown_artifact(
        key="serious-notification-for-an-episode",
        markdown=f"**Serious notification for {episode_ref}: {where}.**",
        description=f"Serious notification for {episode_ref}",
    )
    return result


@private_flow(name="record-outcome", flow_run_name=outcome_run_name, **scrub_hooks(FORM_RECORD_OUTCOME))
async def record_outcome(
    child: ChildId,
    event: OutcomeChoice,
    day: Day,
    incident_ref: IncidentRef = "",
    time: TimeOfDay = "",
    risk_level: Annotated[RiskChoice, Field(  # type: ignore[valid-type]
        title="Risk grading given",
        description="Only when the outcome graded the risk (a strategy meeting, a risk assessment).")] = "not graded",
    reason: Reason = "",
    reasons: Annotated[list[ReasonChoice], Field(  # type: ignore[valid-type]
        title="Interview: reasons for going missing",
        description="Return home interview only: what led to the missing episode (choose any).")] = [],  # noqa: B006
    harm: Annotated[bool, Field(
        title="Interview: harm suffered",
        description="Return home interview only: the child suffered or is at risk of significant harm.")] = False,
    concerns: Annotated[list[ConcernChoice], Field(  # type: ignore[valid-type]
        title="Interview: exploitation concerns",
        description="Return home interview only: CSE, CCE or trafficking concerns (each raises its follow-up: "
                    "a strategy discussion to consider, an NRM referral to consider).")] = [],  # noqa: B006
    referral_made: Annotated[bool, Field(
        title="Interview: referral made",
        description="Return home interview only: a referral was made (to children's social care, Early Help, "
                    "the exploitation team).")] = False,
    find_me_plan_update: Annotated[bool, Field(
        title="Interview: Find Me plan to update",
        description="Return home interview only: what was learnt goes into the Find Me plan (raises the "
                    "update as an action). The child's views go in through the case system or the command line."
                    )] = False,
) -> dict[str, object]:
    """Record what happened for a child (return home interview done or declined, strategy meeting held or not
    needed, ...); the actions it completes are closed and the briefing shows them done.

    A retry of a run that already stored its outcome changes nothing and completes.
    """
    ensure_schema()
    event_id = f"COORD-{current_run.get_id()}"
    form = check_outcome(child, event, day.isoformat(), incident_ref, time, risk_level, reason,
                         findings={"reasons": list(reasons), "harm": harm, "concerns": list(concerns),
                                   "referral_made": referral_made, "find_me_plan_update": find_me_plan_update})
    if already_recorded(event_id):
        await acreate_markdown_artifact(
            key="record-outcome",
            markdown=f"**{form.heading} for {form.incident_ref or form.child}: already recorded by this "
                     "run's first attempt; nothing changed.**",
            description="Outcome already recorded",
        )
        return {"event_id": event_id, "event": form.event, "stored": {"new": 0, "duplicate": 1}, "closed": 0}
    person_id, child_ref = find_child(form)
    stored = store_outcome(form, person_id, event_id)
    rules = await review_changed()
    closed = actions_closed(child_ref, form)
    subject = form.incident_ref or f"child {form.child}"
    await acreate_markdown_artifact(
        key="record-outcome",
        markdown=((f"**{form.heading} for {subject} {form.marked}; {closed} action{'s' if closed != 1 else ''} "
                   "closed.**" if closed else f"**{form.heading} for {subject} recorded.**") + "\n\n"
                  f"Recorded for {child_ref} as {event_id} at {as_london(form.recorded_at):%H:%M on %a %d %b %Y} "
                  "(London). The worklist and tomorrow's briefing show it."),
        description=f"{form.heading} for {child_ref}",
    )
    return {"event_id": event_id, "child_ref": child_ref, "event": form.event, "stored": stored, "rules": rules,
            "closed": closed}


# -- the board report ----------------------------------------------------------------------------------------


def board_period(months: int, last_month: str, today: date) -> tuple[date, date]:
    """First and last day of ``months`` whole calendar months ending with ``last_month`` (YYYY-MM), or with the
    month before ``today`` when it is empty."""
    if last_month:
        year, month = (int(part) for part in last_month.split("-"))
        date_to = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    else:
        date_to = today.replace(day=1) - timedelta(days=1)
    start = date_to.replace(day=1)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, date_to


def _board_run_name() -> str:
    months = current_run.parameters.get("months", 1)
    last = current_run.parameters.get("last_month") or "last month"
    return f"board report {months} month(s) to {last}" if isinstance(months, int) else "board report"


@private_flow(name="monthly-board-report", flow_run_name=_board_run_name, **scrub_hooks("monthly-board-report"))
def monthly_board_report(
    months: Annotated[int, Field(title="Months to cover", description="How many whole calendar months.",
                                 ge=1, le=24)] = 1,
    last_month: Annotated[str, Field(
        title="Last month to include (YYYY-MM)",
        description="Leave empty for last month. Like 2026-10 for October 2026.",
        pattern=r"^([0-9]{4}-(0[1-9]|1[0-2]))?$")] = "",
) -> dict[str, object]:
    """The Corporate Parenting Board report for whole calendar months: a schedule cannot compute dates, so this
    flow does."""
    date_from, date_to = board_period(months, last_month, as_london(now()).date())
    result = board_report_flow(date_from, date_to)
    files = sorted({str(p).rsplit("/", 1)[-1] for p in dict(result.get("paths", {})).values()})  # type: ignore
    create_markdown_artifact(
        key="board-report-for-coordinators",
        markdown=(f"**Board report for {date_from:%d %b %Y} to {date_to:%d %b %Y}: filed in the shared output "
                  f"folder 'reports/board' ({', '.join(files) or 'no files'}).**"),
        description=f"Board report {date_from.isoformat()} to {date_to.isoformat()}",
    )
    return result
