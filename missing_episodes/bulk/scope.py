"""Which rules the column evaluator takes, and which children must go to the per-child evaluator whole.

A rule is evaluated on columns when its trigger vectorises (``TriggerType.vectorises``) and its scope is about
the episode, the child's age and legal status only. Any child another active rule could concern is evaluated per
child, whole but for the column rules' actions (given; a rule that reads other rules' actions is run again for
it), so the bulk result is exactly ``rules.evaluate_child``'s for every child. Folding one duty asked by
two rules (``same_duty_as``) is done per child only: a column rule whose named rule is on columns too sends the
children in its scope to the per-child evaluator.
"""

from __future__ import annotations

import pandas as pd

from missing_episodes.bulk.facts import Facts
from missing_episodes.policy import Policy, Rule


def on_columns(rule: Rule) -> bool:
    """Rules the column evaluator takes: a vectorising trigger, scoped by episode kind, age and legal status only."""
    scope = rule.applies_to
    if (scope.uasc is not None or scope.care_leaver_clock_from or rule.until_age is not None
            or scope.has_immigration_solicitor is not None):
        return False
    if not scope.episode_kinds:
        return False
    return rule.trigger.vectorises()


def fallback_children(policy: Policy, facts: Facts) -> set[int]:
    """Children some active rule outside the column set could concern: they go to ``evaluate_child``."""
    children = facts.children
    concerned = pd.Series(False, index=children.index)
    events = facts.outcomes.groupby("child_id")["event"].agg(set) if len(facts.outcomes) else pd.Series(dtype=object)
    columns = {rule.id for rule in policy.active_rules if on_columns(rule)}
    for rule in policy.active_rules:
        if rule.id in columns and rule.same_duty_as not in columns:
            continue
        scope = rule.applies_to
        matches = pd.Series(True, index=children.index)
        if scope.legal_status:
            matches &= children["legal_status"].isin(scope.legal_status)
        if scope.uasc is not None:
            matches &= children["uasc"].astype(bool) == scope.uasc
        if scope.has_immigration_solicitor is not None:
            matches &= children["has_immigration_solicitor"].astype(bool) == scope.has_immigration_solicitor
        matches &= rule.trigger.could_concern(children, events)
        concerned |= matches
    return set(children.loc[concerned, "id"].tolist())
