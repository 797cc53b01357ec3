"""The jobs of the coordinators' forms: a checked outcome (``missing_episodes.forms``) looked up, stored and
counted in the database, and an episode named for a document.

Each function here is a job of one ``Context`` (it opens its own transactions) and is called by exactly one task
of ``tasks/outcomes.py``. A refusal is a ``FormRefused`` whose message is written for a coordinator and never
repeats what was typed.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.feeds import INFORMED_EVENTS
from missing_episodes.forms import (
    CHILD_REF,
    COORDINATOR_SOURCE,
    EPISODE_REF,
    FormRefused,
    OutcomeForm,
    closing_events_by_rule,
    is_episode,
)
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.context import Context
from missing_episodes.policy import Policy
from missing_episodes.sources import RawRow


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


def _closable(policy: Policy, child_ref: str, form: OutcomeForm, statuses: tuple[str, ...]) -> Select:
    """The ids of this child's actions (of the incident, if named) in ``statuses`` that the form's event closes."""
    rules = [rule_id for rule_id, events in closing_events_by_rule(policy).items() if form.event in events]
    query = (
        select(Action.id).join(Child, Child.id == Action.child_id).outerjoin(Episode, Episode.id == Action.episode_id)
        .where(Child.ref == child_ref, Action.rule_id.in_(rules), Action.status.in_(statuses))
    )
    if form.incident_ref:
        query = query.where(or_(Action.episode_id.is_(None), Episode.incident_ref == form.incident_ref))
    return query


def closes_anything(child_ref: str, form: OutcomeForm, context: Context | None = None) -> bool:
    """True when an event that closes actions finds an open one of this child (and incident) to close, or the
    event is one that closes nothing by nature (an assessment, media interest: it starts actions instead), or
    says who was informed of the missing (an entry of the incident record whether or not an action waits for it:
    a second parent told, a guardian told about an absence)."""
    context = context or Context.load()
    if form.event in INFORMED_EVENTS:
        return True
    if not any(form.event in events for events in closing_events_by_rule(context.policy).values()):
        return True
    with context.session() as session:
        query = _closable(context.policy, child_ref, form, ("open",)).where(Action.trigger_at <= form.recorded_at)
        return session.scalar(select(func.count()).select_from(query.subquery())) > 0


def already_recorded(event_id: str, context: Context | None = None, source: str = COORDINATOR_SOURCE) -> bool:
    """This event id is stored already: a retry of a run that finished its work."""
    context = context or Context.load()
    with context.session() as session:
        return session.scalar(
            select(func.count()).select_from(Outcome)
            .where(Outcome.source == source, Outcome.event_id == event_id)
        ) > 0


def store_outcome(form: OutcomeForm, person_id: str, event_id: str, context: Context | None = None,
                  source: str = COORDINATOR_SOURCE) -> dict[str, int]:
    """One outcome row through the ordinary ingest (the feed's validation and vocabulary, dedup on ``event_id``),
    with the interview's findings as the feed's findings columns. From the form, the reason chosen is the
    rationale and who recorded it is "coordinator" (the form takes no names); from the command line, the
    author's own words (``source`` ``command-line``)."""
    data = {
        "event_id": event_id,
        "recorded_at": form.recorded_at.isoformat(),
        "child_id": person_id,
        "incident_ref": form.incident_ref or "",
        "event": form.event,
        "by": form.by,
        "rationale": form.rationale or form.reason or "",
        "notes": "",
        "risk_level": form.risk_level or "",
        "who": form.who or "",
        "contact": form.contact or "",
        **(form.findings.as_columns() if form.findings else {}),
    }
    summary = ingest_records("outcomes", [RawRow(source, 1, data)], source, context)
    if summary.quarantined:
        raise FormRefused("The outcome could not be stored: the case system's rules refused it. "
                          f"Ask the missing-episodes operators to look at the {source} quarantine.")
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
