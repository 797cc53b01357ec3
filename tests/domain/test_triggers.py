"""The trigger registry: every type is one module, the policy schema is built from it, and a new type is one class.

The worked example of the README's "Adding a rule type" is real: ``ReportedLateTrigger`` below is defined in this
test module (as it would be in ``missing_episodes/triggers/reported_late.py``), a YAML rule uses it, and it
evaluates through the registry on both evaluators, the per-child one and the bulk one. The fixture removes it
again, so no other test sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pandas as pd
import pytest
import yaml

from missing_episodes import bulk, policy
from missing_episodes.config import DATA_DIR
from missing_episodes.facts import EpisodeFacts
from missing_episodes.offsets import Offset, apply_offset, offset_series
from missing_episodes.policy import PolicyError, load_policy, parse_policy
from missing_episodes.rules import evaluate_child
from missing_episodes.triggers import ChildRun, EpisodeColumns, EpisodeTrigger, Fired, InScope, TriggerType, registry
from tests.builders.facts import bulk_facts, child, episode, london

HORIZON = london("2026-12-01 00:00")
BUILT_IN = {"missing_for", "outcome", "repeat_episodes", "returned", "risk_graded", "still_missing_at_age",
            "strategy_unresolved"}

RULE_YAML = """
authority: Example
version: "2026.1"
rules:
  - id: manager.reported_late
    action: team_manager_notified
    title: Team manager told of a missing episode reported 4 hours or more after last seen
    seed: "(worked example) a late report is escalated to the team manager"
    trigger: {type: reported_late, after: {hours: 4}}
    due: {working_days: 1}
    actor: social_worker
"""


@pytest.fixture
def reported_late() -> Iterator[type[TriggerType]]:
    """Define the example type (registering it), rebuild the schema, and undo both afterwards."""
    saved = registry.snapshot()

    class ReportedLateTrigger(EpisodeTrigger):
        """Reported to the police ``after`` or more after the child was last seen: fires at the report."""

        type: Literal["reported_late"]
        after: Offset

        def evaluate_episode(self, rule, run: ChildRun, episode: EpisodeFacts) -> None:
            late = apply_offset(episode.started_at, self.after)
            if episode.reported_at is not None and episode.reported_at >= late:
                run.emit(rule, f"{episode.ref}:{rule.id}", episode, episode.reported_at)

        def vectorises(self) -> bool:
            return True

        def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
            chosen = scope.episodes
            keep = chosen["reported_at"].notna() & (chosen["reported_at"] >= offset_series(chosen["started_at"],
                                                                                           self.after))
            at = chosen.loc[keep, "reported_at"]
            return Fired(chosen[keep], at, pd.Series(False, index=at.index))

    policy.rebuild_trigger_schema()
    try:
        yield ReportedLateTrigger
    finally:
        registry.restore(saved)
        policy.rebuild_trigger_schema()


def test_a_new_trigger_type_is_one_class_and_evaluates_through_the_registry(reported_late):
    assert registry.lookup("reported_late") is reported_late
    example = parse_policy(yaml.safe_load(RULE_YAML), "example.yaml")
    assert isinstance(example.rules[0].trigger, reported_late)
    person = child()
    episodes = [
        # Last seen Friday 20:00, reported 01:30: 5.5 hours late. Due one working day later, Monday 01:30.
        episode("EP-1", "2026-10-02 20:00", reported="2026-10-03 01:30", found="2026-10-03 09:00"),
        episode("EP-2", "2026-10-10 20:00", reported="2026-10-10 21:00"),  # reported within the hour
    ]
    specs = evaluate_child(example, person, episodes, [], HORIZON)
    assert [(s.key, s.rule_id, s.trigger_at, s.due_at) for s in specs] == [
        ("EP-1:manager.reported_late", "manager.reported_late", london("2026-10-03 01:30"),
         london("2026-10-05 01:30")),
    ]
    facts = bulk_facts(person, episodes)
    assert bulk.fallback_children(example, facts) == set()  # the bulk path takes it on columns, not per child
    assert bulk.evaluate_bulk(example, facts, HORIZON) == {1: specs}


def test_the_example_type_is_gone_after_its_test():
    assert {t.name for t in registry.trigger_types()} == BUILT_IN
    with pytest.raises(PolicyError, match=r"rules\.0\.trigger"):
        parse_policy(yaml.safe_load(RULE_YAML), "example.yaml")


def test_the_policy_schema_is_built_from_the_registry():
    union = policy.Rule.model_fields["trigger"].annotation
    assert set(union.__args__) == set(registry.trigger_types())
    rules = load_policy(DATA_DIR / "policies" / "default.yaml").rules
    assert {rule.trigger.name for rule in rules} == BUILT_IN  # the bundled policy uses every type


def test_a_type_without_a_column_evaluation_says_so_and_is_never_asked_for_one():
    default = load_policy(DATA_DIR / "policies" / "default.yaml")
    for rule in default.rules:
        trigger = rule.trigger
        if type(trigger).fire_columns is TriggerType.fire_columns:  # no vectorised evaluation written
            assert not trigger.vectorises(), trigger.name
            with pytest.raises(NotImplementedError, match=trigger.name):
                trigger.fire_columns(None, None)  # type: ignore[arg-type]
    on_columns = {rule.trigger.name for rule in default.rules if rule.trigger.vectorises()}
    assert on_columns == BUILT_IN - {"still_missing_at_age"}
    # A repeating schedule, or a duty at the return after a case event, is judged per child even though its type
    # has a column evaluation for one-offs.
    assert any(rule.trigger.name == "missing_for" and not rule.trigger.vectorises() for rule in default.rules)
    assert any(rule.trigger.name == "outcome" and rule.trigger.on_return and not rule.trigger.vectorises()
               for rule in default.rules)


def test_two_types_with_one_tag_are_refused():
    saved = registry.snapshot()
    try:
        with pytest.raises(TypeError, match="defined twice"):
            class Impostor(EpisodeTrigger):
                type: Literal["returned"]

                def evaluate_episode(self, rule, run, episode) -> None:
                    return None

                def vectorises(self) -> bool:
                    return False
    finally:
        registry.restore(saved)


def test_the_briefing_asks_the_trigger_for_its_repeat_threshold():
    default = load_policy(DATA_DIR / "policies" / "default.yaml")
    thresholds = {rule.id: rule.trigger.briefing_threshold() for rule in default.rules}
    repeat = [rule for rule in default.rules if rule.trigger.name == "repeat_episodes"]
    assert repeat and all(thresholds[rule.id].count == rule.trigger.count for rule in repeat)
    assert all(thresholds[rule.id] is None for rule in default.rules if rule not in repeat)
