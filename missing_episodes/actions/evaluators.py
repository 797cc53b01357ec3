"""The two ways to recompute a group of children, as interchangeable strategies passed to ``recompute_children``.

``PerChild`` runs ``rules.evaluate_child`` for each child and writes ORM objects: right for the few children
the per-episode path brings. ``Vectorised`` runs ``bulk.evaluate_columns`` on the whole group and writes set-based
statements: the bulk path (a first load, a policy change). Both read the facts through the one loader
(``bulk.facts.read_facts``: objects for the first, columns for the second), store the same rows and write the
same audit events (tests/domain/test_bulk.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from sqlalchemy import select, update

from missing_episodes.actions.context import RecomputeRun
from missing_episodes.actions.writers import STORED_COLUMNS, write_objects, write_rows
from missing_episodes.bulk.evaluate import BulkActions, evaluate_columns
from missing_episodes.bulk.facts import as_objects, load_facts, read_facts
from missing_episodes.db.models import Action, Child
from missing_episodes.rules import evaluate_child
from missing_episodes.store import one_of


class Evaluator(Protocol):
    """Evaluates a group of children under ``run`` and stores the result (in ``run.session``'s transaction)."""

    def recompute_group(self, run: RecomputeRun, group: list[int]) -> None: ...


class PerChild:
    """``rules.evaluate_child`` child by child, stored through the ORM (interviews are allocated after all groups)."""

    def recompute_group(self, run: RecomputeRun, group: list[int]) -> None:
        session = run.session
        facts = as_objects(read_facts(session, group))
        children = {c.id: c for c in session.scalars(select(Child).where(one_of(session, Child.id, group)))}
        stored: dict[int, dict[str, Action]] = defaultdict(dict)
        for action in session.scalars(select(Action).where(one_of(session, Action.child_id, group))):
            stored[action.child_id][action.key] = action
        for child_id in group:
            child = children.get(child_id)
            if child is None:
                continue
            specs = evaluate_child(run.policy, facts.children[child_id], facts.episodes.get(child_id, []),
                                   facts.outcomes.get(child_id, []), run.horizon)
            write_objects(run, child_id, specs, stored[child_id], facts.episode_ids)
            child.needs_review = False
            run.summary.children += 1


class Vectorised:
    """``bulk.evaluate_columns`` on the group's facts (read once, as columns), stored with a few Core statements.

    The frame's settled rows of a child with no stored action (a first load's every child but those with case
    events) are inserted straight from their columns: against nothing stored, each is a create, which is what
    ``diff.changes`` would say of it. With ``audit_each`` (an event per action) every action goes through the diff.
    """

    def recompute_group(self, run: RecomputeRun, group: list[int]) -> None:
        session = run.session
        facts = load_facts(session, group)
        evaluated = evaluate_columns(run.policy, facts, run.horizon)
        episode_ids = dict(zip(facts.episodes["ref"], facts.episodes["id"].tolist(), strict=True))
        stored: dict[int, dict[str, Any]] = defaultdict(dict)
        for row in session.execute(select(*STORED_COLUMNS).where(one_of(session, Action.child_id, group))):
            stored[row.child_id][row.key] = row
        settled = evaluated.settled
        fresh = ~settled["child_id"].isin(list(stored)) & (not run.audit_each)
        specs = BulkActions(evaluated.specs, settled[~fresh]).all_specs(run.policy)
        child_ids = facts.children["id"].tolist()
        # By child, as the diff's creates are: the child's index is written in order (frame rows go rule by rule).
        fresh_rows = settled[fresh].sort_values("child_id", kind="stable")
        write_rows(run, specs, stored, episode_ids, child_ids, fresh=fresh_rows)
        run.summary.children += len(child_ids)
        session.execute(update(Child).where(one_of(session, Child.id, child_ids)).values(needs_review=False))


PER_CHILD = PerChild()
VECTORISED = Vectorised()
