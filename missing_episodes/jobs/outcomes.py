"""The coordinators' forms, checked and carried out: an outcome recorded, an episode named for a document.

What a coordinator types into a form in the Prefect UI is stored by Prefect in clear, and Prefect lets the form's
own checks be switched off. So the forms take structured values only (ids in the authority's formats, a choice
from a list, a date), every value is checked again here against the policy (``Policy.forms``), and
``sanitised_parameters`` says what of a run's stored parameters may stay: anything that is not a well-formed
value of its field is replaced by ``REMOVED``. Every message here is written for a coordinator and never
repeats what was typed (a name typed by mistake must not travel into a state message, a log or an alert).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select

from missing_episodes.clock import LONDON, UTC, as_london, now
from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.context import Context
from missing_episodes.policy import Forms, Policy
from missing_episodes.sources import RawRow

#: What a stored parameter that failed its check is replaced with.
REMOVED = "(removed: not a valid entry)"
#: Source name of outcomes recorded through the forms (the audit trail says who: "coordinator").
COORDINATOR_SOURCE = "coordinator"

CHILD_REF = re.compile(r"^CH-[0-9A-F]{12}$")
EPISODE_REF = re.compile(r"^EP-[0-9A-F]{12}$")
HOUR_MINUTE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

#: Each outcome event the forms offer, by the words a coordinator would use (the form's choices).
OUTCOME_LABELS: dict[str, str] = {
    "rhi_completed": "Return home interview completed",
    "rhi_declined": "Return home interview declined by the child",
    "strategy_meeting_held": "Strategy meeting held",
    "strategy_meeting_not_required": "Strategy meeting not required (choose the reason)",
    "serious_notification_sent": "Serious notification sent",
    "assessed_missing": "Care leaver assessed as missing",
    "assessed_not_in_touch": "Care leaver assessed as not in touch",
    "media_interest": "Media interest in the episode",
    "returned": "Returned (confirmed by the service)",
    "contact_made": "Contact made with the young person",
    "update_given": "Update given to the police",
    "management_oversight_recorded": "Management oversight recorded",
    "risk_assessment_recorded": "Risk assessment recorded",
    "safety_plan_recorded": "Safety plan recorded",
}
EVENT_OF_LABEL = {label: code for code, label in OUTCOME_LABELS.items()}
#: Short forms for run names and artifacts ("RHI completed").
SHORT_LABELS: dict[str, str] = {
    "rhi_completed": "RHI completed", "rhi_declined": "RHI declined",
    "strategy_meeting_held": "strategy meeting held", "strategy_meeting_not_required": "meeting not required",
}
#: The risk grading choices: "not graded" instead of an empty optional field.
RISK_LABELS: dict[str, str | None] = {
    "not graded": None, "high": "high", "medium": "medium", "low": "low", "no apparent risk": "no_apparent_risk",
}
#: Events that need a reason chosen from the policy's list.
NEEDS_REASON = frozenset({"strategy_meeting_not_required"})


class FormRefused(ValueError):
    """A form's values cannot be used. The message is for a coordinator and names nothing that was typed."""


