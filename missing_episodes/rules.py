"""The statutory clocks: from a child's episodes and case events, every action due, when, and whether it was done.

Pure functions over plain facts (no database, no Prefect), so each rule is tested directly from the sentence of
the seed it implements, and the per-episode subflow and the bulk path call the very same code.

The unit of evaluation is the child: "four missing episodes in 28 days" and "an RHI declined without naming the
incident" can only be judged against the child's whole history. Each action has a deterministic key
(``EP-…:rule`` or ``CH-…:rule:event``, with ``#n`` for the n-th occurrence of a repeating one), so evaluating
twice yields the same keys and storing them twice changes nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from missing_episodes.clock import add_days, add_hours, add_months, add_working_days, age_on, birthday
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


@dataclass(frozen=True)
class ChildFacts:
    ref: str
    legal_status: str = "none"
    uasc: bool = False
    date_of_birth: date | None = None


@dataclass(frozen=True)
class EpisodeFacts:
    ref: str
    incident_ref: str
    kind: str | None  # missing | absent | None (not yet reported)
    started_at: datetime | None
    reported_at: datetime | None
    found_at: datetime | None = None
    return_notified_at: datetime | None = None
    risk_history: tuple[tuple[datetime, str], ...] = ()
    other_authority: bool = False

    @property
    def ended_at(self) -> datetime | None:
        """When the child stopped being missing: found, else (no time given) when the return was notified."""
        return self.found_at or self.return_notified_at


@dataclass(frozen=True)
class OutcomeFacts:
    event_id: str
    event: str
    recorded_at: datetime
    incident_ref: str | None = None
    by: str | None = None
    rationale: str | None = None
    notes: str | None = None
    risk_level: str | None = None


@dataclass(frozen=True)
class ActionSpec:
    key: str
    kind: str
    rule_id: str
    policy_version: str
    episode_ref: str | None
    trigger_at: datetime
    due_at: datetime
    actor: str
    recipients: tuple[str, ...] = ()
    status: str = "open"
    done_at: datetime | None = None
    done_by: str | None = None
    evidence: str | None = None
    detail: str | None = None


def apply_offset(moment: datetime, offset: Offset, times: int = 1) -> datetime:
    """Real hours, then London calendar months and days, then working days, ``times`` over."""
    result = moment
    if offset.hours:
        result = add_hours(result, offset.hours * times)
    if offset.months:
        result = add_months(result, offset.months * times)
    if offset.days:
        result = add_days(result, offset.days * times)
    if offset.working_days:
        result = add_working_days(result, offset.working_days * times)
    return result


def _applies(rule: Rule, child: ChildFacts, episode: EpisodeFacts | None, at: datetime | None) -> bool:
    scope = rule.applies_to
    if episode is not None:
        if episode.other_authority or episode.kind is None:
            return False
        if scope.episode_kinds and episode.kind not in scope.episode_kinds:
            return False
    if scope.legal_status and child.legal_status not in scope.legal_status:
        return False
    if scope.uasc is not None and child.uasc != scope.uasc:
        return False
    if scope.uasc_or_care_leaver and not (child.uasc or child.legal_status == "care_leaver"):
        return False
    # An unknown date of birth counts as a child: the duty is not dropped for want of a date.
    known_age = scope.under_18 is not None and child.date_of_birth is not None and at is not None
    return not (known_age and (age_on(child.date_of_birth, at) < 18) != scope.under_18)  # type: ignore[arg-type]


@dataclass
class _Builder:
    policy: Policy
    child: ChildFacts
    horizon: datetime
    specs: list[ActionSpec] = field(default_factory=list)

    def emit(self, rule: Rule, key: str, episode: EpisodeFacts | None, trigger_at: datetime,
             high_risk: bool = False, detail: str | None = None) -> None:
        due = rule.due_if_high_risk if (high_risk and rule.due_if_high_risk) else rule.due
        self.specs.append(
            ActionSpec(
                key=key,
                kind=rule.action,
                rule_id=rule.id,
                policy_version=self.policy.version,
                episode_ref=episode.ref if episode else None,
                trigger_at=trigger_at,
                due_at=apply_offset(trigger_at, due),
                actor=rule.actor,
                recipients=tuple(rule.recipients),
                detail=detail,
            )
        )

    def stop_at_age(self, rule: Rule, start: datetime) -> datetime | None:
        """The birthday at which a schedule closes, if the child had not reached it when the episode began."""
        if rule.until_age is None or self.child.date_of_birth is None:
            return None
        if age_on(self.child.date_of_birth, start) >= rule.until_age:
            return None
        return birthday(self.child.date_of_birth, rule.until_age)


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
    builder = _Builder(policy, child, horizon)
    ordered = sorted(
        (e for e in episodes if e.started_at is not None),
        key=lambda e: (e.started_at, e.ref),  # type: ignore[arg-type, return-value]
    )
    for rule in policy.active_rules:
        trigger = rule.trigger
        if isinstance(trigger, OutcomeTrigger):
            _outcome_rule(builder, rule, trigger, ordered, outcomes)
            continue
        for episode in ordered:
            if not _applies(rule, child, episode, episode.started_at):
                continue
            if isinstance(trigger, ReturnedTrigger):
                if episode.return_notified_at is not None:
                    builder.emit(rule, f"{episode.ref}:{rule.id}", episode, episode.return_notified_at)
            elif isinstance(trigger, MissingForTrigger):
                _missing_for(builder, rule, trigger, episode)
            elif isinstance(trigger, RepeatEpisodesTrigger):
                _repeat(builder, rule, trigger, episode, ordered)
            elif isinstance(trigger, RiskGradedTrigger):
                graded = [at for at, level in episode.risk_history if level == trigger.level]
                if graded:
                    builder.emit(rule, f"{episode.ref}:{rule.id}", episode, min(graded), high_risk=True)
    return close_with_outcomes(policy, builder.specs, episodes, outcomes)


def _missing_for(builder: _Builder, rule: Rule, trigger: MissingForTrigger, episode: EpisodeFacts) -> None:
    start = episode.started_at
    assert start is not None
    ended = episode.ended_at
    closes = builder.stop_at_age(rule, start)
    limit = apply_offset(start, trigger.until) if trigger.until else None
    occurrence = 0
    while True:
        at = apply_offset(start, trigger.after)
        if occurrence and trigger.every:
            at = apply_offset(at, trigger.every, occurrence)
        if ended is not None and ended <= at:
            return
        if closes is not None and at >= closes:
            return
        if limit is not None and at >= limit:
            return
        if trigger.every is not None and at > builder.horizon:
            return
        suffix = f"#{occurrence + 1}" if trigger.every else ""
        builder.emit(rule, f"{episode.ref}:{rule.id}{suffix}", episode, at, high_risk=_high(episode))
        if trigger.every is None:
            return
        occurrence += 1


def _high(episode: EpisodeFacts | None) -> bool:
    return bool(episode and episode.risk_history and episode.risk_history[-1][1] == "high")


def _repeat(builder: _Builder, rule: Rule, trigger: RepeatEpisodesTrigger, episode: EpisodeFacts,
            ordered: list[EpisodeFacts]) -> None:
    """This episode is the ``count``-th of the counted kinds whose start lies in the window ending at its start."""
    if episode.kind not in trigger.count_kinds:
        return
    counted = [e.started_at for e in ordered if e.kind in trigger.count_kinds and not e.other_authority]
    start = episode.started_at
    assert start is not None
    window = trigger.window
    window_start = apply_offset(start, Offset(hours=-window.hours, days=-window.days, months=-window.months))
    # Episodes starting in (window_start, start]: one exactly a whole window earlier is outside it.
    in_window = bisect_right(counted, start) - bisect_right(counted, window_start)
    if in_window == trigger.count:
        builder.emit(rule, f"{episode.ref}:{rule.id}", episode, episode.reported_at or start)


def _return_after(moment: datetime, episodes: list[EpisodeFacts], outcomes: list[OutcomeFacts]) -> datetime | None:
    """The child's return after ``moment``: a ``returned`` case event or a police return, whichever is first."""
    times = [o.recorded_at for o in outcomes if o.event == "returned" and o.recorded_at > moment]
    times += [e.ended_at for e in episodes if e.ended_at is not None and e.ended_at > moment]
    return min(times) if times else None


