"""What is owed to whom, and why, as of a moment: the planning half of notifications, pure and deterministic.

An action gives rise to events, each at an instant worked out from the action and the policy:

* ``due`` at ``trigger_at`` (the action has fallen due): the person who acts (the worker it is assigned to, the
  child's allocated worker for a worker role, else the holders of the actor's role for the child's team) and the
  child's Team Manager;
* ``overdue`` at ``due_at`` (only when that is later than falling due): the person who acts;
* ``escalation:<role>`` at ``due_at`` plus the ladder's delay for that level and action kind, when that is later
  than falling due: the holders of the level's role (policy ``escalation``);
* ``reassigned``: the action changed hands after the first person was told: the new assignee;
* ``form``: a serious notification fell due: its form goes to the Team Manager (the job renders it).

An event is owed when it happened after ``floor`` (when notifications began, bounded by the policy's
``escalation.lookback``) and no later than now, and the action is still open. An event outside office hours goes
to the on-call/EDT contact of the rota instead, and to the day staff once a run falls in office hours. The same
person is told once per action and instant. The plan says what should exist; the outbox inserts what does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from missing_episodes.db.models import Action, Child, Episode
from missing_episodes.notifications.directory import Person, Rota, Staff
from missing_episodes.notifications.hours import in_office_hours
from missing_episodes.offsets import apply_offset
from missing_episodes.policy import Policy

#: The role the notice table records for each kind of recipient (besides the ladder's own roles).
ASSIGNEE = "assignee"
TEAM_MANAGER = "Team Manager"
ON_CALL = "on_call"
#: A serious notification's form (Wakefield s3) goes to the Team Manager when it falls due.
FORM_KIND = "serious_notification"


@dataclass(frozen=True)
class ActionFacts:
    """An open action with what routing needs: the child's allocated worker and team, the refs a message carries."""

    id: int
    key: str
    kind: str
    rule_id: str
    trigger_at: datetime
    due_at: datetime
    actor: str | None
    assigned_to: str | None
    child_ref: str
    allocated_worker: str | None
    team: str | None
    episode_ref: str | None
    incident_ref: str | None


@dataclass(frozen=True)
class Owed:
    """One notification that should exist: (action, recipient, reason) is its key."""

    action_id: int | None  # None for a digest, which is about many actions
    action_key: str
    recipient: str  # an e-mail address, or "role:<role>" when nobody in the staff file holds it
    reason: str
    recipient_role: str
    event_at: datetime
    name: str | None = None

    @property
    def routable(self) -> bool:
        return not self.recipient.startswith("role:")


@dataclass(frozen=True)
class Told:
    """A notice already in the table, as planning needs it (for "changed hands")."""

    recipient: str
    reason: str
    recipient_role: str | None