@dataclass(frozen=True)
class OutcomeForm:
    """A checked outcome: the event's code, refs in the authority's formats, the moment in UTC."""

    child: str
    event: str
    incident_ref: str | None
    recorded_at: datetime
    risk_level: str | None
    reason: str | None

    @property
    def label(self) -> str:
        return SHORT_LABELS.get(self.event, OUTCOME_LABELS[self.event])

    @property
    def heading(self) -> str:
        """The label as the start of a sentence ("RHI completed", "Strategy meeting held")."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def marked(self) -> str:
        """What the outcome made of the actions it closed, in words."""
        return {"rhi_declined": "marked declined", "strategy_meeting_not_required": "marked not required"}.get(
            self.event, "marked done")


# -- checks of single values (used to check a form and to sanitise what Prefect stored) ---------------------


def is_child(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(CHILD_REF.match(value) or re.match(forms.person_id_pattern, value))


def is_incident(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(re.match(forms.incident_ref_pattern, value))


def is_episode(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(EPISODE_REF.match(value) or is_incident(value, forms))


def _is_day(value: object) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _one_of(choices: Callable[[Forms], object]) -> Callable[[object, Forms], bool]:
    return lambda value, forms: isinstance(value, str) and value in choices(forms)  # type: ignore[operator]


FIELD_CHECKS: dict[str, dict[str, Callable[[object, Forms], bool]]] = {
    "record-outcome": {
        "child": is_child,
        "event": _one_of(lambda forms: EVENT_OF_LABEL),
        "incident_ref": lambda v, forms: v == "" or is_incident(v, forms),
        "day": lambda v, forms: _is_day(v),
        "time": lambda v, forms: v == "" or (isinstance(v, str) and bool(HOUR_MINUTE.match(v))),
        "risk_level": _one_of(lambda forms: RISK_LABELS),
        "reason": lambda v, forms: v == "" or (isinstance(v, str) and v in forms.not_required_reasons),
    },
    "brief-for-date": {"day": lambda v, forms: _is_day(v)},
    # The scheduled deployments' forms (dates and counts only; their other parameters are not on the forms).
    "daily-run": {"day": lambda v, forms: v is None or _is_day(v), "sample": lambda v, forms: isinstance(v, bool)},
    "weekly-list": {"week_ending": lambda v, forms: v is None or _is_day(v)},
    "monthly-board-report": {
        "months": lambda v, forms: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 24,
        "last_month": lambda v, forms: isinstance(v, str) and bool(re.fullmatch(r"([0-9]{4}-(0[1-9]|1[0-2]))?", v)),
    },
    "regenerate-serious-notification": {
        "episode": is_episode,
        "rule": lambda v, forms: v == "" or (isinstance(v, str) and bool(re.fullmatch(r"[a-z0-9_.]{1,100}", v))),
    },
}


def sanitised_parameters(form: str, parameters: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """``parameters`` with every value that fails its field's check, and every unknown key, made ``REMOVED``.

    An unknown key is dropped under a neutral name, since a key typed into the JSON editor can itself be a name.
    """
    checks = FIELD_CHECKS[form]
    cleaned: dict[str, Any] = {}
    unknown = 0
    for name, value in parameters.items():
        if name in checks:
            ok = checks[name](value, policy.forms)
            cleaned[name] = (value.isoformat() if isinstance(value, date) else value) if ok else REMOVED
        else:
            unknown += 1
    if unknown:
        cleaned["unknown_fields"] = f"{unknown} removed"
    return cleaned


def check_outcome(
    child: object, event: object, day: object, incident_ref: object = "", at: object = "",
    risk_level: object = "not graded", reason: object = "", *, policy: Policy, current: datetime | None = None,
) -> OutcomeForm:
    """The outcome form's values checked against the policy, or ``FormRefused`` saying what to fix."""
    forms = policy.forms
    checks = FIELD_CHECKS["record-outcome"]
    if not is_child(child, forms):
        raise FormRefused("Child: give the person id from the case system or the child's CH- ref, not a name.")
    if not checks["event"](event, forms):
        raise FormRefused("What happened: choose one of the listed outcomes.")
    if not checks["incident_ref"](incident_ref, forms):
        raise FormRefused("Police incident: give the police incident reference exactly as the police sent it, "
                          "or leave it empty.")
    if not _is_day(day):
        raise FormRefused("Day: pick the day it happened from the calendar (or type it as YYYY-MM-DD).")
    if not checks["time"](at, forms):
        raise FormRefused("Time: type the time as HH:MM on the 24-hour clock (London time), or leave it empty.")
    if not checks["risk_level"](risk_level, forms):
        raise FormRefused("Risk: choose one of the listed gradings.")
    code = EVENT_OF_LABEL[str(event)]
    if code in NEEDS_REASON and not reason:
        raise FormRefused("Reason: a strategy meeting not held needs its reason: choose one from the list.")
    if reason and not checks["reason"](reason, forms):
        raise FormRefused("Reason: choose one of the listed reasons (fuller text goes in through the case system).")
    current = current or now()
    day_value = day if isinstance(day, date) else date.fromisoformat(str(day))
    today = as_london(current).date()
    if day_value > today:
        raise FormRefused("Day: the day it happened is in the future.")
    if at:
        local = datetime.combine(day_value, time.fromisoformat(str(at)), tzinfo=LONDON)
    elif day_value == today:
        local = as_london(current)
    else:  # a past day without a time: the end of that day, so it closes what fell due that day
        local = datetime.combine(day_value, time(23, 59), tzinfo=LONDON)
    recorded_at = local.astimezone(UTC)
    if recorded_at > current:
        raise FormRefused("Time: that time has not come yet today.")
    return OutcomeForm(
        child=str(child), event=code, incident_ref=str(incident_ref) or None, recorded_at=recorded_at,
        risk_level=RISK_LABELS[str(risk_level)], reason=str(reason) or None,
    )


# -- jobs ----------------------------------------------------------------------------------------------------


def resolve_child(child: str, context: Context | None = None) -> tuple[str, str]:
    """(person id, CH- ref) of a person id or CH- ref on the register."""
    context = context or Context.load()
    with context.session() as session:
        if CHILD_REF.match(child):
            row = session.execute(select(Child.person_id, Child.ref).where(Child.ref == child)).first()
            if row is None:
                raise FormRefused("Child: no child has that CH- ref. Check it on the worklist.")
            if not row.person_id:
                raise FormRefused("Child: this child is known only from a police notification, not yet from the "
                                  "register. Record the outcome once the register has the child's person id.")
            return row.person_id, row.ref
        ref = session.scalar(select(Child.ref).where(Child.person_id == child))
    if ref is None:
        raise FormRefused("Child: that person id is not on the register. Check it, or use the CH- ref.")
    return child, ref


