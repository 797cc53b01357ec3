"""Return Home Interview allocation during a recomputation: the glue between ``allocation`` and stored actions.

``missing_episodes.allocation`` chooses a worker; here the choices are made for the open unassigned interviews of
a recomputation's children in one canonical order (trigger time, then action key), counted against the loads,
audited and written by id, once every group's actions are stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from missing_episodes.actions.context import RecomputeRun
from missing_episodes.allocation import choose_worker, placement_note
from missing_episodes.batching import key_batches
from missing_episodes.db.models import Action, Child
from missing_episodes.store import audit, one_of, unindexed


def open_interview_loads(session: Session) -> dict[str, int]:
    """Each worker's open assigned interviews: the load ``choose_worker`` balances."""
    rows = session.execute(
        select(Action.assigned_to, func.count())
        .where(Action.kind == "return_home_interview", Action.status == "open", Action.assigned_to.is_not(None))
        .group_by(Action.assigned_to)
    )
    return {worker: count for worker, count in rows}


def allocate_children(run: RecomputeRun, child_ids: list[int]) -> int:
    """Give the open unassigned interviews of these children a worker, in one canonical order; returns how many.

    Every interview of the run is taken in (trigger time, action key) order, whichever child it belongs to and
    whatever order the children were created or grouped in: the key is the episode's pseudonymous ref and the
    rule, so the order, the loads each choice reads and therefore each choice are the same however the feeds
    arrived (tests/domain/test_replay.py). Ties between workers are broken by load, then name
    (``allocation.choose_worker``). Run after every group's actions are stored and flushed.
    """
    session = run.session
    distances: dict[int, float | None] = {}
    interviews: list[Any] = []
    for batch in key_batches(child_ids):
        query = select(Child.id, Child.placement_distance_miles).where(one_of(session, Child.id, batch))
        distances.update((child_id, miles) for child_id, miles in session.execute(query))
        interviews += session.execute(
            select(Action.id, Action.child_id, Action.key, Action.trigger_at, Action.status, Action.assigned_to)
            .where(one_of(session, Action.child_id, batch), unindexed(Action.kind) == "return_home_interview")
        ).all()
    assigned = [
        {"action_key": action.id, "assigned_to": worker, "assignment_note": note}
        for action, worker, note in allocate(run, distances, interviews)
    ]
    if assigned:
        table = Action.__table__
        statement = update(table).where(table.c.id == bindparam("action_key"))
        session.execute(statement.values(assigned_to=bindparam("assigned_to"),
                                         assignment_note=bindparam("assignment_note")), assigned)  # fmt: skip
        session.expire_all()  # ORM objects of the per-child path read the assignments again
    return len(assigned)


def allocate(run: RecomputeRun, distances: dict[int, float | None],
             interviews: Iterable[Any]) -> list[tuple[Any, str, str | None]]:  # fmt: skip
    """Who takes each open unassigned interview: (action, worker, note), audited, loads counted.

    A child's previous interviewer is the one of its latest earlier interview (``prefer_previous_worker``).
    """
    decisions = []
    previous: dict[int, str] = {}
    settings = run.policy.allocation
    for action in sorted(interviews, key=lambda a: (a.trigger_at, a.key)):
        if action.assigned_to:
            previous[action.child_id] = action.assigned_to
            continue
        if action.status != "open":
            continue
        last = previous.get(action.child_id)
        worker = choose_worker(run.roster, run.loads, last, settings.prefer_previous_worker)
        if worker is None:
            continue
        note = placement_note(distances.get(action.child_id), settings)
        decisions.append((action, worker, note))
        run.loads[worker] = run.loads.get(worker, 0) + 1
        audit(run.session, run.actor, "rhi_allocated", "action", action.key, worker=worker,
              same_as_last=worker == last, distant=bool(note))
        previous[action.child_id] = worker
    return decisions
