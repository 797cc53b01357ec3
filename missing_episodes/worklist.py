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


def status_as_of(action, as_of: datetime) -> str:
    """The status at ``as_of`` of anything with ``status``, ``done_at`` and ``due_at`` (an Action, a row)."""
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
    """Every action whose trigger has fired by ``as_of``, with its status at that moment, by due time.

    Plain columns, not ORM objects: the worklist of a region's history is tens of thousands of rows.
    """
    as_of = as_utc(as_of)
    query = (
        select(
            Child.ref.label("child_ref"),
            Child.person_id,
            Episode.incident_ref,
            Episode.ref.label("episode_ref"),
            Action.kind,
            Action.rule_id,
            Action.policy_version,
            Action.trigger_at,
            Action.due_at,
            Action.status,
            Action.done_at,
            Action.done_by,
            Action.actor,
            Action.assigned_to,
            Action.assignment_note,
            Action.recipients,
            Action.evidence,
        )
        .join(Child, Action.child_id == Child.id)
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(Action.trigger_at <= as_of, Action.status != "withdrawn")
        .order_by(Action.due_at, Action.key)
    )
    if kinds:
        query = query.where(Action.kind.in_(kinds))
    items = []
    for row in session.execute(query):
        status = status_as_of(row, as_of)
        closed = status in CLOSED_STATUSES
        if closed and not include_closed:
            continue
        items.append(
            WorklistItem(
                child_ref=row.child_ref,
                child_id=row.person_id,
                incident_ref=row.incident_ref,
                episode_ref=row.episode_ref,
                action=row.kind,
                rule=row.rule_id,
                policy_version=row.policy_version,
                trigger_at=row.trigger_at,
                due_at=row.due_at,
                status=status,
                done_at=row.done_at if closed else None,
                done_by=row.done_by if closed else None,
                actor=row.actor,
                assigned_to=row.assigned_to,
                assignment_note=row.assignment_note,
                recipients=row.recipients,
                evidence=row.evidence if closed else None,
            )
        )
    return items
