"""The statutory clocks: from a child's episodes and case events, every action due, when, and whether it was done.

Pure functions over plain facts (no database, no Prefect), so each rule is tested directly from the sentence of
the seed it implements, and the per-episode subflow and the bulk path call the very same code.

The unit of evaluation is the child: "four missing episodes in 28 days" and "an RHI declined without naming the
incident" can only be judged against the child's whole history. Each action has a deterministic key
(``EP-…:rule`` or ``CH-…:rule:event``, with ``#n`` for the n-th occurrence of a repeating one), so evaluating
twice yields the same keys and storing them twice changes nothing.

What each trigger type means is its own class (``missing_episodes.triggers``): this module runs every active rule
through its trigger for one child, then closes the actions with the case events recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from missing_episodes.facts import ActionSpec, ChildFacts, EpisodeFacts, OutcomeFacts
from missing_episodes.offsets import apply_offset
from missing_episodes.policy import Policy, Rule
from missing_episodes.triggers.base import ChildRun, action_episode, action_subject, child_in_scope

__all__ = [
    "ActionSpec", "ChildFacts", "Closers", "EpisodeFacts", "OutcomeFacts", "apply_offset", "close_with_outcomes",
    "evaluate_child", "evaluate_child_with",
]


def evaluate_child(
    policy: Policy,
    child: ChildFacts,
    episodes: list[EpisodeFacts],
    outcomes: list[OutcomeFacts],
    horizon: datetime,
) -> list[ActionSpec]:
    """Every action the policy asks for this child, closed by the outcomes recorded, as keyed specs.

    ``horizon`` bounds repeating schedules (a weekly review while a child stays missing): occurrences are made
    up to it, and the daily review flow moves it forward. One-off triggers are made whenever their condition
    holds on the facts known, even in the future (a 24-hour meeting for a child missing 3 hours); the worklist
    shows an action only once its trigger time has passed.
    """
    return evaluate_child_with(policy, child, episodes, outcomes, horizon)


def evaluate_child_with(
    policy: Policy,
    child: ChildFacts,
    episodes: list[EpisodeFacts],
    outcomes: list[OutcomeFacts],
    horizon: datetime,
    given: Mapping[str, list[ActionSpec]] | None = None,
    closers: Closers | None = None,
) -> list[ActionSpec]:
    """``evaluate_child``, with the actions of the rules in ``given`` (by rule id) taken as already evaluated.

    The bulk path evaluates its column rules for every child at once and passes each child's share here, so a
    child some other rule concerns is evaluated per child for those other rules only; the specs are gathered in
    rule order and folded and closed exactly as ``evaluate_child`` does (tests/domain/test_bulk.py).
    A rule whose scope rules the child out (legal status, UASC, solicitor) is not run: every trigger checks
    ``applies`` before it emits, which would refuse each episode and event for the same reason. ``closers``: as
    for ``close_with_outcomes``.
    """
    ordered = sorted(
        (e for e in episodes if e.started_at is not None),
        key=lambda e: (e.started_at, e.ref),  # type: ignore[arg-type, return-value]
    )
    run = ChildRun(policy, child, ordered, outcomes, horizon)
    rules = policy.active_rules
    # Rules that read other rules' actions go last, so they find them in ``run.specs`` rather than run them again
    # (the policy lists its interview's strategy check before the strategy rules); the specs are then put back in
    # rule order, each rule's own actions in the order it emitted them.
    later = [rule for rule in rules if rule.trigger.reads_other_rules]
    for rule in [rule for rule in rules if not rule.trigger.reads_other_rules] + later:
        if given is not None and rule.id in given:
            run.specs.extend(given[rule.id])
        elif child_in_scope(rule, child):
            rule.trigger.evaluate(rule, run)
        run.evaluated.add(rule.id)
    if later and run.specs:
        position = {rule.id: number for number, rule in enumerate(rules)}
        run.specs.sort(key=lambda spec: position[spec.rule_id])
    return close_with_outcomes(policy, fold_same_duties(policy, run), episodes, outcomes, closers)


def fold_same_duties(policy: Policy, run: ChildRun) -> list[ActionSpec]:
    """One duty, one action: a rule's action is folded into the action of the rule it names in ``same_duty_as``
    when both are about the same episode (issue 15: a former-UASC care leaver assessed missing was asked twice
    to tell the Home Office, by Wokingham's rule and Surrey's).

    The folded action keeps the named rule's key and actor, takes the earlier trigger and due time, adds the
    other's recipients and names the other rule in ``also_rule_ids``. Repeating occurrences are never folded.
    An action about the child (a case-event rule that takes no episode) is about the episode its event is about.
    """
    deferring = {rule.id: rule.same_duty_as for rule in policy.active_rules if rule.same_duty_as}
    if not deferring:
        return run.specs
    named = set(deferring.values())
    primaries = {(s.rule_id, action_episode(s, run)): s for s in run.specs if s.rule_id in named and "#" not in s.key}
    folded: set[str] = set()
    for spec in run.specs:
        subject = (deferring.get(spec.rule_id), action_episode(spec, run))
        primary = primaries.get(subject)  # type: ignore[arg-type]
        if primary is None or "#" in spec.key or subject[1] is None:
            continue
        primaries[subject] = replace(  # type: ignore[index]
            primary,
            trigger_at=min(primary.trigger_at, spec.trigger_at),
            due_at=min(primary.due_at, spec.due_at),
            recipients=tuple(dict.fromkeys((*primary.recipients, *spec.recipients))),
            also_rule_ids=(*primary.also_rule_ids, spec.rule_id),
        )
        folded.add(spec.key)
    merged = {s.key: s for s in primaries.values()}
    return [merged.get(s.key, s) for s in run.specs if s.key not in folded]


@dataclass(frozen=True)
class Closers:
    """What ``close_with_outcomes`` reads of a policy: each rule by id and the case events that close its actions.

    Made once for many children (the bulk path closes thousands with one policy): made again for each child, these
    two tables were about a fifth of the bulk path's closing time (cProfile, 4,000 children of the 50,000-episode
    region: 2.3-2.8 s against 1.9-2.2 s).
    """

    rules: Mapping[str, Rule]
    closing: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, policy: Policy) -> Closers:
        return cls({rule.id: rule for rule in policy.rules}, {rule.id: rule.closing_events for rule in policy.rules})


def close_with_outcomes(policy: Policy, specs: list[ActionSpec], episodes: list[EpisodeFacts],
                        outcomes: list[OutcomeFacts], closers: Closers | None = None) -> list[ActionSpec]:
    """Mark actions done, declined or not required from the case events, in the order they were recorded.

    An event naming an incident closes that episode's matching actions triggered before it. An event naming
    none is taken to be about the most recent matching subject (the episode, or the assessment, with the
    latest trigger before the event). Within a subject it closes every one-off action (one meeting answers the
    24-hour and the high-risk trigger alike) but only the earliest open occurrence of a repeating one (each
    weekly review needs its own record). ``closers``: ``Closers.of(policy)``, given by a caller closing many
    children.
    """
    by_key = {s.key: s for s in specs}
    if outcomes:
        _close(by_key, episodes, outcomes, closers or Closers.of(policy))
    return sorted(by_key.values(), key=lambda s: (s.trigger_at, s.key))


def _close(by_key: dict[str, ActionSpec], episodes: list[EpisodeFacts], outcomes: list[OutcomeFacts],
           closers: Closers) -> None:
    """``close_with_outcomes`` on ``by_key`` (each action by key), in place."""
    rules, closing = closers.rules, closers.closing
    incident_of = {e.ref: e.incident_ref for e in episodes}
    # The actions each recorded event could close, by the incident of their episode (``_ABOUT_CHILD``: an action
    # about the child), so an event looks at its own candidates only, not at every action of a long history.
    events = {outcome.event for outcome in outcomes}
    recorded = {rule_id: events & names for rule_id, names in closing.items()}  # per rule, not per action
    closable: dict[str, dict[object, list[str]]] = defaultdict(lambda: defaultdict(list))
    for spec in by_key.values():
        closed_by = recorded[spec.rule_id]
        if spec.also_rule_ids:
            closed_by = closed_by.union(*(recorded[r] for r in spec.also_rule_ids))
        if not closed_by:
            continue
        group = incident_of.get(spec.episode_ref) if spec.episode_ref else _ABOUT_CHILD
        for event in closed_by:
            closable[event][group].append(spec.key)
    order = {key: number for number, key in enumerate(by_key)}  # candidates in the actions' own order
    for outcome in sorted(outcomes, key=lambda o: (o.recorded_at, o.event_id)):
        by_incident = closable.get(outcome.event)
        if not by_incident:
            continue
        # An incident named picks among episode actions; actions about the child (a care leaver's
        # assessment) are not tied to an incident, so a reference on the event does not rule them out.
        if outcome.incident_ref:
            keys = sorted([*by_incident.get(outcome.incident_ref, ()), *by_incident.get(_ABOUT_CHILD, ())],
                          key=order.__getitem__)
        else:
            keys = sorted((k for ks in by_incident.values() for k in ks), key=order.__getitem__)
        candidates = [by_key[k] for k in keys
                      if by_key[k].status == "open" and by_key[k].trigger_at <= outcome.recorded_at]
        if not candidates:
            continue
        subject = max(candidates, key=lambda s: (s.trigger_at, s.key))
        subject_id = action_subject(subject)
        chosen = [s for s in candidates if action_subject(s) == subject_id]
        one_offs = [s for s in chosen if "#" not in s.key]
        repeating = sorted((s for s in chosen if "#" in s.key), key=lambda s: s.trigger_at)
        for spec in one_offs + repeating[:1]:
            # A folded action: the first of its rules that the event closes says how.
            rule = next(rules[r] for r in (spec.rule_id, *spec.also_rule_ids) if outcome.event in closing[r])
            if outcome.event in rule.done_by:
                status, detail = "done", spec.detail
            elif outcome.event in rule.declined_by:
                status, detail = "declined", rule.on_declined
            else:
                status, detail = "not_required", spec.detail
            by_key[spec.key] = replace(
                spec,
                status=status,
                done_at=outcome.recorded_at,
                done_by=outcome.by,
                evidence=outcome.rationale or outcome.notes or f"{outcome.event} ({outcome.event_id})",
                detail=detail,
            )


#: The group of ``close_with_outcomes``'s candidates that are about the child, not an episode's incident.
_ABOUT_CHILD = object()