def _episode_for(outcome: OutcomeFacts, ordered: list[EpisodeFacts]) -> EpisodeFacts | None:
    if outcome.incident_ref:
        return next((e for e in ordered if e.incident_ref == outcome.incident_ref), None)
    started = [e for e in ordered if e.started_at is not None and e.started_at <= outcome.recorded_at]
    return started[-1] if started else None


def _outcome_rule(builder: _Builder, rule: Rule, trigger: OutcomeTrigger, ordered: list[EpisodeFacts],
                  outcomes: list[OutcomeFacts]) -> None:
    for outcome in sorted(outcomes, key=lambda o: (o.recorded_at, o.event_id)):
        if outcome.event != trigger.event:
            continue
        episode = _episode_for(outcome, ordered) if rule.applies_to.episode_kinds else None
        if rule.applies_to.episode_kinds and episode is None:
            continue
        if not _applies(rule, builder.child, episode, outcome.recorded_at):
            continue
        base = f"{builder.child.ref}:{rule.id}:{outcome.event_id}"
        high = outcome.risk_level == "high" or _high(episode)
        returned = _return_after(outcome.recorded_at, ordered, outcomes)
        if trigger.on_return:
            if returned is not None:
                builder.emit(rule, base, episode, returned, high_risk=high)
            continue
        if trigger.every is None:
            builder.emit(rule, base, episode, outcome.recorded_at, high_risk=high)
            continue
        occurrence = 1
        while True:
            at = apply_offset(outcome.recorded_at, trigger.every, occurrence)
            if (returned is not None and returned <= at) or at > builder.horizon:
                break
            builder.emit(rule, f"{base}#{occurrence}", episode, at, high_risk=high)
            occurrence += 1