def check_incident_belongs(child_ref: str, incident_ref: str | None, context: Context | None = None) -> None:
    """An incident named on the form must be one of this child's episodes."""
    if not incident_ref:
        return
    context = context or Context.load()
    with context.session() as session:
        found = session.scalar(
            select(func.count()).select_from(Episode).join(Child, Child.id == Episode.child_id)
            .where(Episode.incident_ref == incident_ref, Child.ref == child_ref)
        )
    if not found:
        raise FormRefused("Police incident: that incident is not one of this child's episodes. Check both.")


def closing_events(policy: Policy) -> dict[str, set[str]]:
    """Rule id -> the outcome events that close its actions."""
    return {rule.id: {*rule.done_by, *rule.declined_by, *rule.not_required_by} for rule in policy.rules}


def _closable(policy: Policy, child_ref: str, form: OutcomeForm, statuses: tuple[str, ...]):
    rules = [rule_id for rule_id, events in closing_events(policy).items() if form.event in events]
    query = (
        select(Action.id).join(Child, Child.id == Action.child_id).outerjoin(Episode, Episode.id == Action.episode_id)
        .where(Child.ref == child_ref, Action.rule_id.in_(rules), Action.status.in_(statuses))
    )
    if form.incident_ref:
        query = query.where(or_(Action.episode_id.is_(None), Episode.incident_ref == form.incident_ref))
    return query


def closes_anything(child_ref: str, form: OutcomeForm, context: Context | None = None) -> bool:
    """True when an event that closes actions finds an open one of this child (and incident) to close, or the
    event is one that closes nothing by nature (an assessment, media interest: it starts actions instead)."""
    context = context or Context.load()
    if not any(form.event in events for events in closing_events(context.policy).values()):
        return True
    with context.session() as session:
        query = _closable(context.policy, child_ref, form, ("open",)).where(Action.trigger_at <= form.recorded_at)
        return session.scalar(select(func.count()).select_from(query.subquery())) > 0


def already_recorded(event_id: str, context: Context | None = None) -> bool:
    """This event id is stored already: a retry of a run that finished its work."""
    context = context or Context.load()
    with context.session() as session:
        return session.scalar(
            select(func.count()).select_from(Outcome)
            .where(Outcome.source == COORDINATOR_SOURCE, Outcome.event_id == event_id)
        ) > 0


def store_outcome(form: OutcomeForm, person_id: str, event_id: str, context: Context | None = None
                  ) -> dict[str, int]:
    """One outcome row through the ordinary ingest (validation, dedup on ``event_id``). The reason chosen is
    stored as the rationale; who recorded it is "coordinator" (the form takes no names)."""
    data = {
        "event_id": event_id,
        "recorded_at": form.recorded_at.isoformat(),
        "child_id": person_id,
        "incident_ref": form.incident_ref or "",
        "event": form.event,
        "by": "coordinator (Prefect form)",
        "rationale": form.reason or "",
        "notes": "",
        "risk_level": form.risk_level or "",
    }
    summary = ingest_records("outcomes", [RawRow(COORDINATOR_SOURCE, 1, data)], COORDINATOR_SOURCE, context)
    if summary.quarantined:
        raise FormRefused("The outcome could not be stored: the case system's rules refused it. "
                          "Ask the missing-episodes operators to look at the coordinator quarantine.")
    return {"new": summary.new, "duplicate": summary.duplicate}


def actions_closed(child_ref: str, form: OutcomeForm, context: Context | None = None) -> int:
    """How many of this child's actions the stored outcome closed (closed at its time by its kind of event)."""
    context = context or Context.load()
    with context.session() as session:
        query = _closable(context.policy, child_ref, form, ("done", "declined", "not_required")).where(
            Action.done_at == form.recorded_at)
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def resolve_episode(ref: str, context: Context | None = None) -> str:
    """An EP- ref on record, or the one episode with this police incident reference."""
    context = context or Context.load()
    if not is_episode(ref, context.policy.forms):
        raise FormRefused("Episode: give the EP- ref from the briefing or the police incident reference, not a name.")
    with context.session() as session:
        if EPISODE_REF.match(ref):
            refs = list(session.scalars(select(Episode.ref).where(Episode.ref == ref)))
        else:
            refs = list(session.scalars(select(Episode.ref).where(Episode.incident_ref == ref)))
    if not refs:
        raise FormRefused("Episode: no episode has that reference. Check it on the worklist or the briefing.")
    if len(refs) > 1:
        raise FormRefused("Episode: that police reference names more than one episode; use the EP- ref from "
                          "the briefing instead.")
    return refs[0]
