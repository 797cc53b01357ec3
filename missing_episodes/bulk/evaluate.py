"""The bulk evaluator: every child's actions, equal to ``rules.evaluate_child`` for each.

Column rules are evaluated for whole columns (``frame``), for every child; children some other rule could
concern (``scope.fallback_children``) have the other rules, and those that read other rules' actions, evaluated
per child; every child's actions are then closed by its case events with the same ``rules.close_with_outcomes``.
An action no case event of its child could close, of a child not evaluated per child, is final as the columns
give it (``BulkActions.settled``): it stays a frame row, so a first load writes it without an ``ActionSpec``.
tests/domain/test_bulk.py checks the equality on the bundled sample and on random histories built to sit on the
clock's edges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from missing_episodes.bulk.facts import Facts, child_facts, episode_facts, outcome_facts
from missing_episodes.bulk.frame import evaluate_frame
from missing_episodes.bulk.scope import fallback_children, on_columns
from missing_episodes.facts import ActionSpec
from missing_episodes.policy import Policy, Rule
from missing_episodes.rules import Closers, close_with_outcomes, evaluate_child_with


@dataclass
class BulkActions:
    """Every child's actions, in two parts.

    ``specs``: by child id (every child, an empty list for one with none), the actions closed by case events or
    evaluated per child, as ``evaluate_child`` gives them. ``settled``: rows of the column evaluator's frame
    (``frame.SPEC_COLUMNS``) that are final as they stand (open: no case event of their child could close them,
    and their child is not evaluated per child). ``all_specs`` puts the two together.
    """

    specs: dict[int, list[ActionSpec]]
    settled: pd.DataFrame

    def all_specs(self, policy: Policy) -> dict[int, list[ActionSpec]]:
        """Every child's actions as ``evaluate_child`` gives them: in (trigger time, key) order, as
        ``close_with_outcomes`` leaves them."""
        result = dict(self.specs)
        for child_id, settled in as_specs(policy, self.settled).items():
            result[child_id] = sorted([*result.get(child_id, []), *settled], key=lambda s: (s.trigger_at, s.key))
        return result


def evaluate_bulk(policy: Policy, facts: Facts, horizon: datetime) -> dict[int, list[ActionSpec]]:
    """Every child's actions, equal to ``evaluate_child`` for each: on columns where it can, per child where not."""
    return evaluate_columns(policy, facts, horizon).all_specs(policy)


def evaluate_columns(policy: Policy, facts: Facts, horizon: datetime) -> BulkActions:
    """Every child's actions (``BulkActions``): on columns where it can, per child where not.

    The column rules are evaluated on columns for every child. A child some other rule could concern
    (``fallback_children``) has those other rules run per child (``rules.evaluate_child_with``), its column
    rules' actions given, so its actions are folded and closed whole, as ``evaluate_child`` does; the rest are
    closed by their case events. Running the column rules per child too (as this did before) was most of a first
    load's time: every child with an interview outcome is in the fallback.
    """
    skip = fallback_children(policy, facts)
    frame = evaluate_frame(policy, facts)
    settled = _settled(policy, facts, frame, skip)
    outcomes = outcome_facts(facts)
    # Episodes as objects only where read: children evaluated per child, and children with case events to close by.
    episodes = episode_facts(facts.of_children(skip | outcomes.keys()))
    specs = as_specs(policy, frame[~settled])
    # A child evaluated per child runs the rules that read other rules' actions itself: on columns they read the
    # column rules' actions only, and such a child may have actions of the others too.
    column_rules = [rule.id for rule in policy.active_rules
                    if on_columns(rule) and not rule.trigger.reads_other_rules]
    closers = Closers.of(policy)
    result: dict[int, list[ActionSpec]] = {}
    for child_id, child in child_facts(facts).items():
        if child_id in skip:
            given: dict[str, list[ActionSpec]] = {rule_id: [] for rule_id in column_rules}
            for spec in specs.get(child_id, []):
                if spec.rule_id in given:
                    given[spec.rule_id].append(spec)
            result[child_id] = evaluate_child_with(policy, child, episodes.get(child_id, []),
                                                   outcomes.get(child_id, []), horizon, given, closers)
        else:
            result[child_id] = close_with_outcomes(policy, specs.get(child_id, []), episodes.get(child_id, []),
                                                   outcomes.get(child_id, []), closers)
    return BulkActions(result, frame[settled].reset_index(drop=True))


def _settled(policy: Policy, facts: Facts, frame: pd.DataFrame, skip: set[int]) -> pd.Series:
    """The frame's rows final as they stand: ``close_with_outcomes`` leaves an action alone unless its child has
    a case event its rule is done, declined or not required by (the rule's own events: a column action folds no
    other rule), and a child evaluated per child has its actions made again there. A key given twice is left to
    ``close_with_outcomes``, which keeps one."""
    closers = pd.DataFrame([(rule.id, event) for rule in policy.rules for event in rule.closing_events],
                           columns=["rule_id", "event"])
    events = facts.outcomes[["child_id", "event"]].drop_duplicates()
    closable = pd.MultiIndex.from_frame(events.merge(closers, on="event")[["child_id", "rule_id"]])
    return pd.Series(
        ~pd.MultiIndex.from_arrays([frame["child_id"], frame["rule_id"]]).isin(closable)
        & ~frame["child_id"].isin(list(skip)).to_numpy()
        & ~frame["key"].duplicated(keep=False).to_numpy(),
        index=frame.index,
    )


def as_specs(policy: Policy, frame: pd.DataFrame) -> dict[int, list[ActionSpec]]:
    """The column evaluator's rows as open ``ActionSpec``s by child, in the frame's order."""
    specs: dict[int, list[ActionSpec]] = defaultdict(list)
    rules = {rule.id: rule for rule in policy.rules}
    for child_id, key, rule_id, episode_ref, trigger_at, due_at in frame_rows(frame):
        specs[child_id].append(column_spec(policy, rules[rule_id], key, episode_ref, trigger_at, due_at))
    return specs


def frame_rows(frame: pd.DataFrame) -> Iterator[tuple[int, str, str, str, datetime, datetime]]:
    """The column evaluator's rows as Python values: (child id, key, rule id, episode ref, trigger, due).

    Instants become datetimes a column at a time (one Timestamp at a time was seconds at 50,000 episodes).
    """
    if not len(frame):
        return iter(())
    triggers, dues = frame["trigger_at"].dt.to_pydatetime(), frame["due_at"].dt.to_pydatetime()
    return zip(frame["child_id"].tolist(), frame["key"], frame["rule_id"], frame["episode_ref"], triggers, dues,
               strict=True)


def column_spec(policy: Policy, rule: Rule, key: str, episode_ref: str | None, trigger_at: datetime | None,
                due_at: datetime | None) -> ActionSpec:
    """An open action of a column rule: what the rule gives it and what its frame row does."""
    return ActionSpec(key=key, kind=rule.action, rule_id=rule.id, policy_version=policy.version,
                      episode_ref=episode_ref, trigger_at=trigger_at, due_at=due_at, actor=rule.actor,  # type: ignore[arg-type]
                      recipients=tuple(rule.recipients))
