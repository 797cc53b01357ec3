"""A child's run answers "which episode is this case event about" and "what fired before" without walking its
whole history again for every event (issue 19: a region's most frequently missing children have hundreds of
episodes and events, and the daily roll-forward recomputes them all every day).

The shortcuts must give the same answers as the definitions they replace: a walk of the episodes in order,
and the strategy enquiry running the strategy rules again for itself.
"""

from __future__ import annotations

import yaml

from missing_episodes.config import DATA_DIR
from missing_episodes.facts import EpisodeFacts, OutcomeFacts
from missing_episodes.policy import load_policy, parse_policy
from missing_episodes.rules import evaluate_child
from missing_episodes.triggers import ChildRun
from tests.builders.facts import child, episode, london, outcome

HORIZON = london("2026-12-01 00:00")
POLICY = DATA_DIR / "policies" / "default.yaml"


def episode_for(outcome: OutcomeFacts, ordered: list[EpisodeFacts]) -> EpisodeFacts | None:
    """The definition ``ChildRun.episode_of`` shortens: the episode the event names, else the latest started
    before it was recorded, found by walking the episodes in start order."""
    if outcome.incident_ref:
        return next((e for e in ordered if e.incident_ref == outcome.incident_ref), None)
    started = [e for e in ordered if e.started_at is not None and e.started_at <= outcome.recorded_at]
    return started[-1] if started else None


def test_the_episode_an_event_is_about_is_the_one_the_walk_finds():
    episodes = [
        episode("EP-1", "2026-03-01 10:00", found="2026-03-01 20:00", incident="INC-1"),
        episode("EP-2", "2026-03-05 09:00", found="2026-03-05 12:00", incident="INC-2"),
        episode("EP-3", "2026-03-05 09:00", found="2026-03-06 12:00", incident="INC-3"),  # same start as EP-2
        episode("EP-4", "2026-03-20 22:00", incident="INC-2"),  # a reused incident: the first episode keeps it
    ]
    events = [
        outcome("O-1", "rhi_completed", "2026-02-28 09:00"),  # before any episode: about none
        outcome("O-2", "rhi_completed", "2026-03-01 10:00"),  # at the first start exactly
        outcome("O-3", "rhi_completed", "2026-03-05 09:00"),  # two episodes began then: the later listed
        outcome("O-4", "rhi_completed", "2026-03-10 09:00"),
        outcome("O-5", "rhi_completed", "2026-04-01 09:00", incident="INC-2"),
        outcome("O-6", "rhi_completed", "2026-04-01 09:00", incident="INC-9"),  # names no episode of the child
        outcome("O-7", "rhi_completed", "2026-04-02 09:00"),
    ]
    run = ChildRun(load_policy(POLICY), child(), episodes, events, HORIZON)

    found = {event.event_id: run.episode_of(event) for event in events}

    assert found == {event.event_id: episode_for(event, episodes) for event in events}
    assert {key: value.ref if value else None for key, value in found.items()} == {
        "O-1": None, "O-2": "EP-1", "O-3": "EP-3", "O-4": "EP-3", "O-5": "EP-2", "O-6": None, "O-7": "EP-4"}


def test_the_case_event_an_action_names_is_the_first_with_that_id():
    first = outcome("O-1", "assessment_completed", "2026-03-01 10:00")
    again = outcome("O-1", "assessment_completed", "2026-03-02 10:00")  # a replayed id: the first one stands
    run = ChildRun(load_policy(POLICY), child(), [], [first, outcome("O-2", "rhi_completed", "2026-03-03 10:00"),
                                                      again], HORIZON)

    assert run.outcome_named("O-1") is first
    assert run.outcome_named("O-2").event == "rhi_completed"
    assert run.outcome_named("O-3") is None


def _policy_with_the_enquiry(where: str):
    """The default policy with the strategy enquiry listed first or last: before or after every strategy-meeting
    rule it reads (the default lists it among the interview's rules, before the strategy rules)."""
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    rules = data["rules"]
    enquiry = next(rule for rule in rules if rule["id"] == "rhi.strategy_check")
    others = [rule for rule in rules if rule is not enquiry]
    data["rules"] = [enquiry, *others] if where == "first" else [*others, enquiry]
    return parse_policy(data)


