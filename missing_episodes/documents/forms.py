"""Per-episode and per-child forms: serious notification, RHI record, care leaver's written confirmation.

Each builder reads one subject from the store into a frozen dataclass; ``render`` then lays it out. A builder that
cannot make its document raises ``DocumentError`` naming the pseudonymous ref only, because that message may end
up in an orchestrator's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missing_episodes.clock import as_london, birthday, hours_between, now
from missing_episodes.db.models import Action, Child, ContactLog, Episode, Outcome, RiskAssessment
from missing_episodes.documents import DocumentError
from missing_episodes.documents.common import ChildView, FindMePlan, child_view, find_me_plan
from missing_episodes.feeds import INFORMED_EVENTS
from missing_episodes.policy import Contact, Policy
from missing_episodes.worklist import status_as_of

SERIOUS_72H_RULE = "serious.missing_72h"


@dataclass(frozen=True)
class EpisodeView:
    """The incident record (Lilac Alliance s5): when, where last seen, police contacted, clothing, searched."""

    ref: str
    incident_ref: str
    kind: str | None
    status: str
    started_at: datetime | None
    last_seen_at: datetime | None
    last_seen_location: str | None
    reported_at: datetime | None
    found_at: datetime | None
    found_location: str | None
    return_notified_at: datetime | None
    risk_level: str | None
    clothing: str | None
    areas_searched: str | None
    responsible_authority: str | None
    other_authority: bool
    # When the police were contacted (Lilac Alliance), as recorded; None is shown as "not recorded". Not
    # ``reported_at``, which is when the police's message reached the council.
    police_contacted_at: datetime | None = None


@dataclass(frozen=True)
class ContactEntry:
    """One entry of the incident's contact log: who was contacted, updated or informed, when, what was shared."""

    at: datetime
    direction: str
    who: str | None
    shared: str | None
    recorded_by: str | None
    # The case event behind it (None for the police's own updates) and the contact details of who was spoken to.
    event: str | None = None
    contact: str | None = None

    @property
    def kind(self) -> str:
        """The entry in words: "Informed: parent", "Updated by the service", "Contacted", "Police update"."""
        if self.direction == "informed":
            return f"Informed: {INFORMED_EVENTS.get(self.event or '', 'someone')}"
        return {"updated": "Updated by the service", "police_update": "Police update"}.get(self.direction,
                                                                                           "Contacted")


def contact_entries(session: Session, episode: Episode, as_of: datetime) -> list[ContactEntry]:
    """The episode's contact log up to ``as_of``, oldest first (every source: police updates, the service's own)."""
    rows = session.scalars(
        select(ContactLog).where(ContactLog.episode_id == episode.id, ContactLog.at <= as_of)
        .order_by(ContactLog.at, ContactLog.id)
    )
    return [ContactEntry(c.at, c.direction, c.who, c.shared, c.recorded_by, c.event, c.contact) for c in rows]


@dataclass(frozen=True)
class RiskEntry:
    at: datetime
    level: str


@dataclass(frozen=True)
class ActionEntry:
    kind: str
    title: str
    due_at: datetime
    status: str
    assigned_to: str | None


@dataclass(frozen=True)
class SeriousNotification:
    """Wakefield s3: the form the Team Manager sends at 72 hours missing or on media interest."""

    authority: str
    policy_version: str
    rule_id: str
    rule_title: str
    seed: str
    actor: str
    recipients: list[str]
    as_of: datetime
    prepared_at: datetime
    hours_missing: float | None
    still_missing: bool
    child: ChildView
    find_me: FindMePlan
    episode: EpisodeView
    risk_history: list[RiskEntry]
    contacts: list[ContactEntry]
    actions: list[ActionEntry]

    @property
    def key(self) -> str:
        return f"serious_notification:{self.episode.ref}:{self.rule_id}"


@dataclass(frozen=True)
class RhiRecord:
    """Wakefield s6: the return home interview template, pre-filled with what is already known."""

    authority: str
    child: ChildView
    episode: EpisodeView
    due_at: datetime | None
    assigned_to: str | None
    previous_episodes: int
    distant_placement_note: str | None
    prepared_at: datetime


