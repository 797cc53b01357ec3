"""Return Home Interview allocation during a recomputation: the glue between ``allocation`` and stored actions.

``missing_episodes.allocation`` chooses a worker; here the choices are made for a child's open unassigned
interviews in trigger order, counted against the loads, audited, and (for the bulk path) written by id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from missing_episodes.actions.context import RecomputeRun
from missing_episodes.allocation import choose_worker, placement_note
from missing_episodes.db.models import Action, Child
from missing_episodes.store import audit


def open_interview_loads(session: Session) -> dict[str, int]:
    """Each worker's open assigned interviews: the load ``choose_worker`` balances."""
    rows = session.execute(
        select(Action.assigned_to, func.count())
        .where(Action.kind == "return_home_interview", Action.status == "open", Action.assigned_to.is_not(None))
        .group_by(Action.assigned_to)
    )
    return {worker: count for worker, count in rows}


def allocate(run: RecomputeRun, distance: float | None, actions: Iterable[Any]) -> list[tuple[Any, str, str | None]]:
    """Who takes each of a child's open unassigned interviews: (action, worker, note), audited, loads counted.

    ``actions`` are the child's stored actions (ORM objects or rows); the caller writes the assignments.
    """
    interviews = sorted(
        (a for a in actions if a.kind == "return_home_interview"), key=lambda a: (a.trigger_at, a.key)
    )
    decisions = []
    previous = None
    settings = run.policy.allocation
    for action in interviews:
        if action.assigned_to:
            previous = action.assigned_to
            continue
        if action.status != "open":
            continue
        worker = choose_worker(run.roster, run.loads, previous, settings.prefer_previous_worker)
        if worker is None:
            continue
        note = placement_note(distance, settings)
        decisions.append((action, worker, note))
        run.loads[worker] = run.loads.get(worker, 0) + 1
        audit(run.session, run.actor, "rhi_allocated", "action", action.key, worker=worker,
              same_as_last=worker == previous, distant=bool(note))
        previous = worker
    return decisions


def allocate_rows(run: RecomputeRun, group: list[int]) -> int:
    """``allocate`` for the bulk path: the group's interviews read as rows, assignments written by id."""
    session = run.session
    distances = {child_id: miles for child_id, miles in
                 session.execute(select(Child.id, Child.placement_distance_miles).where(Child.id.in_(group)))}
    interviews: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(Action.id, Action.child_id, Action.key, Action.kind, Action.trigger_at, Action.status,
               Action.assigned_to)
        .where(Action.child_id.in_(group), Action.kind == "return_home_interview")
    ):
        interviews[row.child_id].append(row)
    assigned = [
        {"id": action.id, "assigned_to": worker, "assignment_note": note}
        for child_id in group  # in id order, as the per-child path: each choice moves the loads the next one reads
        for action, worker, note in allocate(run, distances.get(child_id), interviews.get(child_id, ()))
    ]
    if assigned:
        session.execute(update(Action), assigned)
    return len(assigned)
