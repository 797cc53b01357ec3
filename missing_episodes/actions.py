"""Running the rules for children and keeping the stored actions equal to what the rules say.

``recompute_children`` is the one place actions are written, whether from the per-episode subflow (a few
children) or the bulk path (every child, after a first load or a policy change). It loads the facts in a few
set-based queries, evaluates each child with ``rules.evaluate_child``, and applies the difference by key:
new actions are inserted, changed ones updated, and ones the rules no longer ask for are deleted if they never
fired or marked ``withdrawn`` (with an audit event) if they had. Running it twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missing_episodes import bulk
from missing_episodes.allocation import choose_worker, load_roster, placement_note
from missing_episodes.db.models import Action, Child, Episode, Outcome, RiskAssessment
from missing_episodes.policy import Policy
from missing_episodes.rules import ActionSpec, ChildFacts, EpisodeFacts, OutcomeFacts, evaluate_child
from missing_episodes.store import audit, lock_keys

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
        facts = load_facts(session, group)
        stored: dict[int, dict[str, Action]] = defaultdict(dict)
        for action in session.scalars(select(Action).where(Action.child_id.in_(group))):
            stored[action.child_id][action.key] = action
        evaluated = bulk.evaluate_bulk(policy, bulk.load_facts(session, group), horizon) if vectorised else {}
        for child_id in group:
            if child_id not in facts:
                continue
            child, episode_rows, episodes, outcomes = facts[child_id]
            if vectorised:
                specs = evaluated.get(child_id, [])
            else:
                specs = evaluate_child(policy, child_facts(child), episodes, outcomes, horizon)
            episode_ids = {e.ref: e.id for e in episode_rows}
            _apply(session, child, specs, stored[child_id], episode_ids, now, actor, audit_each, summary)
            if roster:
                summary.allocated += _allocate(session, child, stored[child_id], roster, loads, policy, actor)
            child.needs_review = False
            summary.children += 1
        session.flush()
    if not audit_each and (summary.created or summary.updated or summary.withdrawn or summary.removed):
        audit(session, actor, "actions_recomputed", "policy", policy.version, **summary.as_dict())
    return summary


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


def _apply(session: Session, child: Child, specs: list[ActionSpec], stored: dict[str, Action],
           episode_ids: dict[str, int], now: datetime, actor: str, audit_each: bool,
           summary: RecomputeSummary) -> None:
    wanted = {spec.key: spec for spec in specs}
    for key, spec in wanted.items():
        values = _spec_values(spec)
        action = stored.get(key)
        if action is None:
            action = Action(key=key, child_id=child.id, episode_id=episode_ids.get(spec.episode_ref or ""),
                            **values)
            session.add(action)
            stored[key] = action
            summary.created += 1
            if audit_each:
                audit(session, actor, "action_created", "action", key, rule=spec.rule_id, due_at=spec.due_at,
                      policy_version=spec.policy_version)
            continue
        changed = {name: value for name, value in values.items() if getattr(action, name) != value}
        if not changed:
            continue
        for name, value in changed.items():
            setattr(action, name, value)
        summary.updated += 1
        if audit_each:
            audit(session, actor, "action_closed" if "status" in changed else "action_updated", "action", key,
                  changed=sorted(changed), status=action.status, policy_version=spec.policy_version)
    for key, action in list(stored.items()):
        if key in wanted or action.status == "withdrawn":
            continue
        if action.trigger_at > now and action.status == "open":
            # Never fired (the child was found before the 24-hour mark, say): nothing to keep.
            session.delete(action)
            del stored[key]
            summary.removed += 1
            if audit_each:
                audit(session, actor, "action_removed", "action", key, reason="trigger no longer holds")
            continue
        action.status = "withdrawn"
        summary.withdrawn += 1
        audit(session, actor, "action_withdrawn", "action", key,
              reason="the facts or the policy no longer ask for it", rule=action.rule_id)


def _open_interview_loads(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Action.assigned_to, func.count())
        .where(Action.kind == "return_home_interview", Action.status == "open", Action.assigned_to.is_not(None))
        .group_by(Action.assigned_to)
    )
    return {worker: count for worker, count in rows}


def _allocate(session: Session, child: Child, stored: dict[str, Action], roster, loads: dict[str, int],
              policy: Policy, actor: str) -> int:
    interviews = sorted(
        (a for a in stored.values() if a.kind == "return_home_interview"), key=lambda a: (a.trigger_at, a.key)
    )
    allocated = 0
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
        action.assigned_to = worker
        action.assignment_note = placement_note(child.placement_distance_miles, policy.allocation)
        loads[worker] = loads.get(worker, 0) + 1
        allocated += 1
        audit(session, actor, "rhi_allocated", "action", action.key, worker=worker,
              same_as_last=worker == previous, distant=bool(action.assignment_note))
        previous = worker
    return allocated


def children_needing_review(session: Session, limit: int | None = None) -> list[int]:
    query = select(Child.id).where(Child.needs_review.is_(True)).order_by(Child.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))