@dataclass(frozen=True)
class WrittenConfirmation:
    """Wokingham: a care leaver who does not want a service is told in writing they can come back, and until when.

    The letter goes to the young person, so it shows no internal reference (the child's ref is only in the file
    name and the delivery key); how to come back is the service's duty line and the Personal Advisor's own
    contact, both from the policy (``leaving_care``), in words ready for a sentence ("on 01632 960 141 or at
    jo.barker@…").
    """

    authority: str
    child: ChildView
    address: str | None
    letter_date: date
    support_until: date | None
    personal_advisor: str | None
    service: str
    duty_line: str
    duty_letterhead: str
    advisor_contact: str | None

    @property
    def key(self) -> str:
        return f"written_confirmation:{self.child.ref}:{self.letter_date.isoformat()}"


def contact_words(contact: Contact) -> str:
    """"on 01632 960 141 or at jo.barker@…", "on 01632 960 141" or "at jo.barker@…", for a sentence."""
    ways = [f"on {contact.phone}" if contact.phone else "", f"at {contact.email}" if contact.email else ""]
    return " or ".join(way for way in ways if way)


def contact_line(contact: Contact) -> str:
    """"01632 960 100 · leaving.care@…": the contact as a letterhead shows it."""
    return " · ".join(way for way in (contact.phone, contact.email) if way)


def episode_view(episode: Episode, police_contacted_at: datetime | None = None) -> EpisodeView:
    return EpisodeView(
        ref=episode.ref,
        incident_ref=episode.incident_ref,
        kind=episode.kind,
        status=episode.status,
        started_at=episode.started_at,
        last_seen_at=episode.last_seen_at,
        last_seen_location=episode.last_seen_location,
        reported_at=episode.reported_at,
        found_at=episode.found_at,
        found_location=episode.found_location,
        return_notified_at=episode.return_notified_at,
        risk_level=episode.risk_level,
        clothing=episode.clothing,
        areas_searched=episode.areas_searched,
        responsible_authority=episode.responsible_authority,
        other_authority=episode.other_authority,
        police_contacted_at=police_contacted_at or episode.reported_to_police_at,
    )


def police_contacted_at(session: Session, episode: Episode, as_of: datetime) -> datetime | None:
    """When the police were contacted: the force's own record, else the earliest ``police_contacted`` case event
    recorded for this incident by ``as_of`` (a carer's call logged by the social worker)."""
    if episode.reported_to_police_at is not None:
        return episode.reported_to_police_at
    return session.scalar(
        select(func.min(Outcome.recorded_at)).where(
            Outcome.event == "police_contacted", Outcome.incident_ref == episode.incident_ref,
            Outcome.child_id == episode.child_id, Outcome.recorded_at <= as_of,
        )
    )


def episode_and_child(session: Session, episode_ref: str) -> tuple[Episode, Child | None]:
    row = session.execute(
        select(Episode, Child).outerjoin(Child, Episode.child_id == Child.id).where(Episode.ref == episode_ref)
    ).first()
    if row is None:
        raise DocumentError(f"no episode {episode_ref}")
    return row[0], row[1]


def episode_actions(session: Session, episode: Episode, as_of: datetime, kind: str | None = None) -> list[Action]:
    query = select(Action).where(
        Action.episode_id == episode.id, Action.trigger_at <= as_of, Action.status != "withdrawn"
    )
    if kind:
        query = query.where(Action.kind == kind)
    return list(session.scalars(query.order_by(Action.trigger_at, Action.key)))