def close_with_outcomes(policy: Policy, specs: list[ActionSpec], episodes: list[EpisodeFacts],
                        outcomes: list[OutcomeFacts]) -> list[ActionSpec]:
    """Mark actions done, declined or not required from the case events, in the order they were recorded.

    An event naming an incident closes that episode's matching actions triggered before it. An event naming
    none is taken to be about the most recent matching subject (the episode, or the assessment, with the
    latest trigger before the event). Within a subject it closes every one-off action (one meeting answers the
    24-hour and the high-risk trigger alike) but only the earliest open occurrence of a repeating one (each
    weekly review needs its own record).
    """
    incident_of = {e.ref: e.incident_ref for e in episodes}
    rules = {r.id: r for r in policy.rules}
    closing = {r.id: {*r.done_by, *r.declined_by, *r.not_required_by} for r in policy.rules}  # once, not per spec
    by_key = {s.key: s for s in specs}
    for outcome in sorted(outcomes, key=lambda o: (o.recorded_at, o.event_id)):
        candidates = []
        for spec in by_key.values():
            if spec.status != "open" or spec.trigger_at > outcome.recorded_at:
                continue
            if outcome.event not in closing[spec.rule_id]:
                continue
            # An incident named picks among episode actions; actions about the child (a care leaver's
            # assessment) are not tied to an incident, so a reference on the event does not rule them out.
            if outcome.incident_ref and spec.episode_ref and incident_of.get(spec.episode_ref) != outcome.incident_ref:
                continue
            candidates.append(spec)
        if not candidates:
            continue
        subject = max(candidates, key=lambda s: (s.trigger_at, s.key))
        subject_id = _subject(subject)
        chosen = [s for s in candidates if _subject(s) == subject_id]
        one_offs = [s for s in chosen if "#" not in s.key]
        repeating = sorted((s for s in chosen if "#" in s.key), key=lambda s: s.trigger_at)
        for spec in one_offs + repeating[:1]:
            rule = rules[spec.rule_id]
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
    return sorted(by_key.values(), key=lambda s: (s.trigger_at, s.key))


def _subject(spec: ActionSpec) -> str:
    """The episode an action belongs to, or for a case-event rule the event that started it."""
    if spec.key.startswith("CH-"):
        return spec.key.split("#")[0].rsplit(":", 1)[-1]
    return spec.episode_ref or spec.key
