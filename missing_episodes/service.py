"""Units of work the tasks and the CLI share: each opens its own transaction and returns ids and counts only.

These are the seams between Prefect and the domain: a task is a one-line call of one of these, so the same
work runs under a flow, under the CLI's read-only commands, or in a test without any orchestrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import func, select, update

from missing_episodes.actions import VECTORISED, RecomputeSummary, children_needing_review, recompute_children
from missing_episodes.clock import now
from missing_episodes.config import Settings, get_settings
from missing_episodes.db.engine import session_scope, upgrade
from missing_episodes.db.models import Child, Episode, FeedCursor
from missing_episodes.ingest import IngestSummary, ingest_rows
from missing_episodes.jobs.context import Context
from missing_episodes.sources import BrokenFile, HttpSource, RawRow, poll_http, read_file
from missing_episodes.store import audit


def ensure_schema(settings: Settings | None = None) -> None:
    upgrade((settings or get_settings()).database_url)


def ingest_path(kind: str, path: Path, source: str, context: Context | None = None) -> IngestSummary:
    context = context or Context.load()
    return ingest_records(kind, read_file(path), source, context)


def ingest_records(kind: str, rows: Iterable[RawRow | BrokenFile], source: str,
                   context: Context | None = None) -> IngestSummary:
    context = context or Context.load()
    return ingest_rows(partial(session_scope, context.settings.database_url), feed=kind, source=source, rows=rows,
                       settings=context.settings, policy=context.policy)


def ingest_http_source(source: HttpSource, context: Context | None = None, client=None) -> IngestSummary:
    """Poll from the stored cursor; the cursor moves only after the rows are stored (at-least-once, deduped)."""
    context = context or Context.load()
    with context.session() as session:
        cursor = session.get(FeedCursor, source.name)
        since = cursor.cursor if cursor else None
    rows, next_cursor = poll_http(source, since, client)
    summary = ingest_records(source.feed, list(rows), source.name, context)
    with context.session() as session:
        cursor = session.get(FeedCursor, source.name)
        if cursor is None:
            session.add(FeedCursor(source=source.name, cursor=next_cursor))
        else:
            cursor.cursor = next_cursor
    return summary


@dataclass
class ReviewItem:
    """A child whose facts changed, with the episodes that changed: what one per-episode subflow checks."""

    child_ref: str
    episode_refs: list[str] = field(default_factory=list)


def count_pending_reviews(context: Context | None = None) -> int:
    context = context or Context.load()
    with context.session() as session:
        return session.scalar(select(func.count()).select_from(Child).where(Child.needs_review.is_(True))) or 0


def pending_reviews(context: Context | None = None, limit: int | None = None) -> list[ReviewItem]:
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


def summary_dict(summary: IngestSummary | RecomputeSummary) -> dict[str, object]:
    return asdict(summary)
