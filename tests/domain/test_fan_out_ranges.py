"""The fan-out's batches (issue 19, goal 4): flagged children cut into id ranges, each range recomputed in its own
transaction, on SQLite and PostgreSQL.

Two workers taking ranges at once, a range run twice (a retry, a run handed to two workers) and the ranges run in
any order must store what one serial pass of the bulk path stores: every action once, nobody left flagged.
"""

from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Child
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import flag_for_review, review_next_batch, review_range, review_ranges

COLUMNS = ("key", "rule_id", "trigger_at", "due_at", "status", "episode_id", "child_id")


def _load_sample(url: str, monkeypatch) -> Context:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    context = Context.load(Settings(database_url=url))
    for kind, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", source, context)
    return context


def _actions(context: Context) -> list[tuple]:
    with context.session() as session:
        return sorted(tuple(str(getattr(a, c)) for c in COLUMNS) for a in session.scalars(select(Action)))


def _flagged(context: Context) -> int:
    with context.session() as session:
        return session.scalar(select(func.count()).select_from(Child).where(Child.needs_review.is_(True))) or 0


def test_ranges_cover_every_flagged_child_once(db_url, monkeypatch) -> None:
    context = _load_sample(db_url, monkeypatch)
    with session_scope(db_url) as session:
        flagged = sorted(session.scalars(select(Child.id).where(Child.needs_review.is_(True))))
    ranges = review_ranges(7, context)
    assert len(flagged) > 20 and len(ranges) == -(-len(flagged) // 7)
    covered = [i for first, last in ranges for i in flagged if first <= i <= last]
    assert covered == flagged  # each flagged child in exactly one range, ranges in order and disjoint
    assert all(first <= last for first, last in ranges)


def test_ranges_at_once_and_twice_store_what_one_serial_pass_stores(db_url, monkeypatch) -> None:
    context = _load_sample(db_url, monkeypatch)
    ranges = review_ranges(5, context)
    # Two "workers" (threads), each given every range in its own shuffled order: each range is run twice, and
    # each pair of runs of a range may overlap. Keyed batches and keyed actions: nothing is stored twice.
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        order = random.Random(seed).sample(ranges, len(ranges))
        try:
            for first, last in order:
                review_range(first, last, context)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert _flagged(context) == 0
    fanned_out = _actions(context)
    assert fanned_out and len({row[0] for row in fanned_out}) == len(fanned_out)
    # One serial pass of the bulk path over every child finds nothing to change: the same actions.
    flag_for_review(everyone=True, reason="test: serial pass after the fan-out", context=context)
    summary = review_next_batch(100_000, context)
    assert summary["children"] > 20
    assert (summary["created"], summary["updated"], summary["withdrawn"], summary["removed"]) == (0, 0, 0, 0)
    assert _actions(context) == fanned_out


def test_a_range_run_again_changes_nothing(db_url, monkeypatch) -> None:
    context = _load_sample(db_url, monkeypatch)
    (first, last), *_ = review_ranges(10, context)
    once = review_range(first, last, context)
    assert once["children"] == 10 and once["created"] > 0
    again = review_range(first, last, context)  # its children are no longer flagged: a retry is a no-op
    assert again["children"] == 0 and again["created"] == again["updated"] == 0
