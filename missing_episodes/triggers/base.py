"""What every trigger type is: a policy schema that can evaluate itself, for one child and (if it can) for columns.

A trigger is the moment an obligation arises ("still missing 24 hours after last seen", "the 4th episode in 28
days"). Each type is one class in its own module of this package, holding together what used to be spread over
four modules: its YAML schema (pydantic fields, validated strictly), its per-child evaluation (the definition,
used by ``rules.evaluate_child``), its vectorised evaluation for whole columns of episodes (used by the bulk
path, or an explicit ``vectorises() -> False``), and what the documents ask of it (``briefing_threshold``).

Defining a concrete subclass registers it (``registry``): the policy schema's discriminated union is built from
the registry, so a new type is one new module here plus its tests.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from missing_episodes.clock import COLUMN_TIME, age_on, birthday, under_age_column
from missing_episodes.facts import ActionSpec, ChildFacts, EpisodeFacts, OutcomeFacts
from missing_episodes.offsets import Offset, apply_offset
from missing_episodes.schema import Strict

if TYPE_CHECKING:
    import pandas as pd

    from missing_episodes.policy import Policy, Rule


# --- what a trigger reads and writes, per child ------------------------------------------------------------------


@dataclass
class ChildRun:
    """One child's evaluation under one policy: its facts, the horizon, and the actions emitted so far.

    ``episodes`` are the child's started episodes in start order (the order every trigger walks them in).
    """

    policy: Policy
    child: ChildFacts
    episodes: list[EpisodeFacts]
    outcomes: list[OutcomeFacts]
    horizon: datetime
    specs: list[ActionSpec] = field(default_factory=list)
    # The rules whose actions ``specs`` already holds in full (evaluated, given by the bulk path, or out of the
    # child's scope): a trigger that reads other rules' results takes them from here rather than running them again.
    evaluated: set[str] = field(default_factory=set)
    _counted: dict[tuple[str, ...], list[datetime]] = field(default_factory=dict, init=False, repr=False,
                                                            compare=False)

    # The lookups below are built on first use and kept for the run: a child with hundreds of episodes and case
    # events (a region's most frequently missing) made every event's lookup a walk of all its episodes, inside
    # walks of its events. The first of a repeated id or incident wins, as a walk in order would find it.

    @cached_property
    def _by_event_id(self) -> dict[str, OutcomeFacts]:
        return {outcome.event_id: outcome for outcome in reversed(self.outcomes)}

    @cached_property
    def _by_incident(self) -> dict[str, EpisodeFacts]:
        return {episode.incident_ref: episode for episode in reversed(self.episodes) if episode.incident_ref}

    @cached_property
    def _started(self) -> list[EpisodeFacts]:
        return [episode for episode in self.episodes if episode.started_at is not None]

    @cached_property
    def _starts(self) -> list[datetime]:
        return [episode.started_at for episode in self._started]  # type: ignore[misc]

    def outcome_named(self, event_id: str) -> OutcomeFacts | None:
        """The child's first case event with this id (an action about the child names the event that started it)."""
        return self._by_event_id.get(event_id)

    def counted_starts(self, kinds: list[str]) -> list[datetime]:
        """The start times of the child's own episodes (not another authority's) of ``kinds``, in order: what a
        repeat count bisects, listed once per run rather than once per episode."""
        key = tuple(kinds)
        if key not in self._counted:
            self._counted[key] = [e.started_at for e in self.episodes  # type: ignore[misc]
                                  if e.kind in kinds and not e.other_authority]
        return self._counted[key]

    def episode_of(self, outcome: OutcomeFacts) -> EpisodeFacts | None:
        """The episode a case event is about: the first it names by incident, else the latest started at or before
        it was recorded (the episodes are in start order, as the class says, so a bisection finds it)."""
        if outcome.incident_ref:
            return self._by_incident.get(outcome.incident_ref)
        at = bisect_right(self._starts, outcome.recorded_at)
        return self._started[at - 1] if at else None

    def emit(self, rule: Rule, key: str, episode: EpisodeFacts | None, trigger_at: datetime,
             high_risk: bool = False, detail: str | None = None) -> None:
        """Record one action of ``rule``; its due time is the rule's (shorter when high risk and the rule says)."""
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


