"""The worklist: stored actions as they stand at a moment.

An action is visible once its trigger has fired (``trigger_at <= as_of``). Its status as of that moment is read,
not stored: ``done``/``declined``/``not_required`` once the closing outcome was recorded by then, otherwise
``overdue`` past its due time and ``open`` before it. Withdrawn actions (facts or policy changed after they
fired; see the audit trail) are not on the worklist.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import as_london, as_utc
from missing_episodes.db.models import Action, Child, Episode

CLOSED_STATUSES = ("done", "declined", "not_required")


@dataclass(frozen=True)
class WorklistItem:
    child_ref: str
    child_id: str | None  # the authority's person id
    incident_ref: str | None
    episode_ref: str | None
    action: str
    rule: str
    policy_version: str
    trigger_at: datetime
    due_at: datetime
    status: str
    done_at: datetime | None
    done_by: str | None
    actor: str | None
    assigned_to: str | None
    assignment_note: str | None
    recipients: str | None
    evidence: str | None

    def to_json(self) -> dict[str, object]:
        """JSON-ready: times in ISO 8601 with their Europe/London offset."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            out[key] = as_london(value).isoformat() if isinstance(value, datetime) else value
        return out


def status_as_of(action: Action, as_of: datetime) -> str:
    if action.status in CLOSED_STATUSES and action.done_at is not None and action.done_at <= as_of:
        return action.status
    return "overdue" if action.due_at < as_of else "open"


def worklist(
    session: Session,
    as_of: datetime,
    *,
    kinds: tuple[str, ...] | None = None,
    include_closed: bool = True,
) -> list[WorklistItem]:
    """Every action whose trigger has fired by ``as_of``, with its status at that moment, by due time."""
    as_of = as_utc(as_of)
    query = (
        select(Action, Child.ref, Child.person_id, Episode.incident_ref, Episode.ref)
        .join(Child, Action.child_id == Child.id)
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(Action.trigger_at <= as_of, Action.status != "withdrawn")
        .order_by(Action.due_at, Action.key)
    )
    if kinds:
        query = query.where(Action.kind.in_(kinds))
    items = []
    for action, child_ref, person_id, incident_ref, episode_ref in session.execute(query):
        status = status_as_of(action, as_of)
        if not include_closed and status in CLOSED_STATUSES:
            continue
        closed = status in CLOSED_STATUSES
        items.append(
            WorklistItem(
                child_ref=child_ref,
                child_id=person_id,
                incident_ref=incident_ref,
                episode_ref=episode_ref,
                action=action.kind,
                rule=action.rule_id,
                policy_version=action.policy_version,
                trigger_at=action.trigger_at,
                due_at=action.due_at,
                status=status,
                done_at=action.done_at if closed else None,
                done_by=action.done_by if closed else None,
                actor=action.actor,
                assigned_to=action.assigned_to,
                assignment_note=action.assignment_note,
                recipients=action.recipients,
                evidence=action.evidence if closed else None,
            )
        )
    return items
