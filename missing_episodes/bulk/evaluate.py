"""The bulk evaluator: every child's actions, equal to ``rules.evaluate_child`` for each.

Column rules are evaluated for whole columns (``frame``), for every child; children some other rule could
concern (``scope.fallback_children``) have the other rules, and those that read other rules' actions, evaluated
per child; every child's actions are then closed by its case events with the same ``rules.close_with_outcomes``.
tests/domain/test_bulk.py checks the equality on the bundled sample and on random histories built to sit on the
clock's edges.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from missing_episodes.bulk.facts import Facts, child_facts, episode_facts, outcome_facts
from missing_episodes.bulk.frame import evaluate_frame
from missing_episodes.bulk.scope import fallback_children, on_columns
from missing_episodes.facts import ActionSpec
from missing_episodes.policy import Policy
from missing_episodes.rules import close_with_outcomes, evaluate_child_with


def evaluate_bulk(policy: Policy, facts: Facts, horizon: datetime) -> dict[int, list[ActionSpec]]:
    """Every child's actions, equal to ``evaluate_child`` for each: on columns where it can, per child where not.

    The column rules are evaluated on columns for every child. A child some other rule could concern
    (``fallback_children``) has those other rules run per child (``rules.evaluate_child_with``), its column
    rules' actions given, so its actions are folded and closed whole, as ``evaluate_child`` does; the rest are
    closed by their case events. Running the column rules per child too (as this did before) was most of a first
    load's time: every child with an interview outcome is in the fallback.
    """
    skip = fallback_children(policy, facts)
    frame = evaluate_frame(policy, facts)
    rules = {rule.id: rule for rule in policy.rules}
    outcomes = outcome_facts(facts)
    # Episodes as objects only where read: children evaluated per child, and children with case events to close by.
    episodes = episode_facts(facts.of_children(skip | outcomes.keys()))
    specs: dict[int, list[ActionSpec]] = defaultdict(list)
    if len(frame):  # instants as datetimes a column at a time (one Timestamp at a time was seconds at 50,000)
        triggers, dues = frame["trigger_at"].dt.to_pydatetime(), frame["due_at"].dt.to_pydatetime()
        for child_id, key, rule_id, episode_ref, trigger_at, due_at in zip(
            frame["child_id"].tolist(), frame["key"], frame["rule_id"], frame["episode_ref"], triggers, dues,
            strict=True,
        ):
            rule = rules[rule_id]
            specs[child_id].append(
                ActionSpec(key=key, kind=rule.action, rule_id=rule_id, policy_version=policy.version,
                           episode_ref=episode_ref, trigger_at=trigger_at, due_at=due_at, actor=rule.actor,
                           recipients=tuple(rule.recipients))
            )
    # A child evaluated per child runs the rules that read other rules' actions itself: on columns they read the
    # column rules' actions only, and such a child may have actions of the others too.
    column_rules = [rule.id for rule in policy.active_rules
                    if on_columns(rule) and not rule.trigger.reads_other_rules]
    result: dict[int, list[ActionSpec]] = {}
    for child_id, child in child_facts(facts).items():
        if child_id in skip:
            given: dict[str, list[ActionSpec]] = {rule_id: [] for rule_id in column_rules}
            for spec in specs.get(child_id, []):
                if spec.rule_id in given:
                    given[spec.rule_id].append(spec)
            result[child_id] = evaluate_child_with(policy, child, episodes.get(child_id, []),
                                                   outcomes.get(child_id, []), horizon, given)
        else:
            result[child_id] = close_with_outcomes(policy, specs.get(child_id, []), episodes.get(child_id, []),
                                                   outcomes.get(child_id, []))
    return result