def _enquiries(policy, events):
    episodes = [
        # Missing 30 hours: the 24-hour strategy meeting is to be considered.
        episode("EP-1", "2026-03-01 10:00", found="2026-03-02 16:00", incident="INC-1"),
        # Back within hours: nothing calls for a meeting.
        episode("EP-2", "2026-03-10 10:00", found="2026-03-10 13:00", incident="INC-2"),
    ]
    return sorted((spec.key, spec.trigger_at) for spec in evaluate_child(policy, child(), episodes, events, HORIZON)
                  if spec.rule_id == "rhi.strategy_check")


def test_an_interview_signed_off_without_the_meeting_it_called_for_raises_the_enquiry_in_either_rule_order():
    events = [
        outcome("O-1", "rhi_completed", "2026-03-04 11:00", incident="INC-1"),
        outcome("O-2", "rhi_completed", "2026-03-12 11:00", incident="INC-2"),
    ]
    expected = [("EP-1:rhi.strategy_check", london("2026-03-04 11:00"))]

    assert _enquiries(load_policy(POLICY), events) == expected
    assert _enquiries(_policy_with_the_enquiry("first"), events) == expected


def test_a_meeting_held_before_the_interview_answers_the_enquiry_and_one_held_after_does_not():
    held_before = [outcome("O-0", "strategy_meeting_held", "2026-03-03 09:00", incident="INC-1"),
                   outcome("O-1", "rhi_completed", "2026-03-04 11:00", incident="INC-1")]
    held_after = [outcome("O-1", "rhi_completed", "2026-03-04 11:00", incident="INC-1"),
                  outcome("O-2", "management_oversight_recorded", "2026-03-05 09:00", incident="INC-1")]

    for policy in (load_policy(POLICY), _policy_with_the_enquiry("first")):
        assert _enquiries(policy, held_before) == []
        assert _enquiries(policy, held_after) == [("EP-1:rhi.strategy_check", london("2026-03-04 11:00"))]


def _interviewed_child():
    episodes = [episode("EP-1", "2026-03-01 10:00", found="2026-03-02 16:00", incident="INC-1"),
                episode("EP-2", "2026-03-10 10:00", found="2026-03-10 13:00", incident="INC-2")]
    events = [outcome("O-1", "rhi_completed", "2026-03-04 11:00", incident="INC-1")]
    return episodes, events


def test_a_childs_run_evaluates_each_strategy_rule_once_whatever_the_policys_order(monkeypatch):
    """The enquiry reads the strategy rules' actions from the run (it is evaluated after every other rule) rather
    than running them again (with the rest, a tenth of the bulk path of a 50,000-episode region, sampled). The
    actions are the same whatever the policy's order."""
    episodes, events = _interviewed_child()
    strategy_ids = {"strategy.missing_24h", "strategy.missing_72h", "strategy.four_in_28_days",
                    "strategy.six_in_2_months", "strategy.high_risk"}
    results = {}
    calls: list[str] = []
    for where in ("first", "last"):
        policy = _policy_with_the_enquiry(where)
        calls.clear()
        for trigger_type in {type(rule.trigger) for rule in policy.active_rules if rule.id in strategy_ids}:

            def counted(self, rule, run, original=trigger_type.evaluate):
                calls.append(rule.id)
                return original(self, rule, run)

            monkeypatch.setattr(trigger_type, "evaluate", counted)

        specs = evaluate_child(policy, child(), episodes, events, HORIZON)
        monkeypatch.undo()

        assert sorted(call for call in calls if call in strategy_ids) == sorted(strategy_ids), where
        results[where] = specs

    assert results["first"] == results["last"] == evaluate_child(load_policy(POLICY), child(), episodes, events,
                                                                 HORIZON)
    assert "EP-1:rhi.strategy_check" in {spec.key for spec in results["first"]}


def test_the_enquiry_evaluated_on_its_own_runs_the_strategy_rules_for_itself():
    """A trigger is correct on its own, outside a child's whole run: with no strategy rule evaluated yet, the
    enquiry finds what called for a meeting by running them."""
    episodes, events = _interviewed_child()
    policy = load_policy(POLICY)
    enquiry = policy.rule("rhi.strategy_check")
    run = ChildRun(policy, child(), episodes, events, HORIZON)

    enquiry.trigger.evaluate(enquiry, run)

    assert [(spec.key, spec.trigger_at) for spec in run.specs] == [
        ("EP-1:rhi.strategy_check", london("2026-03-04 11:00"))]
