"""Rules jobs: which children need a review, running the rules for one child or a batch, and asking for a
review; each called by one task in ``tasks/rules.py``.

Each opens its own transaction and returns refs and counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from missing_episodes.actions import VECTORISED, children_needing_review, recompute_children
from missing_episodes.clock import now
from missing_episodes.db.models import Child, Episode
from missing_episodes.jobs.context import Context
from missing_episodes.progress import advance
from missing_episodes.store import audit


@dataclass
class ReviewItem:
    """A child whose facts changed, with its latest episodes: what one per-child subflow checks."""

    child_ref: str
    episode_refs: list[str] = field(default_factory=list)


def count_pending_reviews(context: Context | None = None) -> int:
    """How many children are flagged for review: the count that chooses subflows or batches."""
    context = context or Context.load()
    with context.session() as session:
        return session.scalar(select(func.count()).select_from(Child).where(Child.needs_review.is_(True))) or 0


def pending_reviews(limit: int | None = None, context: Context | None = None) -> list[ReviewItem]:
    """The flagged children by ref, each with the refs of its last three episodes (for the subflow's log)."""
    context = context or Context.load()
    with context.session() as session:
        ids = children_needing_review(session, limit)
        refs = dict(session.execute(select(Child.id, Child.ref).where(Child.id.in_(ids))).all()) if ids else {}
        episodes: dict[int, list[str]] = {}
        if ids:
            for child_id, ref in session.execute(
                select(Episode.child_id, Episode.ref).where(Episode.child_id.in_(ids)).order_by(Episode.started_at)
            ):
                episodes.setdefault(child_id, []).append(ref)
    return [ReviewItem(refs[i], episodes.get(i, [])[-3:]) for i in ids]


def review_children(child_refs: list[str], context: Context | None = None, *, audit_each: bool = True,
                    actor: str = "rules") -> dict[str, int]:
    """Run the rules for these children and store their actions; one transaction."""
    context = context or Context.load()
    with context.session() as session:
        ids = list(session.scalars(select(Child.id).where(Child.ref.in_(child_refs))))
        summary = recompute_children(session, ids, context.policy, now=now(),
                                     roster_path=context.settings.roster_path, actor=actor, audit_each=audit_each)
    return summary.as_dict()


def review_next_batch(batch_size: int, context: Context | None = None, actor: str = "rules-bulk") -> dict[str, int]:
    """The bulk path: the next ``batch_size`` children needing review, in one transaction, same rules."""
    context = context or Context.load()
    with context.session() as session:
        ids = children_needing_review(session, batch_size)
        summary = recompute_children(session, ids, context.policy, now=now(),
                                     roster_path=context.settings.roster_path, actor=actor, audit_each=False,
                                     evaluator=VECTORISED)
    advance("children", len(ids))
    return summary.as_dict()


def review_ranges(batch_size: int, context: Context | None = None) -> list[tuple[int, int]]:
    """The children flagged for review cut into batches of ``batch_size``, each named by its first and last child id.

    A batch is keyed by its id range, not by "the next N flagged": two workers given two ranges never take the
    same child, and a batch run again (a retry, a second worker handed the same run) finds its children already
    reviewed or recomputes them to the same keyed actions, so nothing is stored twice.
    """
    context = context or Context.load()
    with context.session() as session:
        ids = children_needing_review(session)
    return [(ids[at], ids[min(at + batch_size, len(ids)) - 1]) for at in range(0, len(ids), max(1, batch_size))]


def review_range(first_id: int, last_id: int, context: Context | None = None,
                 actor: str = "rules-bulk") -> dict[str, int]:
    """The bulk path for one batch of ``review_ranges``: the flagged children with ids in [first, last], one
    transaction (a child reviewed already is no longer flagged and is skipped)."""
    context = context or Context.load()
    with context.session() as session:
        ids = list(session.scalars(select(Child.id).where(
            Child.needs_review.is_(True), Child.id.between(first_id, last_id)).order_by(Child.id)))
        summary = recompute_children(session, ids, context.policy, now=now(),
                                     roster_path=context.settings.roster_path, actor=actor, audit_each=False,
                                     evaluator=VECTORISED)
    advance("children", len(ids))
    return summary.as_dict()


def flag_for_review(*, everyone: bool = False, reason: str, context: Context | None = None) -> int:
    """Mark children for a fresh run of the rules: all of them (policy change) or those still missing.

    A recomputation after a policy change is explicit: it is started by a person or a deployment, and the
    audit trail records who asked, why, and under which policy version.
    """
    context = context or Context.load()
    with context.session() as session:
        query = update(Child).values(needs_review=True)
        if not everyone:
            still_missing = select(Episode.child_id).where(Episode.status == "open", Episode.child_id.is_not(None))
            query = query.where(Child.id.in_(still_missing))
        count = session.execute(query).rowcount or 0
        audit(session, "operator" if everyone else "schedule", "review_requested", "policy",
              context.policy.version, reason=reason, children=count, everyone=everyone)
    return count