@dataclass
class Planner:
    policy: Policy
    staff: Staff
    rota: Rota
    _split: re.Pattern[str] = field(default=re.compile(r"\s*(?:,|;|\band\b|\bwith\b)\s*"), init=False, repr=False)

    # -- who --------------------------------------------------------------------------------------------------

    def _role(self, role: str, team: str | None) -> list[tuple[str, str | None]]:
        holders = self.staff.holders(role, team)
        return [(p.email, p.name) for p in holders] or [(f"role:{role}", None)]

    def actors(self, action: ActionFacts) -> list[tuple[str, str | None]]:
        """Who acts: the assignee, else the allocated worker for a worker role, else the role's holders."""
        if action.assigned_to:
            person = self.staff.named(action.assigned_to)
            return [(person.email, person.name)] if person else [(f"role:{action.assigned_to}", None)]
        found: list[tuple[str, str | None]] = []
        worker_roles = {r.casefold() for r in self.policy.escalation.worker_roles}
        for part in filter(None, self._split.split(action.actor or "")):
            if part.casefold() in worker_roles:
                person: Person | None = self.staff.named(action.allocated_worker)
                found.append((person.email, person.name) if person else (f"role:{part}", None))
            elif part.casefold().endswith(" team") and not self.staff.holders(part, action.team):
                found.extend(self._role(TEAM_MANAGER, part))  # a team acts: its manager is told
            else:
                found.extend(self._role(part, action.team))
        return found or self._role(TEAM_MANAGER, action.team)

    # -- when -------------------------------------------------------------------------------------------------

    def events(self, action: ActionFacts) -> list[tuple[str, str, datetime, list[tuple[str, str | None]]]]:
        """(reason, recipient role, instant, recipients) for every event of the action, in time order."""
        acting = self.actors(action)
        events = [("due", ASSIGNEE, action.trigger_at, acting),
                  ("due", TEAM_MANAGER, action.trigger_at, self._role(TEAM_MANAGER, action.team))]
        if action.due_at > action.trigger_at:
            events.append(("overdue", ASSIGNEE, action.due_at, acting))
        ladder = self.policy.escalation
        for role, delay in zip(ladder.ladder, ladder.delays(action.kind), strict=True):
            at = apply_offset(action.due_at, delay)
            if at > action.trigger_at:
                events.append((f"escalation:{role}", role, at, self._role(role, action.team)))
        return sorted(events, key=lambda event: event[2])

    def owed(self, action: ActionFacts, now: datetime, floor: datetime, told: Iterable[Told] = ()) -> list[Owed]:
        """The notifications ``action`` owes as of ``now`` for events after ``floor`` (see the module's text)."""
        result: list[Owed] = []
        seen: set[tuple[str, datetime]] = set()
        office_now = in_office_hours(now, self.policy.hours)
        told = list(told)
        # Whoever was first told the action was theirs: a later holder hears "reassigned", not "due".
        first = {t.recipient for t in told if t.recipient_role == ASSIGNEE and t.reason == "due"}
        before = first | {t.recipient for t in told if t.recipient_role == ASSIGNEE and t.reason == "reassigned"}

        def add(recipient: str, name: str | None, reason: str, role: str, at: datetime) -> None:
            if (recipient, at) not in seen:
                seen.add((recipient, at))
                result.append(Owed(action.id, action.key, recipient, reason, role, at, name))

        for reason, role, at, recipients in self.events(action):
            if not floor < at <= now:
                continue
            if not in_office_hours(at, self.policy.hours):
                person = self.rota.on_call(at)
                add(person.email if person else "role:on call", person.name if person else None, reason, ON_CALL, at)
                if not office_now:
                    continue
            for recipient, name in recipients:
                if reason == "due" and role == ASSIGNEE and first and recipient not in first:
                    continue
                add(recipient, name, reason, role, at)
        if action.kind == FORM_KIND and action.episode_ref and floor < action.trigger_at <= now:
            for recipient, name in self._role(TEAM_MANAGER, action.team):
                result.append(Owed(action.id, action.key, recipient, "form", TEAM_MANAGER, action.trigger_at, name))
        result.extend(self._reassigned(action, now, office_now, before))
        return result

    def _reassigned(self, action: ActionFacts, now: datetime, office_now: bool, before: set[str]) -> list[Owed]:
        """The action changed hands after someone else was told it was theirs: tell the new holder (in hours)."""
        current = {recipient for recipient, _ in self.actors(action)}
        if not office_now or not before or not (before - current) or action.trigger_at > now:
            return []
        return [Owed(action.id, action.key, recipient, "reassigned", ASSIGNEE, now, name)
                for recipient, name in self.actors(action) if recipient not in before]


def max_delay(policy: Policy, at: datetime) -> timedelta:
    """A bound on how long after its due time an action can still escalate (working days vary: a week's margin)."""
    delays = [delay for kind in policy.escalation.after for delay in policy.escalation.delays(kind)]
    return max(apply_offset(at, delay) - at for delay in delays) + timedelta(days=7)


def open_actions(session: Session, policy: Policy, now: datetime, floor: datetime) -> list[ActionFacts]:
    """Open actions that fell due by ``now`` and may have an event after ``floor`` (bounded by the due index)."""
    span = max_delay(policy, floor)
    rows = session.execute(
        select(Action.id, Action.key, Action.kind, Action.rule_id, Action.trigger_at, Action.due_at, Action.actor,
               Action.assigned_to, Child.ref, Child.allocated_worker, Child.team, Episode.ref, Episode.incident_ref)
        .join(Child, Action.child_id == Child.id)
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(Action.status == "open", Action.trigger_at <= now,
               or_(Action.trigger_at > floor, and_(Action.due_at > floor - span, Action.due_at <= now)))
        .order_by(Action.trigger_at, Action.key)
    )
    return [ActionFacts(*row) for row in rows]


def plan(actions: Iterable[ActionFacts], planner: Planner, now: datetime, floor: datetime,
         told: Mapping[str, list[Told]]) -> list[Owed]:
    """Every notification owed as of ``now`` for these actions (``told``: what each action's notices already are)."""
    return [owed for action in actions for owed in planner.owed(action, now, floor, told.get(action.key, []))]
