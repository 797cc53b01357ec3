"""The difference between what the rules ask for and what is stored, by action key, and its audit trail.

One diff for both writers: the per-child path compares ORM objects, the bulk path Core rows; both are read by
attribute, so ``changes`` does not care which. ``record`` counts each change and writes its audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from missing_episodes.actions.summary import RecomputeSummary
from missing_episodes.facts import ActionSpec
from missing_episodes.store import audit

COMPARED = (
    "kind", "rule_id", "policy_version", "trigger_at", "due_at", "status", "done_at", "done_by", "evidence",
    "detail", "actor", "recipients", "also_rule_ids",
)


def spec_values(spec: ActionSpec) -> dict[str, object]:
    """The stored columns of an action as the rules ask for it (``COMPARED``, in that order)."""
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
        "also_rule_ids": ", ".join(spec.also_rule_ids) or None,
    }


@dataclass(frozen=True)
class Change:
    """One difference between what the rules ask for and what is stored, for one action key."""

    op: str  # create, update, close (an update that changes the status), remove or withdraw
    key: str
    spec: ActionSpec | None  # what the rules ask for (create, update, close)
    values: dict[str, object]  # all the spec's values (create) or only the changed ones (update, close)
    stored: Any  # the stored action, an ORM object or a row (update, close, remove, withdraw)


def changes(specs: list[ActionSpec], stored: Mapping[str, Any], now: datetime) -> list[Change]:
    """What to change so the stored actions (ORM objects or rows, by key) equal ``specs``; in a stable order.

    Actions the rules no longer ask for are removed if they never fired (still open, trigger in the future)
    and withdrawn otherwise: a person may have seen them.
    """
    wanted = {spec.key: spec for spec in specs}
    found = []
    for key, spec in wanted.items():
        values = spec_values(spec)
        action = stored.get(key)
        if action is None:
            found.append(Change("create", key, spec, values, None))
            continue
        changed = {name: value for name, value in values.items() if getattr(action, name) != value}
        if changed:
            found.append(Change("close" if "status" in changed else "update", key, spec, changed, action))
    for key, action in stored.items():
        if key in wanted or action.status == "withdrawn":
            continue
        never_fired = action.trigger_at > now and action.status == "open"
        found.append(Change("remove" if never_fired else "withdraw", key, None, {}, action))
    return found


def record(session: Session, change: Change, actor: str, audit_each: bool, summary: RecomputeSummary) -> None:
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