def applies(rule: Rule, child: ChildFacts, episode: EpisodeFacts | None, at: datetime | None) -> bool:
    """Whether ``rule``'s scope (episode kind, legal status, UASC, age at ``at``) covers this child and episode."""
    scope = rule.applies_to
    if episode is not None:
        if episode.other_authority or episode.kind is None:
            return False
        if scope.episode_kinds and episode.kind not in scope.episode_kinds:
            return False
    if not child_in_scope(rule, child):
        return False
    # An unknown date of birth counts as a child: the duty is not dropped for want of a date.
    known_age = scope.under_18 is not None and child.date_of_birth is not None and at is not None
    return not (known_age and (age_on(child.date_of_birth, at) < 18) != scope.under_18)  # type: ignore[arg-type]


def child_in_scope(rule: Rule, child: ChildFacts) -> bool:
    """The part of ``applies`` about the child alone (legal status, UASC, immigration solicitor): when it says no,
    no episode or event of the child can bring the rule an action, so the rule need not be run for the child."""
    scope = rule.applies_to
    if scope.legal_status and child.legal_status not in scope.legal_status:
        return False
    if scope.uasc is not None and child.uasc != scope.uasc:
        return False
    solicitor = scope.has_immigration_solicitor
    return solicitor is None or child.has_immigration_solicitor == solicitor


def action_subject(spec: ActionSpec) -> str:
    """The episode an action belongs to, or for a case-event rule (key ``CH-…:rule:event``) the event that started
    it."""
    if spec.key.startswith("CH-"):
        return spec.key.split("#")[0].rsplit(":", 1)[-1]
    return spec.episode_ref or spec.key


def action_episode(spec: ActionSpec, run: ChildRun) -> str | None:
    """The episode an action is about: its own, or for an action about the child, its case event's episode."""
    if spec.episode_ref is not None or not spec.key.startswith("CH-"):
        return spec.episode_ref
    event_id = action_subject(spec)
    outcome = run.outcome_named(event_id)
    episode = run.episode_of(outcome) if outcome is not None else None
    return episode.ref if episode is not None else None


def children_with_event(children: pd.DataFrame, events: pd.Series, event: str) -> pd.Series:
    """Which of ``children`` have ``event`` among their recorded case events (``events``: child id -> events)."""
    with_event = [child_id for child_id, recorded in events.items() if event in recorded]
    return children["id"].isin(with_event)


def clock_start(rule: Rule, run: ChildRun, episode: EpisodeFacts) -> datetime | None:
    """When ``rule``'s clock starts for this episode: last seen, or for a care leaver under a rule with
    ``care_leaver_clock_from`` the first such case event about the episode (None: not assessed, no clock)."""
    event = rule.applies_to.care_leaver_clock_from
    if event is None or run.child.legal_status != "care_leaver":
        return episode.started_at
    times = [o.recorded_at for o in run.outcomes if o.event == event and run.episode_of(o) is episode]
    return min(times) if times else None


def high_risk(episode: EpisodeFacts | None) -> bool:
    """The police's latest grading of the episode is high (the shorter ``due_if_high_risk`` applies)."""
    return bool(episode and episode.risk_history and episode.risk_history[-1][1] == "high")


# --- what a trigger reads and returns, as columns (the bulk path) ---------------------------------------------------


