"""The two ways a group's changes reach the store: ORM objects (a few children) or set-based Core statements.

Both apply the same ``diff.changes`` with the same audit events (``RecomputeRun.record``); tests/domain/test_bulk.py
checks that they leave the same rows and events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import delete, update

from missing_episodes.actions.context import RecomputeRun
from missing_episodes.actions.diff import COMPARED, changes, spec_values
from missing_episodes.bulk.evaluate import column_spec, frame_rows
from missing_episodes.db.models import Action
from missing_episodes.facts import ActionSpec
from missing_episodes.store import insert_ignoring_duplicates, one_of

# The columns the bulk writer reads back to diff against: ids, keys and every compared column.
STORED_COLUMNS = (Action.id, Action.key, Action.child_id, *(getattr(Action, name) for name in COMPARED))


def write_objects(run: RecomputeRun, child_id: int, specs: list[ActionSpec], stored: dict[str, Action],
                  episode_ids: Mapping[str, int]) -> None:
    """One child's changes applied to ORM objects (``stored`` is kept equal to the table)."""
    for change in changes(specs, stored, run.now):
        run.record(change)
        if change.op == "create":
            action = Action(key=change.key, child_id=child_id,
                            episode_id=episode_ids.get(change.spec.episode_ref or ""), **change.values)
            run.session.add(action)
            stored[change.key] = action
        elif change.op == "remove":
            run.session.delete(change.stored)
            del stored[change.key]
        elif change.op == "withdraw":
            change.stored.status = "withdrawn"
        else:
            for name, value in change.values.items():
                setattr(change.stored, name, value)


def write_rows(run: RecomputeRun, evaluated: Mapping[int, list[ActionSpec]], stored: Mapping[int, Mapping[str, Any]],
               episode_ids: Mapping[str, int], child_ids: list[int], fresh: pd.DataFrame | None = None) -> None:
    """Many children's changes as a few statements: keyed inserts a concurrent run cannot duplicate, updates
    and deletes by id. ``stored`` holds each child's actions as rows (``STORED_COLUMNS``) by key. ``fresh`` are
    column evaluator rows (``bulk.SPEC_COLUMNS``) of children with none stored: each is inserted as created.
    """
    inserts = _fresh_rows(run, fresh, episode_ids) if fresh is not None else []
    updates: list[dict[str, object]] = []
    removed: list[int] = []
    withdrawn: list[int] = []
    for child_id in child_ids:
        for change in changes(evaluated.get(child_id, []), stored.get(child_id, {}), run.now):
            run.record(change)
            if change.op == "create":
                inserts.append({"key": change.key, "child_id": child_id,
                                "episode_id": episode_ids.get(change.spec.episode_ref or ""), **change.values})
            elif change.op == "remove":
                removed.append(change.stored.id)
            elif change.op == "withdraw":
                withdrawn.append(change.stored.id)
            else:
                updates.append({"id": change.stored.id, **change.values})
    session = run.session
    insert_ignoring_duplicates(session, Action, inserts)
    if updates:
        session.execute(update(Action), updates)
    if removed:
        session.execute(delete(Action).where(one_of(session, Action.id, removed)))
    if withdrawn:
        session.execute(update(Action).where(one_of(session, Action.id, withdrawn)).values(status="withdrawn"))


def _fresh_rows(run: RecomputeRun, fresh: pd.DataFrame, episode_ids: Mapping[str, int]) -> list[dict[str, object]]:
    """The insert of each open action of a column rule, counted as created: the values ``diff.changes`` gives a
    create (``spec_values``), those of the rule made once per rule, the row's own added per row."""
    rules = {rule.id: rule for rule in run.policy.rules}
    made = {rule_id: spec_values(column_spec(run.policy, rules[rule_id], "", None, None, None))
            for rule_id in fresh["rule_id"].unique()}
    rows = [
        {"key": key, "child_id": child_id, "episode_id": episode_ids.get(episode_ref or ""),
         **made[rule_id], "trigger_at": trigger_at, "due_at": due_at}
        for child_id, key, rule_id, episode_ref, trigger_at, due_at in frame_rows(fresh)
    ]
    run.summary.created += len(rows)
    return rows
