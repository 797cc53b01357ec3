"""Running the rules for children and keeping the stored actions equal to what the rules say.

``recompute_children`` is the one place actions are written, whether from the per-episode subflow (a few
children) or the bulk path (every child, after a first load or a policy change). It loads the facts in a few
set-based queries, evaluates each child with ``rules.evaluate_child``, and applies the difference by key:
new actions are inserted, changed ones updated, and ones the rules no longer ask for are deleted if they never
fired or marked ``withdrawn`` (with an audit event) if they had. Running it twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from missing_episodes import bulk
from missing_episodes.allocation import choose_worker, load_roster, placement_note
from missing_episodes.db.models import Action, Child, Episode, Outcome, RiskAssessment
from missing_episodes.policy import Policy
from missing_episodes.rules import ActionSpec, ChildFacts, EpisodeFacts, OutcomeFacts, evaluate_child
from missing_episodes.store import audit, insert_ignoring_duplicates, lock_keys

_COMPARED = (
    "kind", "rule_id", "policy_version", "trigger_at", "due_at", "status", "done_at", "done_by", "evidence",
    "detail", "actor", "recipients",
)


@dataclass
class RecomputeSummary:
    children: int = 0
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    removed: int = 0
    allocated: int = 0

    def add(self, other: RecomputeSummary) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def batched(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_facts(session: Session, child_ids: list[int]) -> dict[int, tuple[Child, list[Episode], list[EpisodeFacts],
                                                                           list[OutcomeFacts]]]:
    """Everything the rules read for these children, in three queries."""
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(child_ids)))}
    episodes: dict[int, list[Episode]] = defaultdict(list)
    for episode in session.scalars(select(Episode).where(Episode.child_id.in_(child_ids))):
        episodes[episode.child_id].append(episode)  # type: ignore[index]
    risks: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    episode_ids = [e.id for group in episodes.values() for e in group]
    for start in range(0, len(episode_ids), 1000):
        for episode_id, at, level in session.execute(
            select(RiskAssessment.episode_id, RiskAssessment.assessed_at, RiskAssessment.risk_level)
            .where(RiskAssessment.episode_id.in_(episode_ids[start : start + 1000]))
            .order_by(RiskAssessment.assessed_at, RiskAssessment.notification_id)
        ):
            risks[episode_id].append((at, level))
    outcomes: dict[int, list[OutcomeFacts]] = defaultdict(list)
    for row in session.scalars(select(Outcome).where(Outcome.child_id.in_(child_ids))):
        outcomes[row.child_id].append(
            OutcomeFacts(row.event_id, row.event, row.recorded_at, row.incident_ref, row.by, row.rationale,
                         row.notes, row.risk_level)
        )
    facts = {}
    for child_id, child in children.items():
        rows = episodes.get(child_id, [])
        facts[child_id] = (
            child,
            rows,
            [
                EpisodeFacts(e.ref, e.incident_ref, e.kind, e.started_at, e.reported_at, e.found_at,
                             e.return_notified_at, tuple(risks.get(e.id, ())), e.other_authority)
                for e in rows
            ],
            outcomes.get(child_id, []),
        )
    return facts


def child_facts(child: Child) -> ChildFacts:
    return ChildFacts(child.ref, child.legal_status, child.uasc, child.date_of_birth)


def recompute_children(
    session: Session,
    child_ids: Iterable[int],
    policy: Policy,
    *,
    now: datetime,
    roster_path: Path | None = None,
    actor: str = "rules",
    audit_each: bool = True,
    vectorised: bool = False,
) -> RecomputeSummary:
    """Evaluate the rules for these children and store the result (in the caller's transaction).

    ``vectorised`` (the bulk path) evaluates a group of children at once with ``bulk.evaluate_bulk``, which gives
    exactly what ``rules.evaluate_child`` gives child by child (tests/test_bulk.py, tests/test_flows.py) in a
    fraction of the time; the per-episode path keeps the plain per-child evaluation.
    """
    ids = sorted(set(child_ids))
    summary = RecomputeSummary()
    if not ids:
        return summary
    lock_keys(session, "child", ids)
    horizon = now + timedelta(days=policy.schedule_horizon_days)
    roster = load_roster(roster_path, policy.allocation.team) if roster_path else []
    loads = _open_interview_loads(session) if roster else {}
    for group in batched(ids, 500):
        if vectorised:
            _recompute_group_vectorised(session, group, policy, horizon, now, roster, loads, actor, audit_each,
                                        summary)
        else:
            _recompute_group(session, group, policy, horizon, now, roster, loads, actor, audit_each, summary)
        session.flush()
    if not audit_each and (summary.created or summary.updated or summary.withdrawn or summary.removed):
        audit(session, actor, "actions_recomputed", "policy", policy.version, **summary.as_dict())
    return summary


def _recompute_group(session: Session, group: list[int], policy: Policy, horizon: datetime, now: datetime,
                     roster: list, loads: dict[str, int], actor: str, audit_each: bool,
                     summary: RecomputeSummary) -> None:
    """The per-child path: ``rules.evaluate_child`` for each child, stored through the ORM."""
    facts = load_facts(session, group)
    stored: dict[int, dict[str, Action]] = defaultdict(dict)
    for action in session.scalars(select(Action).where(Action.child_id.in_(group))):
        stored[action.child_id][action.key] = action
    for child_id in group:
        if child_id not in facts:
            continue
        child, episode_rows, episodes, outcomes = facts[child_id]
        specs = evaluate_child(policy, child_facts(child), episodes, outcomes, horizon)
        episode_ids = {e.ref: e.id for e in episode_rows}
        _apply(session, child, specs, stored[child_id], episode_ids, now, actor, audit_each, summary)
        if roster:
            for action, worker, note in _allocate(session, child.placement_distance_miles,
                                                  stored[child_id].values(), roster, loads, policy, actor):
                action.assigned_to, action.assignment_note = worker, note
                summary.allocated += 1
        child.needs_review = False
        summary.children += 1


_STORED = (Action.id, Action.key, Action.child_id, *(getattr(Action, name) for name in _COMPARED))


def _recompute_group_vectorised(session: Session, group: list[int], policy: Policy, horizon: datetime,
                                now: datetime, roster: list, loads: dict[str, int], actor: str, audit_each: bool,
                                summary: RecomputeSummary) -> None:
    """The bulk path: ``bulk.evaluate_bulk`` on the group's facts (read once, as columns), stored with Core.

    The same changes and audit events as the per-child path, written as a few statements for the whole
    group instead of an ORM object per action: keyed inserts that a concurrent run cannot duplicate, updates
    and deletes by id.
    """
    facts = bulk.load_facts(session, group)
    evaluated = bulk.evaluate_bulk(policy, facts, horizon)
    episode_ids = dict(zip(facts.episodes["ref"], facts.episodes["id"].tolist(), strict=True))
    stored: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in session.execute(select(*_STORED).where(Action.child_id.in_(group))):
        stored[row.child_id][row.key] = row
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    removed: list[int] = []
    withdrawn: list[int] = []
    for child_id in facts.children["id"].tolist():
        for change in _changes(evaluated.get(child_id, []), stored[child_id], now):
            _record(session, change, actor, audit_each, summary)
            if change.op == "create":
                inserts.append({"key": change.key, "child_id": child_id,
                                "episode_id": episode_ids.get(change.spec.episode_ref or ""), **change.values})
            elif change.op == "remove":
                removed.append(change.stored.id)
            elif change.op == "withdraw":
                withdrawn.append(change.stored.id)
            else:
                updates.append({"id": change.stored.id, **change.values})
        summary.children += 1
    insert_ignoring_duplicates(session, Action, inserts)
    if updates:
        session.execute(update(Action), updates)
    if removed:
        session.execute(delete(Action).where(Action.id.in_(removed)))
    if withdrawn:
        session.execute(update(Action).where(Action.id.in_(withdrawn)).values(status="withdrawn"))
    if roster:
        summary.allocated += _allocate_rows(session, group, roster, loads, policy, actor)
    session.execute(update(Child).where(Child.id.in_(facts.children["id"].tolist())).values(needs_review=False))


def _allocate_rows(session: Session, group: list[int], roster: list, loads: dict[str, int], policy: Policy,
                   actor: str) -> int:
    """``_allocate`` for the bulk path: the group's interviews read as rows, assignments written by id."""
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
        for action, worker, note in _allocate(session, distances.get(child_id), interviews.get(child_id, ()), roster,
                                              loads, policy, actor)
    ]
    if assigned:
        session.execute(update(Action), assigned)
    return len(assigned)


