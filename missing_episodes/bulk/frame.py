"""The column evaluator: every column rule's actions for many children at once, as one frame.

Per rule, the episodes in its scope are picked here (episode kind, other authority, age at the start, the child's
legal status; rules mostly share one scope, so each is computed once), the rule's trigger says which fire and when
(``fire_columns``), and the due times follow the rule. Time arithmetic is ``offsets.offset_series``, the column
twin of ``apply_offset``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from missing_episodes.bulk.facts import Facts
from missing_episodes.bulk.scope import on_columns
from missing_episodes.clock import COLUMN_TIME, under_age_column
from missing_episodes.offsets import offset_series
from missing_episodes.policy import Policy, Rule
from missing_episodes.triggers.base import EpisodeColumns, Fired, InScope, age_in_scope

SPEC_COLUMNS = ["child_id", "key", "rule_id", "episode_ref", "trigger_at", "due_at"]


def evaluate_frame(policy: Policy, facts: Facts) -> pd.DataFrame:
    """The triggers of the column rules for every child: one row per action, open.

    Columns: child_id, key, rule_id, episode_ref, trigger_at, due_at (UTC). Closing by case events is not done
    here (see ``bulk.evaluate.evaluate_bulk``).
    """
    episodes = facts.episodes
    children = facts.children.set_index("id")
    episodes = episodes[episodes["started_at"].notna() & episodes["child_id"].isin(children.index)]
    episodes = episodes.reset_index(drop=True)
    dob = episodes["child_id"].map(children["date_of_birth"])
    legal_status = episodes["child_id"].map(children["legal_status"])
    under_18_at_start = under_age_column(dob, episodes["started_at"])
    risks = facts.risks[facts.risks["episode_id"].isin(episodes["id"])]
    last_high = pd.Series(False, index=episodes.index)
    if len(risks):
        latest = risks.sort_values(["episode_id", "assessed_at", "notification_id"]).groupby("episode_id").tail(1)
        high_ids = set(latest.loc[latest["risk_level"] == "high", "episode_id"].tolist())
        last_high = episodes["id"].isin(list(high_ids))
    columns = EpisodeColumns(episodes, episodes["found_at"].fillna(episodes["return_notified_at"]), risks, last_high,
                             dob, facts.outcomes, children["ref"])
    in_scope: dict[tuple, InScope] = {}  # rules mostly share one scope
    # Rules that read other rules' actions go last (``TriggerType.reads_other_rules``), as in a child's run; the
    # parts are put back in rule order, as the per-child evaluator's specs are.
    rules = [rule for rule in policy.active_rules if on_columns(rule)]
    for rule in sorted(rules, key=lambda rule: rule.trigger.reads_other_rules):
        scope = rule.applies_to
        key = (tuple(scope.episode_kinds), scope.under_18, tuple(scope.legal_status))
        if key not in in_scope:
            unaged = ~episodes["other_authority"].astype(bool) & episodes["kind"].isin(scope.episode_kinds)
            if scope.legal_status:
                unaged &= legal_status.isin(scope.legal_status)
            applies = unaged
            if scope.under_18 is not None:
                applies = unaged & age_in_scope(scope.under_18, under_18_at_start, dob.isna())
            in_scope[key] = InScope(applies, episodes[applies], last_high[applies], unaged, scope.under_18)
        columns.fired.append((rule, _actions(rule, rule.trigger.fire_columns(in_scope[key], columns))))
    if not columns.fired:
        return pd.DataFrame(columns=SPEC_COLUMNS)
    position = {rule.id: number for number, rule in enumerate(rules)}
    return pd.concat([part for _rule, part in sorted(columns.fired, key=lambda item: position[item[0].id])],
                     ignore_index=True)


def _actions(rule: Rule, fired: Fired) -> pd.DataFrame:
    """The fired episodes as action rows: key, trigger and due time (the shorter one at high risk)."""
    at, chosen, high = fired.at, fired.episodes, fired.high
    due = offset_series(at, rule.due)
    if rule.due_if_high_risk is not None and bool(high.any()):
        due = due.where(~high.astype(bool), offset_series(at, rule.due_if_high_risk))
    return pd.DataFrame(
        {
            "child_id": chosen["child_id"].to_numpy(),
            "key": _keys(rule, fired),
            "rule_id": rule.id,
            "episode_ref": chosen["ref"].to_numpy(),
            "trigger_at": at.astype(COLUMN_TIME).array,  # .to_numpy() would box every instant as an object
            "due_at": due.astype(COLUMN_TIME).array,
        }
    )


def _keys(rule: Rule, fired: Fired) -> np.ndarray:
    """``{head}:{rule id}{tail}`` (``Fired``): the episode's ref and the rule's id unless the trigger says."""
    head = fired.episodes["ref"] if fired.key_head is None else fired.key_head
    keys = head.to_numpy(dtype=object) + f":{rule.id}"
    return keys if fired.key_tail is None else keys + fired.key_tail.to_numpy(dtype=object)
