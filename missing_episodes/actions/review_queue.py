"""The children waiting for a run of the rules (their facts changed, or a review was requested)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.db.models import Child


def children_needing_review(session: Session, limit: int | None = None) -> list[int]:
    """Ids of children flagged ``needs_review``, lowest first (``limit`` of them, if given)."""
    query = select(Child.id).where(Child.needs_review.is_(True)).order_by(Child.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))