def _spec_values(spec: ActionSpec) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "rule_id": spec.rule_id,
        "policy_version": spec.policy_version,
        "trigger_at": spec.trigger_at,
        "due_at": spec.due_at,
        "status": spec.status,
        "done_at": spec.done_at,
        "done_by": spec.done_by,
        "evidence": spec.evidence,
        "detail": spec.detail,
        "actor": spec.actor,
        "recipients": ", ".join(spec.recipients) or None,
    }


@dataclass(frozen=True)
class _Change:
    """One difference between what the rules ask for and what is stored, for one action key."""

    op: str  # create, update, close (an update that changes the status), remove or withdraw
    key: str
    spec: ActionSpec | None  # what the rules ask for (create, update, close)
    values: dict[str, object]  # all the spec's values (create) or only the changed ones (update, close)
    stored: Any  # the stored action, an ORM object or a row (update, close, remove, withdraw)


def _changes(specs: list[ActionSpec], stored: Mapping[str, Any], now: datetime) -> list[_Change]:
    """What to change so the stored actions (ORM objects or rows, by key) equal ``specs``; in a stable order.

    Actions the rules no longer ask for are removed if they never fired (still open, trigger in the future)
    and withdrawn otherwise: a person may have seen them.
    """
    wanted = {spec.key: spec for spec in specs}
    changes = []
    for key, spec in wanted.items():
        values = _spec_values(spec)
        action = stored.get(key)
        if action is None:
            changes.append(_Change("create", key, spec, values, None))
            continue
        changed = {name: value for name, value in values.items() if getattr(action, name) != value}
        if changed:
            changes.append(_Change("close" if "status" in changed else "update", key, spec, changed, action))
    for key, action in stored.items():
        if key in wanted or action.status == "withdrawn":
            continue
        never_fired = action.trigger_at > now and action.status == "open"
        changes.append(_Change("remove" if never_fired else "withdraw", key, None, {}, action))
    return changes