def build_serious_notification(
    session: Session,
    episode_ref: str,
    policy: Policy,
    *,
    rule_id: str | None = None,
    as_of: datetime | None = None,
) -> SeriousNotification:
    """The serious notification form for one episode, addressed to the recipients the rule names.

    The rule is the one given, else the first serious-notification action raised on the episode, else (no action
    yet, say the rules have not run) the 72-hour rule when the child has been missing that long.
    """
    as_of = as_of or now()
    episode, child = episode_and_child(session, episode_ref)
    actions = episode_actions(session, episode, as_of)
    if rule_id is None:
        raised = [action.rule_id for action in actions if action.kind == "serious_notification"]
        hours = hours_between(episode.started_at, min(as_of, episode.found_at or as_of))
        if raised:
            rule_id = raised[0]
        elif hours is not None and hours >= 72 and episode.kind == "missing":
            rule_id = SERIOUS_72H_RULE
        else:
            raise DocumentError(f"{episode_ref}: no serious notification is due")
    try:
        rule = policy.rule(rule_id)
    except KeyError:
        raise DocumentError(f"{episode_ref}: policy {policy.version} has no rule {rule_id}") from None
    if rule.action != "serious_notification":
        raise DocumentError(f"{episode_ref}: rule {rule_id} is not a serious notification rule")
    titles = {r.id: r.title for r in policy.rules}
    still_missing = episode.found_at is None or episode.found_at > as_of
    risks = session.scalars(
        select(RiskAssessment).where(RiskAssessment.episode_id == episode.id).order_by(RiskAssessment.assessed_at)
    )
    return SeriousNotification(
        authority=policy.authority,
        policy_version=policy.version,
        rule_id=rule.id,
        rule_title=rule.title,
        seed=rule.seed,
        actor=rule.actor,
        recipients=list(rule.recipients),
        as_of=as_of,
        prepared_at=now(),
        hours_missing=hours_between(episode.started_at, as_of if still_missing else episode.found_at),
        still_missing=still_missing,
        child=child_view(child, as_of),
        find_me=find_me_plan(child),
        episode=episode_view(episode, police_contacted_at(session, episode, as_of)),
        risk_history=[RiskEntry(r.assessed_at, r.risk_level) for r in risks if r.assessed_at <= as_of],
        contacts=contact_entries(session, episode, as_of),
        actions=[
            ActionEntry(a.kind, titles.get(a.rule_id, a.rule_id), a.due_at, status_as_of(a, as_of), a.assigned_to)
            for a in actions
        ],
    )


def build_rhi_record(session: Session, episode_ref: str, policy: Policy, *, as_of: datetime | None = None) -> RhiRecord:
    """The interviewer's record for one returned episode, with due time and allocation already filled in."""
    as_of = as_of or now()
    episode, child = episode_and_child(session, episode_ref)
    rhi = episode_actions(session, episode, as_of, "return_home_interview")
    previous = 0
    if child is not None and episode.started_at is not None:
        previous = (
            session.scalar(
                select(func.count(Episode.id)).where(
                    Episode.child_id == child.id, Episode.kind == "missing", Episode.started_at < episode.started_at
                )
            )
            or 0
        )
    view = child_view(child, as_of)
    distant = (
        policy.allocation.distant_placement_note
        if view.placement_distance_miles is not None
        and view.placement_distance_miles > policy.allocation.distant_placement_miles
        else None
    )
    return RhiRecord(
        authority=policy.authority,
        child=view,
        episode=episode_view(episode),
        due_at=rhi[0].due_at if rhi else None,
        assigned_to=rhi[0].assigned_to if rhi else None,
        previous_episodes=previous,
        distant_placement_note=distant,
        prepared_at=now(),
    )


def build_written_confirmation(
    session: Session, child_ref: str, policy: Policy, *, on: date | None = None
) -> WrittenConfirmation:
    """The letter to a care leaver who said they do not want a service (support can be asked for until 25)."""
    child = session.scalar(select(Child).where(Child.ref == child_ref))
    if child is None:
        raise DocumentError(f"no child {child_ref}")
    if child.legal_status != "care_leaver":
        raise DocumentError(f"{child_ref}: written confirmation is for care leavers only")
    leaving_care = policy.leaving_care
    if leaving_care.duty_line is None:
        raise DocumentError(
            f"{child_ref}: the policy gives no leaving_care.duty_line, and the letter must say how to ask for support"
        )
    letter_date = on or as_london(now()).date()
    support_until = as_london(birthday(child.date_of_birth, 25)).date() if child.date_of_birth else None
    at = now()
    advisor = leaving_care.advisor(child.allocated_worker)
    return WrittenConfirmation(
        authority=policy.authority,
        child=child_view(child, at),
        address=child.return_address or child.placement,
        letter_date=letter_date,
        support_until=support_until,
        personal_advisor=child.allocated_worker,
        service=leaving_care.service,
        duty_line=contact_words(leaving_care.duty_line),
        duty_letterhead=contact_line(leaving_care.duty_line),
        advisor_contact=contact_words(advisor) if advisor else None,
    )
