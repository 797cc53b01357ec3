"""The episode rules for many children at once, vectorised with pandas/numpy: the bulk path's evaluator.

``rules.evaluate_child`` is the definition and stays the only one the per-episode path uses. It is plain Python
per child, which is right for the tens of children a day brings but costs minutes for a region's ten years
(a first load, a policy change). This module computes the same triggers for whole columns of episodes: the
episode rules of the default policy's shape (``returned``; ``missing_for`` without a repeat, an end or an age
limit; ``repeat_episodes``; ``risk_graded``) for rules whose scope is about the episode and the child's age
only. A child that any other active rule could concern (an outcome-triggered rule whose event the child has,
a rule for UASC or care leavers, a long-term schedule) is handed to ``evaluate_child`` whole, so the result is
exactly what ``evaluate_child`` gives for every child; tests/test_bulk.py checks that on the bundled sample and on
random histories.

Time arithmetic follows ``rules.apply_offset``: hours are real elapsed time (UTC), days and months are London
calendar arithmetic (a local wall-clock shift, the first occurrence of an ambiguous autumn time, and a time in
the spring gap read at the offset before the change, as ``zoneinfo`` does with ``fold=0``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import LONDON
from missing_episodes.db.models import Child, Episode, Outcome, RiskAssessment
from missing_episodes.policy import (
    MissingForTrigger,
    Offset,
    OutcomeTrigger,
    Policy,
    RepeatEpisodesTrigger,
    ReturnedTrigger,
    RiskGradedTrigger,
    Rule,
)
from missing_episodes.rules import (
    ActionSpec,
    ChildFacts,
    EpisodeFacts,
    OutcomeFacts,
    apply_offset,
    close_with_outcomes,
    evaluate_child,
)

_TIME = "datetime64[us, UTC]"
SPEC_COLUMNS = ["child_id", "key", "rule_id", "episode_ref", "trigger_at", "due_at"]


@dataclass
class Facts:
    """Everything the rules read, as columns: one row per child, episode, risk grading and case event."""

    children: pd.DataFrame  # id, ref, legal_status, uasc, date_of_birth
    episodes: pd.DataFrame  # id, ref, incident_ref, child_id, kind, started_at, reported_at, found_at,
    #                         return_notified_at, other_authority
    risks: pd.DataFrame  # episode_id, assessed_at, risk_level, notification_id
    outcomes: pd.DataFrame  # child_id, event_id, event, recorded_at, incident_ref, by, rationale, notes, risk_level


def _frame(rows, columns: list[str], times: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    for name in times:
        frame[name] = pd.to_datetime(frame[name], utc=True).astype(_TIME)
    return frame


def load_facts(session: Session, child_ids: list[int] | None = None) -> Facts:
    """Read the facts of these children (all children when ``None``) in four set-based queries."""
    child_q = select(Child.id, Child.ref, Child.legal_status, Child.uasc, Child.date_of_birth)
    episode_q = select(
        Episode.id, Episode.ref, Episode.incident_ref, Episode.child_id, Episode.kind, Episode.started_at,
        Episode.reported_at, Episode.found_at, Episode.return_notified_at, Episode.other_authority,
    ).where(Episode.child_id.is_not(None))
    risk_q = select(
        RiskAssessment.episode_id, RiskAssessment.assessed_at, RiskAssessment.risk_level,
        RiskAssessment.notification_id,
    ).join(Episode, Episode.id == RiskAssessment.episode_id).where(Episode.child_id.is_not(None))
    outcome_q = select(
        Outcome.child_id, Outcome.event_id, Outcome.event, Outcome.recorded_at, Outcome.incident_ref, Outcome.by,
        Outcome.rationale, Outcome.notes, Outcome.risk_level,
    )
    if child_ids is not None:
        child_q = child_q.where(Child.id.in_(child_ids))
        episode_q = episode_q.where(Episode.child_id.in_(child_ids))
        risk_q = risk_q.where(Episode.child_id.in_(child_ids))
        outcome_q = outcome_q.where(Outcome.child_id.in_(child_ids))
    session.flush()  # as session.execute would; then Core rows, with no ORM result processing
    connection = session.connection()
    children = _frame(connection.execute(child_q), ["id", "ref", "legal_status", "uasc", "date_of_birth"])
    episodes = _frame(
        connection.execute(episode_q),
        ["id", "ref", "incident_ref", "child_id", "kind", "started_at", "reported_at", "found_at",
         "return_notified_at", "other_authority"],
        ("started_at", "reported_at", "found_at", "return_notified_at"),
    )
    risks = _frame(connection.execute(risk_q), ["episode_id", "assessed_at", "risk_level", "notification_id"],
                   ("assessed_at",))
    outcomes = _frame(
        connection.execute(outcome_q),
        ["child_id", "event_id", "event", "recorded_at", "incident_ref", "by", "rationale", "notes", "risk_level"],
        ("recorded_at",),
    )
    return Facts(children, episodes, risks, outcomes)


# --- time arithmetic on columns --------------------------------------------------------------------------------


def _local_shift(ts: pd.Series, months: int = 0, days: int = 0) -> pd.Series:
    """``clock.add_months`` / ``add_days`` for a column: shift the London wall clock, then back to UTC."""
    local = ts.dt.tz_convert(LONDON).dt.tz_localize(None)
    if months:
        local = local + pd.DateOffset(months=months)
    if days:
        local = local + pd.Timedelta(days=days)
    ambiguous = np.ones(len(local), dtype=bool)  # fold=0: the first (summer time) occurrence
    shifted = local.dt.tz_localize(LONDON, ambiguous=ambiguous, nonexistent="NaT")
    gap = shifted.isna() & local.notna()
    if gap.any():
        # zoneinfo reads a spring-gap time at the offset before the change: GMT, i.e. the wall clock as UTC.
        shifted = shifted.where(~gap, local.dt.tz_localize("UTC"))
    return shifted.dt.tz_convert("UTC").astype(_TIME)


def offset_series(ts: pd.Series, offset: Offset, times: int = 1) -> pd.Series:
    """``rules.apply_offset`` for a column of UTC instants (NaT stays NaT)."""
    result = ts.astype(_TIME)
    if offset.hours:
        result = result + pd.to_timedelta(offset.hours * times, unit="h")
    if offset.months:
        result = _local_shift(result, months=offset.months * times)
    if offset.days:
        result = _local_shift(result, days=offset.days * times)
    if offset.working_days:
        working = Offset(working_days=offset.working_days)
        result = result.map(lambda t: t if pd.isna(t) else apply_offset(t.to_pydatetime(), working, times))
        result = pd.to_datetime(result, utc=True).astype(_TIME)
    return result


def _age_under(dob: pd.Series, at: pd.Series, years: int = 18) -> pd.Series:
    """``age_on(dob, at) < years`` (London date of ``at``); True where the birth date is unknown."""
    local = at.dt.tz_convert(LONDON)
    born = pd.to_datetime(dob)
    age = local.dt.year - born.dt.year - (
        (local.dt.month < born.dt.month) | ((local.dt.month == born.dt.month) & (local.dt.day < born.dt.day))
    ).astype(int)
    return (age < years) | born.isna()


def _micros(ts: pd.Series) -> np.ndarray:
    """UTC instants as integer microseconds since the epoch (for sorting and counting)."""
    return ts.astype(_TIME).astype("int64").to_numpy()


def _count_le(child_c: np.ndarray, time_c: np.ndarray, child_q: np.ndarray, time_q: np.ndarray) -> np.ndarray:
    """For each query (child, t): how many counted (child, time) pairs of the same child have time <= t."""
    n_c = len(child_c)
    child = np.concatenate([child_c, child_q])
    time = np.concatenate([time_c, time_q])
    is_query = np.concatenate([np.zeros(n_c, dtype=np.int8), np.ones(len(child_q), dtype=np.int8)])
    order = np.lexsort((is_query, time, child))  # at equal times a counted start sorts before the query: <=
    counted = (is_query[order] == 0).astype(np.int64)
    cumulative = np.cumsum(counted)
    sorted_child = child[order]
    first = np.searchsorted(sorted_child, sorted_child, side="left")
    in_group = cumulative - (cumulative[first] - counted[first])
    result = np.empty(len(child_q), dtype=np.int64)
    queries = order >= n_c
    result[order[queries] - n_c] = in_group[queries]
    return result


# --- which rules and children ----------------------------------------------------------------------------------


def vectorised(rule: Rule) -> bool:
    """Rules this module evaluates itself: episode triggers scoped by episode kind and age only."""
    scope = rule.applies_to
    if scope.legal_status or scope.uasc is not None or scope.uasc_or_care_leaver or rule.until_age is not None:
        return False
    if not scope.episode_kinds:
        return False
    trigger = rule.trigger
    if isinstance(trigger, MissingForTrigger):
        return trigger.every is None and trigger.until is None
    return isinstance(trigger, ReturnedTrigger | RepeatEpisodesTrigger | RiskGradedTrigger)


def fallback_children(policy: Policy, facts: Facts) -> set[int]:
    """Children some active rule outside the vectorised set could concern: they go to ``evaluate_child``."""
    children = facts.children
    concerned = pd.Series(False, index=children.index)
    events = facts.outcomes.groupby("child_id")["event"].agg(set) if len(facts.outcomes) else pd.Series(dtype=object)
    for rule in policy.active_rules:
        if vectorised(rule):
            continue
        scope = rule.applies_to
        matches = pd.Series(True, index=children.index)
        if scope.legal_status:
            matches &= children["legal_status"].isin(scope.legal_status)
        if scope.uasc is not None:
            matches &= children["uasc"].astype(bool) == scope.uasc
        if scope.uasc_or_care_leaver:
            matches &= children["uasc"].astype(bool) | (children["legal_status"] == "care_leaver")
        if isinstance(rule.trigger, OutcomeTrigger):
            event = rule.trigger.event
            has = children["id"].map(lambda cid, e=event: e in events.get(cid, ()))
            matches &= has.astype(bool)
        concerned |= matches
    return set(children.loc[concerned, "id"].tolist())


# --- the vectorised rules --------------------------------------------------------------------------------------


def evaluate_frame(policy: Policy, facts: Facts, skip: set[int] | None = None) -> pd.DataFrame:
    """The triggers of the vectorised rules for every child not in ``skip``: one row per action, open.

    Columns: child_id, key, rule_id, episode_ref, trigger_at, due_at (UTC). Closing by case events is not done
    here (see ``evaluate_bulk``).
    """
    episodes = facts.episodes
    children = facts.children.set_index("id")
    if skip:
        episodes = episodes[~episodes["child_id"].isin(list(skip))]
    episodes = episodes[episodes["started_at"].notna() & episodes["child_id"].isin(children.index)]
    episodes = episodes.reset_index(drop=True)
    dob = episodes["child_id"].map(children["date_of_birth"])
    under_18_at_start = _age_under(dob, episodes["started_at"])
    ended = episodes["found_at"].fillna(episodes["return_notified_at"])
    risks = facts.risks[facts.risks["episode_id"].isin(episodes["id"])]
    last_high = pd.Series(False, index=episodes.index)
    if len(risks):
        latest = risks.sort_values(["episode_id", "assessed_at", "notification_id"]).groupby("episode_id").tail(1)
        high_ids = set(latest.loc[latest["risk_level"] == "high", "episode_id"].tolist())
        last_high = episodes["id"].isin(list(high_ids))
    parts: list[pd.DataFrame] = []
    in_scope: dict[tuple, tuple[pd.Series, pd.DataFrame, pd.Series]] = {}  # rules mostly share one scope
    for rule in policy.active_rules:
        if not vectorised(rule):
            continue
        scope = rule.applies_to
        key = (tuple(scope.episode_kinds), scope.under_18)
        if key not in in_scope:
            applies = ~episodes["other_authority"].astype(bool) & episodes["kind"].isin(scope.episode_kinds)
            if scope.under_18 is not None:
                applies &= under_18_at_start if scope.under_18 else (~under_18_at_start | dob.isna())
            in_scope[key] = applies, episodes[applies], last_high[applies]
        applies, chosen, high = in_scope[key]
        trigger = rule.trigger
        if isinstance(trigger, ReturnedTrigger):
            keep = chosen["return_notified_at"].notna()
            at = chosen.loc[keep, "return_notified_at"]
            chosen, high = chosen[keep], pd.Series(False, index=at.index)
        elif isinstance(trigger, MissingForTrigger):
            at = offset_series(chosen["started_at"], trigger.after)
            end = ended[applies]
            keep = end.isna() | (end > at)
            chosen, at, high = chosen[keep], at[keep], high[keep]
        elif isinstance(trigger, RiskGradedTrigger):
            graded = risks[risks["risk_level"] == trigger.level].groupby("episode_id")["assessed_at"].min()
            if len(graded):
                at = pd.to_datetime(chosen["id"].map(graded), utc=True).astype(_TIME)
            else:
                at = pd.Series(pd.NaT, index=chosen.index, dtype=_TIME)
            keep = at.notna()
            chosen, at, high = chosen[keep], at[keep], pd.Series(True, index=at[keep].index)
        else:
            assert isinstance(trigger, RepeatEpisodesTrigger)
            counted = episodes[
                episodes["kind"].isin(trigger.count_kinds) & ~episodes["other_authority"].astype(bool)
            ]
            chosen = chosen[chosen["kind"].isin(trigger.count_kinds)]
            window = trigger.window
            start = chosen["started_at"]
            window_start = offset_series(start, Offset(hours=-window.hours, days=-window.days, months=-window.months))
            child_c = counted["child_id"].to_numpy(np.int64)
            time_c = _micros(counted["started_at"])
            child_q = chosen["child_id"].to_numpy(np.int64)
            upto = _count_le(child_c, time_c, child_q, _micros(start))
            before = _count_le(child_c, time_c, child_q, _micros(window_start))
            keep = (upto - before) == trigger.count
            chosen = chosen[keep]
            at = chosen["reported_at"].fillna(chosen["started_at"]).astype(_TIME)
            high = pd.Series(False, index=chosen.index)
        due = offset_series(at, rule.due)
        if rule.due_if_high_risk is not None and bool(high.any()):
            due = due.where(~high.astype(bool), offset_series(at, rule.due_if_high_risk))
        parts.append(
            pd.DataFrame(
                {
                    "child_id": chosen["child_id"].to_numpy(),
                    "key": (chosen["ref"] + f":{rule.id}").to_numpy(),
                    "rule_id": rule.id,
                    "episode_ref": chosen["ref"].to_numpy(),
                    "trigger_at": at.astype(_TIME).array,  # .to_numpy() would box every instant as an object
                    "due_at": due.astype(_TIME).array,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=SPEC_COLUMNS)
    return pd.concat(parts, ignore_index=True)


# --- whole children, as evaluate_child gives them ----------------------------------------------------------------


def _py(value) -> datetime | None:
    return None if value is None or pd.isna(value) else value.to_pydatetime()


def _none(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def episode_facts(facts: Facts) -> dict[int, list[EpisodeFacts]]:
    """The episodes of each child as ``rules.EpisodeFacts``, risk history in the stored order."""
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    ordered = facts.risks.sort_values(["assessed_at", "notification_id"], kind="stable")
    for episode_id, at, level in zip(ordered["episode_id"], ordered["assessed_at"], ordered["risk_level"],
                                     strict=True):
        history[int(episode_id)].append((at.to_pydatetime(), level))
    by_child: dict[int, list[EpisodeFacts]] = defaultdict(list)
    e = facts.episodes
    for row in zip(e["id"], e["ref"], e["incident_ref"], e["child_id"], e["kind"], e["started_at"],
                   e["reported_at"], e["found_at"], e["return_notified_at"], e["other_authority"], strict=True):
        eid, ref, incident, child_id, kind, started, reported, found, notified, other = row
        by_child[int(child_id)].append(
            EpisodeFacts(ref, incident, _none(kind), _py(started), _py(reported), _py(found), _py(notified),
                         tuple(history.get(int(eid), ())), bool(other))
        )
    return by_child


def outcome_facts(facts: Facts) -> dict[int, list[OutcomeFacts]]:
    by_child: dict[int, list[OutcomeFacts]] = defaultdict(list)
    o = facts.outcomes
    for row in zip(o["child_id"], o["event_id"], o["event"], o["recorded_at"], o["incident_ref"], o["by"],
                   o["rationale"], o["notes"], o["risk_level"], strict=True):
        child_id, event_id, event, at, incident, by, rationale, notes, risk = row
        by_child[int(child_id)].append(
            OutcomeFacts(event_id, event, at.to_pydatetime(), _none(incident), _none(by), _none(rationale),
                         _none(notes), _none(risk))
        )
    return by_child


def _of_children(facts: Facts, child_ids: set[int]) -> Facts:
    """The episodes and risk gradings of these children only (``episode_facts`` reads nothing else)."""
    episodes = facts.episodes[facts.episodes["child_id"].isin(list(child_ids))]
    risks = facts.risks[facts.risks["episode_id"].isin(episodes["id"])]
    return Facts(facts.children, episodes, risks, facts.outcomes)


def evaluate_bulk(policy: Policy, facts: Facts, horizon: datetime) -> dict[int, list[ActionSpec]]:
    """Every child's actions, equal to ``evaluate_child`` for each: vectorised where it can, per child where not."""
    skip = fallback_children(policy, facts)
    frame = evaluate_frame(policy, facts, skip)
    rules = {rule.id: rule for rule in policy.rules}
    outcomes = outcome_facts(facts)
    # Episodes as objects only where read: children evaluated whole, and children with case events to close by.
    episodes = episode_facts(_of_children(facts, skip | outcomes.keys()))
    result: dict[int, list[ActionSpec]] = {}
    specs: dict[int, list[ActionSpec]] = defaultdict(list)
    for child_id, key, rule_id, episode_ref, trigger_at, due_at in zip(
        frame["child_id"], frame["key"], frame["rule_id"], frame["episode_ref"], frame["trigger_at"],
        frame["due_at"], strict=True,
    ):
        rule = rules[rule_id]
        specs[int(child_id)].append(
            ActionSpec(key=key, kind=rule.action, rule_id=rule_id, policy_version=policy.version,
                       episode_ref=episode_ref, trigger_at=trigger_at.to_pydatetime(),
                       due_at=due_at.to_pydatetime(), actor=rule.actor, recipients=tuple(rule.recipients))
        )
    c = facts.children
    for child_id, ref, legal_status, uasc, dob in zip(c["id"], c["ref"], c["legal_status"], c["uasc"],
                                                      c["date_of_birth"], strict=True):
        child_id = int(child_id)
        if child_id in skip:
            child = ChildFacts(ref, legal_status, bool(uasc), None if pd.isna(dob) else dob)
            result[child_id] = evaluate_child(policy, child, episodes.get(child_id, []),
                                              outcomes.get(child_id, []), horizon)
        else:
            result[child_id] = close_with_outcomes(policy, specs.get(child_id, []), episodes.get(child_id, []),
                                                   outcomes.get(child_id, []))
    return result