def _record(session: Session, change: _Change, actor: str, audit_each: bool, summary: RecomputeSummary) -> None:
    """Count a change and write its audit event: every one with ``audit_each``, withdrawals always."""
    spec = change.spec
    if change.op == "withdraw":
        summary.withdrawn += 1
        audit(session, actor, "action_withdrawn", "action", change.key,
              reason="the facts or the policy no longer ask for it", rule=change.stored.rule_id)
        return
    if change.op == "create":
        summary.created += 1
    elif change.op == "remove":
        summary.removed += 1
    else:
        summary.updated += 1
    if not audit_each:
        return
    if change.op == "create":
        audit(session, actor, "action_created", "action", change.key, rule=spec.rule_id, due_at=spec.due_at,
              policy_version=spec.policy_version)
    elif change.op == "remove":
        audit(session, actor, "action_removed", "action", change.key, reason="trigger no longer holds")
    else:
        event = "action_closed" if change.op == "close" else "action_updated"
        audit(session, actor, event, "action", change.key, changed=sorted(change.values),
              status=spec.status, policy_version=spec.policy_version)


def _apply(session: Session, child: Child, specs: list[ActionSpec], stored: dict[str, Action],
           episode_ids: dict[str, int], now: datetime, actor: str, audit_each: bool,
           summary: RecomputeSummary) -> None:
    """The per-child path: apply the changes to ORM objects (``stored`` is kept equal to the table)."""
    for change in _changes(specs, stored, now):
        _record(session, change, actor, audit_each, summary)
        if change.op == "create":
            action = Action(key=change.key, child_id=child.id,
                            episode_id=episode_ids.get(change.spec.episode_ref or ""), **change.values)
            session.add(action)
            stored[change.key] = action
        elif change.op == "remove":
            session.delete(change.stored)
            del stored[change.key]
        elif change.op == "withdraw":
            change.stored.status = "withdrawn"
        else:
            for name, value in change.values.items():
                setattr(change.stored, name, value)


def _open_interview_loads(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Action.assigned_to, func.count())
        .where(Action.kind == "return_home_interview", Action.status == "open", Action.assigned_to.is_not(None))
        .group_by(Action.assigned_to)
    )
    return {worker: count for worker, count in rows}


def _allocate(session: Session, distance: float | None, actions: Iterable[Any], roster, loads: dict[str, int],
              policy: Policy, actor: str) -> list[tuple[Any, str, str | None]]:
    """Who takes each of a child's open unassigned interviews: (action, worker, note), audited, loads counted.

    ``actions`` are the child's stored actions (ORM objects or rows); the caller writes the assignments.
    """
    interviews = sorted(
        (a for a in actions if a.kind == "return_home_interview"), key=lambda a: (a.trigger_at, a.key)
    )
    decisions = []
    previous = None
    for action in interviews:
        if action.assigned_to:
            previous = action.assigned_to
            continue
        if action.status != "open":
            continue
        worker = choose_worker(roster, loads, previous, policy.allocation.prefer_previous_worker)
        if worker is None:
            continue
        note = placement_note(distance, policy.allocation)
        decisions.append((action, worker, note))
        loads[worker] = loads.get(worker, 0) + 1
        audit(session, actor, "rhi_allocated", "action", action.key, worker=worker,
              same_as_last=worker == previous, distant=bool(note))
        previous = worker
    return decisions


def children_needing_review(session: Session, limit: int | None = None) -> list[int]:
    query = select(Child.id).where(Child.needs_review.is_(True)).order_by(Child.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))