@dataclass(frozen=True)
class EpisodeColumns:
    """The started episodes of every child the bulk path evaluates itself, and what triggers derive from them."""

    episodes: pd.DataFrame  # id, ref, incident_ref, child_id, kind, started_at, ...; index: position (0, 1, ...)
    ended: pd.Series  # found, else return notified (index of ``episodes``)
    risks: pd.DataFrame  # episode_id, assessed_at, risk_level, notification_id: gradings of these episodes
    last_high: pd.Series  # the police's latest grading of the episode is high (index of ``episodes``)
    date_of_birth: pd.Series  # the child's (index of ``episodes``)
    outcomes: pd.DataFrame  # the children's case events, as ``bulk.Facts.outcomes``
    child_refs: pd.Series  # child id -> ref (the key of an action about a case event names the child)
    # The actions of the rules evaluated so far, with their rules: what a trigger that ``reads_other_rules`` reads
    # (the column evaluator runs such rules after every other, as a child's run does).
    fired: list[tuple[Rule, pd.DataFrame]] = field(default_factory=list)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The case events, each with ``row``: the position in ``episodes`` of the episode it is about, or -1.

        ``ChildRun.episode_of`` for columns: the child's first episode (in start order) naming the event's
        incident, or for an event naming none the child's latest episode started at or before it was recorded.
        In each child's order of record (recorded_at, event_id), the order a child's run walks its events in;
        ``child_ref`` added.
        """
        import pandas as pd

        events = self.outcomes.astype({"child_id": "int64", "recorded_at": COLUMN_TIME})  # typed when empty too
        events = sorted_rows(events, ["child_id", "recorded_at"], "event_id")
        events = events.assign(order=range(len(events)), child_ref=events["child_id"].map(self.child_refs))
        started = sorted_rows(self.episodes.astype({"child_id": "int64"}).assign(row=self.episodes.index),
                              ["started_at"], "ref")
        named = events["incident_ref"].fillna("") != ""  # an empty reference names nothing, as in ``episode_of``
        first = (started[started["incident_ref"].fillna("") != ""]
                 .drop_duplicates(["child_id", "incident_ref"], keep="first")[["child_id", "incident_ref", "row"]])
        by_incident = events[named].merge(first, on=["child_id", "incident_ref"], how="left")
        by_time = pd.merge_asof(  # the last of equal starts in (started_at, ref) order, as the bisection finds
            events[~named].sort_values("recorded_at", kind="stable"), started[["started_at", "child_id", "row"]],
            left_on="recorded_at", right_on="started_at", by="child_id", direction="backward",
        ).drop(columns="started_at")
        located = pd.concat([by_incident, by_time], ignore_index=True).sort_values("order")
        return located.assign(row=located["row"].fillna(-1).astype("int64")).reset_index(drop=True)


def sorted_rows(frame: pd.DataFrame, keys: list[str], text: str) -> pd.DataFrame:
    """``frame.sort_values([*keys, text], kind="stable")``, without comparing every text.

    pandas sorts a column of Python strings one comparison at a time in Python: sorting 2,000,000 rows (as many
    as the 1,000,000-episode region's case events) by child, time and event id took 14 s, against 1.3 s by child
    and time alone. The text only breaks ties between rows equal on ``keys`` (numbers and instants), and those
    are few, so only their texts are ranked; the rest sort on the numbers alone. The same order, ties and missing
    texts (last among their ties) included: tests/domain/test_bulk.py compares the two.
    """
    import pandas as pd

    tied = frame.duplicated(keys, keep=False)
    rank = pd.Series(0.0, index=frame.index)
    if tied.any():
        rank[tied] = frame.loc[tied, text].rank(method="dense")
    return frame.assign(_tie=rank).sort_values([*keys, "_tie"], kind="stable").drop(columns="_tie")


@dataclass(frozen=True)
class InScope:
    """The episodes one rule's scope covers: the mask over ``EpisodeColumns.episodes``, the rows, their risk.

    ``mask`` takes the child's age when the episode started; a trigger that fires at a case event takes it when
    the event was recorded, as ``applies`` does (``at_instants``), from ``unaged`` and ``under_18``.
    """

    mask: pd.Series
    episodes: pd.DataFrame
    last_high: pd.Series  # the latest grading is high (index of ``episodes``)
    unaged: pd.Series  # the scope without its age test (index of ``EpisodeColumns.episodes``)
    under_18: bool | None  # the scope's age test

    def at_instants(self, rows: pd.Series, at: pd.Series, columns: EpisodeColumns) -> pd.Series:
        """Whether the scope covers the episodes at positions ``rows`` with the child's age taken at ``at``
        (both indexed alike). An unknown date of birth counts as a child, as in ``applies``."""
        import pandas as pd

        covered = self.unaged.to_numpy()[rows.to_numpy()]
        if self.under_18 is not None:
            dob = columns.date_of_birth.to_numpy()[rows.to_numpy()]
            under = under_age_column(pd.Series(dob, index=at.index), at).to_numpy()
            covered &= age_in_scope(self.under_18, under, pd.isna(dob))
        return pd.Series(covered, index=at.index)


def age_in_scope(under_18: bool, under: Any, unknown: Any) -> Any:
    """A scope's age test on columns: under 18 (an unknown date of birth counts as a child, as in ``applies``),
    or 18 and over (known dates only). ``under``: ``under_age_column``'s answer; ``unknown``: no date of birth."""
    return under if under_18 else (~under | unknown)


@dataclass(frozen=True)
class Fired:
    """The episodes a trigger fires for, when (``at``, UTC) and whether the high-risk due time applies.

    An action's key is ``{head}:{rule id}{tail}``: by default the episode's ref and nothing after. An action per
    case event is keyed by the child and the event (``CH-…:rule:event``, as ``OutcomeTrigger.evaluate`` keys it).
    """

    episodes: pd.DataFrame
    at: pd.Series
    high: pd.Series
    key_head: pd.Series | None = None  # instead of the episode's ref
    key_tail: pd.Series | None = None  # after the rule's id


# --- what the documents ask of a trigger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatThreshold:
    """A repeat-episodes threshold the daily briefing lists children against (``count`` of ``kinds`` in ``window``)."""

    window: Offset
    count: int
    count_kinds: tuple[str, ...]


# --- the base class --------------------------------------------------------------------------------------------------


class TriggerType(Strict):
    """One kind of trigger. Concrete subclasses declare ``type: Literal["name"]`` and are registered on definition.

    Subclasses implement ``evaluate`` (or, for a trigger per episode, subclass ``EpisodeTrigger``) and
    ``vectorises``; those that vectorise implement ``fire_columns``.
    """

    name: ClassVar[str] = ""  # the ``type`` tag in YAML, filled in on registration
    # A trigger that reads other rules' actions from ``ChildRun.specs``: a child's run evaluates its rules after
    # every other rule, whatever their order in the policy (``rules.evaluate_child_with``).
    reads_other_rules: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field_info = cls.model_fields.get("type")
        if inspect.isabstract(cls) or field_info is None:
            return
        (cls.name,) = get_args(field_info.annotation)
        from missing_episodes.triggers import registry  # the registry imports every trigger module, hence here

        registry.register(cls)

    @abstractmethod
    def evaluate(self, rule: Rule, run: ChildRun) -> None:
        """Emit every action ``rule`` (whose trigger this is) asks for one child, through ``run.emit``."""

    @abstractmethod
    def vectorises(self) -> bool:
        """Whether ``fire_columns`` evaluates this trigger, as configured, for whole columns of episodes.

        Saying False is a complete answer: the bulk path then hands every child the rule could concern
        (``could_concern``) to ``evaluate`` whole, so the result is the same either way, only slower.
        """

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        """The vectorised ``evaluate``: for the episodes in scope, which fire, when, and at high risk or not."""
        raise NotImplementedError(f"the {self.name!r} trigger has no vectorised evaluation (vectorises() is False)")

    def could_concern(self, children: pd.DataFrame, events: pd.Series) -> pd.Series | bool:
        """Which children (rows of ``children``) a non-vectorised rule of this trigger could give an action.

        ``events`` maps a child id to the set of case events recorded for the child. Anyone in the rule's
        scope, unless the type can narrow it (a case-event trigger: only children with that event).
        """
        return True

    def briefing_threshold(self) -> RepeatThreshold | None:
        """The repeat threshold the daily briefing lists children against, if this trigger is one."""
        return None


class EpisodeTrigger(TriggerType):
    """A trigger judged episode by episode: ``evaluate`` walks the child's episodes in the rule's scope."""

    def evaluate(self, rule: Rule, run: ChildRun) -> None:
        for episode in run.episodes:
            if applies(rule, run.child, episode, episode.started_at):
                self.evaluate_episode(rule, run, episode)

    @abstractmethod
    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        """Emit the actions this episode (in the rule's scope) calls for."""
