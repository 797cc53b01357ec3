"""Each rule of the default policy, tested from the sentence of the seed it implements.

Times are London wall-clock times; several cross the clock changes (29 March and 25 October 2026) or the Easter
and Christmas bank holidays, where a naive implementation would be an hour or a day out.
"""

from __future__ import annotations

from datetime import date

import pytest

from missing_episodes.config import DATA_DIR
from missing_episodes.policy import PolicyError, load_policy
from missing_episodes.rules import evaluate_child
from tests.builders.facts import child, episode, london, outcome

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
FAR = london("2030-01-01 00:00")


def actions(kid, episodes, outcomes=(), horizon=FAR, policy=POLICY):
    return evaluate_child(policy, kid, list(episodes), list(outcomes), horizon)


def by_rule(specs, rule_id):
    return [s for s in specs if s.rule_id == rule_id]


# --- Return Home Interview (Wakefield s5: "within 72 hours of notification that the child has returned") ------


def test_rhi_due_72_real_hours_after_the_return_was_notified_across_the_spring_clock_change():
    # Found Friday 27 March 2026 22:00 GMT, the police tell us at 23:30. 72 real hours later is Monday 30 March
    # 23:30 GMT = 31 March 00:30 BST (a naive local +72 h would say 23:30, an hour early).
    specs = actions(
        child(), [episode("EP-A", "2026-03-27 18:00", found="2026-03-27 22:00", notified="2026-03-27 23:30")]
    )
    [rhi] = by_rule(specs, "rhi.within_72h_of_return")
    assert rhi.trigger_at == london("2026-03-27 23:30")
    assert rhi.due_at == london("2026-03-31 00:30")
    assert rhi.kind == "return_home_interview" and rhi.status == "open"


def test_rhi_only_for_missing_episodes_that_ended_not_absent_or_still_missing():
    specs = actions(
        child(),
        [
            episode("EP-ABS", "2026-05-01 10:00", found="2026-05-01 15:00", kind="absent"),
            episode("EP-OPEN", "2026-05-02 10:00"),
        ],
    )
    assert by_rule(specs, "rhi.within_72h_of_return") == []


def test_rhi_completed_closes_the_interview_and_declined_asks_for_the_carers_information():
    eps = [
        episode("EP-1", "2026-06-01 10:00", found="2026-06-01 20:00", incident="I1"),
        episode("EP-2", "2026-06-10 10:00", found="2026-06-10 20:00", incident="I2"),
    ]
    specs = actions(
        child(),
        eps,
        [
            outcome("O1", "rhi_completed", "2026-06-03 11:00", incident="I1", by="Sam"),
            # No incident named: taken to be about the most recent return before it.
            outcome("O2", "rhi_declined", "2026-06-12 09:00"),
        ],
    )
    first, second = by_rule(specs, "rhi.within_72h_of_return")
    assert (first.status, first.done_by, first.done_at) == ("done", "Sam", london("2026-06-03 11:00"))
    assert second.status == "declined"
    assert "carer" in (second.detail or "")


def test_no_rhi_for_a_care_leaver_over_18():
    leaver = child(legal_status="care_leaver", dob=date(2005, 1, 1))
    specs = actions(leaver, [episode("EP-1", "2026-06-01 10:00", found="2026-06-01 20:00")])
    assert by_rule(specs, "rhi.within_72h_of_return") == []


# --- Strategy meetings (Wakefield s8) ------------------------------------------------------------------------


def test_strategy_meeting_at_24_hours_missing_and_again_at_72_hours_across_the_autumn_clock_change():
    # Last seen Saturday 24 October 2026 12:00 BST; clocks go back on Sunday 25th. 24 real hours later is Sunday
    # 11:00 GMT; 72 hours later is Tuesday 27th 11:00 GMT.
    specs = actions(child(), [episode("EP-1", "2026-10-24 12:00")])
    [day1] = by_rule(specs, "strategy.missing_24h")
    [day3] = by_rule(specs, "strategy.missing_72h")
    assert day1.due_at == london("2026-10-25 11:00")
    assert day3.due_at == london("2026-10-27 11:00")


def test_no_24_hour_meeting_when_found_before_24_hours_and_only_one_when_found_before_72():
    specs = actions(
        child(),
        [
            episode("EP-1", "2026-02-01 12:00", found="2026-02-02 11:59"),
            episode("EP-2", "2026-02-10 12:00", found="2026-02-12 08:00"),
        ],
    )
    assert [s.episode_ref for s in by_rule(specs, "strategy.missing_24h")] == ["EP-2"]
    assert by_rule(specs, "strategy.missing_72h") == []


def test_absent_episodes_never_trigger_strategy_meetings():
    specs = actions(child(), [episode("EP-1", "2026-02-01 12:00", kind="absent")])
    assert [s for s in specs if s.kind == "strategy_meeting"] == []


def test_fourth_missing_episode_within_28_days_due_when_that_episode_is_reported():
    # Missing 1, 8, 15 and 28 February; absences in between do not count (missing episodes only - NOT absent).
    eps = [
        episode(f"EP-{d}", f"2026-02-{d:02d} 18:00", found=f"2026-02-{d:02d} 23:00", reported=f"2026-02-{d:02d} 19:30")
        for d in (1, 8, 15, 28)
    ]
    eps.append(episode("EP-ABS", "2026-02-20 18:00", found="2026-02-20 21:00", kind="absent"))
    specs = by_rule(actions(child(), eps), "strategy.four_in_28_days")
    assert [(s.episode_ref, s.due_at) for s in specs] == [("EP-28", london("2026-02-28 19:30"))]


def test_four_episodes_spread_over_more_than_28_days_do_not_trigger():
    # 1, 8, 15 February and 1 March: the window (1 February 18:00, 1 March 18:00] holds 8, 15 Feb and 1 March.
    eps = [
        episode(f"EP-{i}", start, found=start.replace("18:00", "23:00"))
        for i, start in enumerate(["2026-02-01 18:00", "2026-02-08 18:00", "2026-02-15 18:00", "2026-03-01 18:00"])
    ]
    assert by_rule(actions(child(), eps), "strategy.four_in_28_days") == []


def test_sixth_missing_episode_within_two_calendar_months():
    starts = ["2026-01-05", "2026-01-20", "2026-02-09", "2026-02-25", "2026-03-01", "2026-03-04"]
    eps = [episode(f"EP-{i}", f"{d} 18:00", found=f"{d} 22:00") for i, d in enumerate(starts)]
    specs = by_rule(actions(child(), eps), "strategy.six_in_2_months")
    # 4 March minus 2 months is 4 January: all six lie in (4 Jan, 4 Mar].
    assert [s.episode_ref for s in specs] == ["EP-5"]


def test_high_risk_asks_for_a_meeting_or_a_recorded_rationale():
    eps = [
        episode(
            "EP-1",
            "2026-07-01 09:00",
            found="2026-07-01 15:00",
            incident="I1",
            risk=(("2026-07-01 10:00", "medium"), ("2026-07-01 11:00", "high")),
        )
    ]
    [open_spec] = by_rule(actions(child(), eps), "strategy.high_risk")
    assert open_spec.trigger_at == london("2026-07-01 11:00") and open_spec.due_at == london("2026-07-02 11:00")
    closed = by_rule(
        actions(
            child(),
            eps,
            [
                outcome(
                    "O1",
                    "strategy_meeting_not_required",
                    "2026-07-01 16:00",
                    incident="I1",
                    rationale="found safe within hours; plan reviewed",
                )
            ],
        ),
        "strategy.high_risk",
    )
    assert closed[0].status == "not_required" and "found safe" in (closed[0].evidence or "")


def test_one_meeting_answers_every_trigger_of_the_episode_that_had_fired_by_then():
    eps = [episode("EP-1", "2026-07-01 09:00", incident="I1", risk=(("2026-07-01 10:00", "high"),))]
    specs = actions(child(), eps, [outcome("O1", "strategy_meeting_held", "2026-07-02 12:00", incident="I1")])
    status = {s.rule_id: s.status for s in specs if s.kind == "strategy_meeting"}
    # Held at 27 hours: the 24-hour and high-risk meetings are done; the 72-hour one is still to come.
    assert status == {"strategy.high_risk": "done", "strategy.missing_24h": "done", "strategy.missing_72h": "open"}


# --- Serious notification (Wakefield s3) ---------------------------------------------------------------------


def test_serious_notification_at_72_hours_addressed_to_the_policy_recipients():
    specs = actions(child(), [episode("EP-1", "2026-09-01 08:00")])
    [form] = by_rule(specs, "serious.missing_72h")
    assert form.due_at == london("2026-09-04 08:00")
    assert "Director of Children's Services" in form.recipients


def test_media_interest_asks_for_a_serious_notification_within_a_day():
    eps = [episode("EP-1", "2026-09-01 08:00", found="2026-09-01 20:00", incident="I1")]
    [form] = by_rule(
        actions(child(), eps, [outcome("O1", "media_interest", "2026-09-01 12:00", incident="I1")]),
        "serious.media_interest",
    )
    assert form.episode_ref == "EP-1" and form.due_at == london("2026-09-02 12:00")
    assert "Corporate Director CYPS" in form.recipients


# --- Care leavers (Wokingham) -------------------------------------------------------------------------------


def test_care_leaver_assessed_missing_working_day_deadlines_skip_the_easter_bank_holidays():
    # Assessed missing Thursday 2 April 2026 15:00. Good Friday (3 April) and Easter Monday (6 April) are bank
    # holidays: 3 working days are 7, 8, 9 April; 5 working days end on 13 April.
    leaver = child("CH-L", legal_status="care_leaver", uasc=True, dob=date(2004, 3, 1))
    specs = actions(
        leaver, [], [outcome("A1", "assessed_missing", "2026-04-02 15:00")], horizon=london("2026-04-30 00:00")
    )
    due = {s.kind: s.due_at for s in specs if "#" not in s.key}
    assert due["team_manager_notified"] == london("2026-04-09 15:00")
    assert due["service_manager_notified"] == london("2026-04-13 15:00")
    assert due["police_report"] == london("2026-04-03 15:00")
    assert "home_office_notified" in due  # former UASC
    weekly = [s.trigger_at for s in specs if s.kind == "weekly_review"]
    assert weekly == [london("2026-04-09 15:00"), london("2026-04-16 15:00"), london("2026-04-23 15:00")]


def test_high_risk_shortens_the_care_leaver_reporting_timescales():
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2004, 3, 1))
    specs = actions(
        leaver,
        [],
        [outcome("A1", "assessed_missing", "2026-04-02 15:00", risk_level="high")],
        horizon=london("2026-04-03 00:00"),
    )
    due = {s.kind: s.due_at for s in specs}
    assert due["team_manager_notified"] == london("2026-04-07 15:00")  # 1 working day after Easter
    assert due["service_manager_notified"] == london("2026-04-08 15:00")
    assert "home_office_notified" not in due  # not former UASC


def test_care_leaver_weekly_reviews_stop_and_a_return_meeting_is_due_on_return():
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2004, 3, 1))
    specs = actions(
        leaver,
        [],
        [outcome("A1", "assessed_missing", "2026-05-01 10:00"), outcome("R1", "returned", "2026-05-20 10:00")],
    )
    assert [s.trigger_at for s in specs if s.kind == "weekly_review"] == [
        london("2026-05-08 10:00"),
        london("2026-05-15 10:00"),
    ]
    [meeting] = [s for s in specs if s.kind == "return_meeting"]
    # 5 working days from Wednesday 20 May: 21, 22, (weekend, Spring bank holiday 25th) 26, 27, 28 May.
    assert meeting.trigger_at == london("2026-05-20 10:00") and meeting.due_at == london("2026-05-28 10:00")


def test_a_second_assessment_while_still_missing_starts_no_second_schedule_or_return_meeting():
    """Assessed missing again on 4 May with no return between: the same missing period (Wokingham: reviewed
    weekly "while missing", a meeting "when care leavers cease to be missing"). Missing again after the return
    on 20 May is a new period with its own reviews."""
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2004, 3, 1))
    specs = actions(leaver, [], [
        outcome("A1", "assessed_missing", "2026-05-01 10:00"), outcome("A2", "assessed_missing", "2026-05-04 09:00"),
        outcome("R1", "returned", "2026-05-20 10:00"), outcome("A3", "assessed_missing", "2026-06-01 10:00"),
    ], horizon=london("2026-06-09 00:00"))
    assert [s.trigger_at for s in specs if s.kind == "weekly_review"] == [
        london("2026-05-08 10:00"), london("2026-05-15 10:00"), london("2026-06-08 10:00")]
    assert [s.trigger_at for s in specs if s.kind == "return_meeting"] == [london("2026-05-20 10:00")]


def test_care_leaver_steps_recorded_against_the_incident_close_the_assessments_actions():
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2004, 3, 1))
    specs = actions(leaver, [episode("EP-1", "2026-05-01 08:00", incident="I1")], [
        outcome("A1", "assessed_missing", "2026-05-01 10:00", incident="I1"),
        outcome("D1", "police_reported", "2026-05-01 12:00", incident="I1", by="PA"),
        outcome("D2", "team_manager_notified", "2026-05-02 09:00", incident="I1"),
    ], horizon=london("2026-05-02 00:00"))
    status = {s.kind: s.status for s in specs if s.rule_id.startswith("care_leaver.")}
    assert status == {"police_report": "done", "team_manager_notified": "done", "service_manager_notified": "open",
                      "management_oversight": "open", "risk_assessment": "open"}


def test_not_in_touch_asks_for_a_written_confirmation():
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2003, 3, 1))
    specs = actions(leaver, [], [outcome("N1", "assessed_not_in_touch", "2026-12-23 10:00")])
    [letter] = [s for s in specs if s.kind == "written_confirmation"]
    # Working days from Wednesday 23 December: 24, (Christmas Day, weekend, Boxing Day substitute Monday 28th)
    # 29, 30, 31 December, (New Year's Day, weekend) 4 January.
    assert letter.due_at == london("2027-01-04 10:00")


# --- UASC and care leavers missing long term (Surrey) ------------------------------------------------------------


def test_long_term_missing_uasc_schedule_from_day_one_to_month_twelve():
    kid = child("CH-U", uasc=True, dob=date(2010, 1, 1))
    specs = actions(kid, [episode("EP-U", "2026-01-10 12:00")], horizon=london("2027-02-01 00:00"))
    triggers = {s.key.split(":", 1)[1]: s.trigger_at for s in specs if s.rule_id.startswith("ltm.")}
    assert triggers["ltm.day1_intervention_meeting"] == london("2026-01-11 12:00")
    assert triggers["ltm.day1_nrm_referral"] == london("2026-01-11 12:00")
    assert triggers["ltm.day1_home_office"] == london("2026-01-11 12:00")
    assert triggers["ltm.week1_intervention_meeting"] == london("2026-01-17 12:00")
    assert triggers["ltm.week2_intervention_meeting"] == london("2026-01-24 12:00")
    assert triggers["ltm.week4_intervention_meeting"] == london("2026-02-07 12:00")
    monthly = sorted(v for k, v in triggers.items() if k.startswith("ltm.monthly_review"))
    assert monthly == [london(f"2026-{m:02d}-10 12:00") for m in (3, 4, 5, 6)]  # months 2-5: after 28 days, to 6
    # "Month 6 and then every 6 months": the Service Manager's brief audit and the long-term missing UASC panel are
    # two duties, each its own action with its own closing event.
    for rule in ("ltm.six_monthly_audit", "ltm.six_monthly_panel"):
        assert sorted(s.trigger_at for s in specs if s.rule_id == rule) == [london("2026-07-10 12:00"),
                                                                           london("2027-01-10 12:00")]
    assert triggers["ltm.month9_review"] == london("2026-10-10 12:00")
    assert triggers["ltm.month12_review"] == london("2027-01-10 12:00")


def test_long_term_schedule_closes_at_18():
    # 18 on 1 August 2026: the month 9 and month 12 reviews and later audits are not made.
    kid = child("CH-U", uasc=True, dob=date(2008, 8, 1))
    specs = actions(kid, [episode("EP-U", "2026-01-10 12:00")], horizon=london("2027-06-01 00:00"))
    rules = {s.rule_id for s in specs}
    assert "ltm.month9_review" not in rules and "ltm.month12_review" not in rules
    assert [s.trigger_at for s in specs if s.rule_id == "ltm.six_monthly_audit"] == [london("2026-07-10 12:00")]


def test_schedule_stops_when_the_child_is_found():
    kid = child("CH-U", uasc=True)
    specs = actions(kid, [episode("EP-U", "2026-01-10 12:00", found="2026-01-20 09:00")])
    rules = {s.rule_id for s in specs if s.rule_id.startswith("ltm.")}
    assert rules == {
        "ltm.day1_intervention_meeting",
        "ltm.day1_nrm_referral",
        "ltm.day1_home_office",
        "ltm.day1_cause_for_concern",
        "ltm.week1_intervention_meeting",
        "ltm.day1_duty_team_notified",
        "ltm.day1_escalation_considered",
        "ltm.day1_management_oversight",
        "ltm.day1_child_protection_mailbox",
        "ltm.daily_update_call",
    }
    # One daily call a day until found on day 10 (11 to 19 January), none after.
    assert len([s for s in specs if s.rule_id == "ltm.daily_update_call"]) == 9


def test_month_six_audit_and_panel_are_closed_by_their_own_events():
    kid = child("CH-U", uasc=True, dob=date(2010, 1, 1))
    done = [outcome("A1", "long_term_audit_done", "2026-07-12 10:00", incident="INC-EP-U")]
    specs = actions(kid, [episode("EP-U", "2026-01-10 12:00")], done, horizon=london("2026-08-01 00:00"))
    status = {s.rule_id: s.status for s in specs if s.rule_id.startswith("ltm.six_monthly")}
    assert status == {"ltm.six_monthly_audit": "done", "ltm.six_monthly_panel": "open"}
    panel = next(r for r in POLICY.rules if r.id == "ltm.six_monthly_panel")
    assert panel.actor.startswith("Assistant Director") and "Independent Reviewing Officer" in panel.recipients


# Surrey's schedule is about "unaccompanied asylum seeking children and care leavers": former UASC. A care leaver who
# was never UASC is not on it, and a care leaver is on it only once assessed missing, not merely out of touch
# (Wokingham: "discern whether a care leaver is missing as opposed to not maintaining contact").


def test_a_care_leaver_who_was_never_uasc_gets_no_home_office_or_nrm_action():
    leaver = child("CH-L", legal_status="care_leaver", uasc=False, dob=date(2005, 3, 1))
    eps = [episode("EP-L", "2026-05-04 09:00", incident="I-L")]
    specs = actions(leaver, eps, [outcome("A1", "assessed_missing", "2026-05-05 10:00", incident="I-L")])
    assert [s for s in specs if s.rule_id.startswith("ltm.")] == []
    assert [s for s in specs if s.kind in ("home_office_notified", "nrm_referral")] == []
    assert {s.rule_id for s in specs} >= {"care_leaver.police_report", "care_leaver.team_manager_3wd"}


def test_a_former_uasc_care_leaver_starts_surreys_schedule_when_assessed_missing():
    leaver = child("CH-L", legal_status="care_leaver", uasc=True, dob=date(2005, 3, 1))
    eps = [episode("EP-L", "2026-05-04 09:00", incident="I-L")]
    # Not yet assessed: out of touch is not missing, so no clock runs.
    assert [s for s in actions(leaver, eps) if s.rule_id.startswith("ltm.")] == []
    # Assessed missing Tuesday 5 May 10:00: "missing over 24 hours" counts from then, not from last seen.
    specs = actions(leaver, eps, [outcome("A1", "assessed_missing", "2026-05-05 10:00", incident="I-L")])
    [meeting] = by_rule(specs, "ltm.day1_intervention_meeting")
    assert meeting.trigger_at == london("2026-05-06 10:00")
    [week1] = by_rule(specs, "ltm.week1_intervention_meeting")
    assert week1.trigger_at == london("2026-05-12 10:00")


def test_a_looked_after_uasc_child_is_on_the_schedule_from_last_seen_without_an_assessment():
    kid = child("CH-U", legal_status="looked_after", uasc=True, dob=date(2010, 1, 1))
    [meeting] = by_rule(actions(kid, [episode("EP-U", "2026-05-04 09:00")]), "ltm.day1_intervention_meeting")
    assert meeting.trigger_at == london("2026-05-05 09:00")


def test_one_duty_one_action_when_wokingham_and_surrey_both_ask_for_the_home_office_notice():
    # A former-UASC care leaver, last seen Thursday 7 May, assessed missing Friday 8 May 10:00. Wokingham: Home
    # Office informed, due 1 working day later (Monday 11 May 10:00). Surrey: Home Office notified if still missing
    # over 24 hours (Saturday 9 May 10:00). One action, under Surrey's rule, naming both, due at the earlier time.
    leaver = child("CH-L", legal_status="care_leaver", uasc=True, dob=date(2005, 3, 1))
    eps = [episode("EP-L", "2026-05-07 21:00", incident="I-L")]
    assessed = outcome("A1", "assessed_missing", "2026-05-08 10:00", incident="I-L")
    specs = actions(leaver, eps, [assessed])
    [notice] = [s for s in specs if s.kind == "home_office_notified"]
    assert (notice.rule_id, notice.also_rule_ids) == ("ltm.day1_home_office", ("care_leaver.home_office",))
    assert notice.trigger_at == london("2026-05-08 10:00") and notice.due_at == london("2026-05-09 10:00")
    # Recording it once closes it for both rules.
    told = outcome("H1", "home_office_notified", "2026-05-08 16:00", incident="I-L")
    [closed] = [s for s in actions(leaver, eps, [assessed, told]) if s.kind == "home_office_notified"]
    assert closed.status == "done" and closed.done_at == london("2026-05-08 16:00")


def test_wokinghams_home_office_notice_stands_alone_when_surreys_rule_does_not_apply():
    # Assessed missing with no police episode: Surrey's "missing over 24 hours" has no episode to run on.
    leaver = child("CH-L", legal_status="care_leaver", uasc=True, dob=date(2005, 3, 1))
    specs = actions(leaver, [], [outcome("A1", "assessed_missing", "2026-05-08 10:00")])
    [notice] = [s for s in specs if s.kind == "home_office_notified"]
    assert (notice.rule_id, notice.also_rule_ids) == ("care_leaver.home_office", ())
    assert notice.due_at == london("2026-05-11 10:00")


@pytest.mark.parametrize(("target", "message"), [
    ("ltm.nope", "names no rule"),
    ("ltm.day1_nrm_referral", "is a nrm_referral, not a home_office_notified"),
])
def test_same_duty_as_must_name_a_rule_of_the_same_kind(tmp_path, target, message):
    text = (DATA_DIR / "policies" / "default.yaml").read_text()
    (tmp_path / "p.yaml").write_text(text.replace("same_duty_as: ltm.day1_home_office", f"same_duty_as: {target}"))
    with pytest.raises(PolicyError, match=message):
        load_policy(tmp_path / "p.yaml")


def test_a_policy_still_using_the_retired_surrey_scope_is_refused_with_what_to_write_instead(tmp_path):
    text = (DATA_DIR / "policies" / "default.yaml").read_text()
    old = text.replace("applies_to: {uasc: true, care_leaver_clock_from: assessed_missing}",
                       "applies_to: {uasc_or_care_leaver: true}", 1)
    (tmp_path / "old.yaml").write_text(old)
    with pytest.raises(PolicyError, match="care_leaver_clock_from: assessed_missing"):
        load_policy(tmp_path / "old.yaml")


# --- duties added from the seeds (issue 15) ---------------------------------------------------------------------


def test_the_return_interview_worker_is_invited_to_every_strategy_meeting():
    # Wakefield s8: "The worker who has undertaken the Return Interviews for the child should always be invited".
    eps = [episode("EP-1", "2026-01-10 12:00", risk=(("2026-01-10 13:00", "high"),))]
    meetings = [s for s in actions(child(), eps) if s.kind == "strategy_meeting"]
    assert {s.rule_id for s in meetings} == {"strategy.missing_24h", "strategy.missing_72h", "strategy.high_risk"}
    assert all("Return Home Interview worker" in s.recipients for s in meetings)


def test_an_absent_child_graded_high_risk_asks_for_a_joint_strategy_with_the_police():
    # Wakefield s3: whereabouts known but at risk - a joint strategy agreed; a missing child gets the meeting instead.
    absent = episode("EP-A", "2026-02-03 16:00", kind="absent", risk=(("2026-02-03 17:30", "high"),))
    [joint] = [s for s in actions(child(), [absent]) if s.kind == "joint_strategy_discussion"]
    assert joint.trigger_at == london("2026-02-03 17:30") and joint.due_at == london("2026-02-04 17:30")
    assert joint.recipients == ("Police",)
    missing = episode("EP-M", "2026-02-03 16:00", risk=(("2026-02-03 17:30", "high"),))
    assert [s for s in actions(child(), [missing]) if s.kind == "joint_strategy_discussion"] == []


def test_a_declined_interview_is_handed_to_the_social_worker_within_5_working_days_over_christmas():
    # Wolverhampton 3.9: "Only if a young person cannot be contacted / does not engage ... allocated to a social
    # worker". Declined Thursday 24 December 2026: Christmas Day, the weekend, the Boxing Day substitute Monday 28th,
    # then 29, 30, 31 December, New Year's Day and the weekend, 4 and 5 January.
    eps = [episode("EP-1", "2026-12-22 10:00", found="2026-12-23 09:00", incident="I1")]
    specs = actions(child(), eps, [outcome("D1", "rhi_declined", "2026-12-24 10:00", incident="I1")])
    [visit] = by_rule(specs, "rhi.handover_to_social_worker")
    assert visit.kind == "social_worker_visit" and visit.actor == "Social Worker"
    assert visit.due_at == london("2027-01-05 10:00")
    made = outcome("V1", "social_worker_visit_made", "2026-12-30 15:00", incident="I1")
    [closed] = by_rule(actions(child(), eps, [outcome("D1", "rhi_declined", "2026-12-24 10:00", incident="I1"),
                                              made]), "rhi.handover_to_social_worker")
    assert closed.status == "done"


def test_on_return_a_wellbeing_check_within_a_day_and_a_prevention_plan_within_5_working_days():
    # Lilac Alliance s6: "conduct an assessment of their well-being"; "a debriefing session ... to develop a plan
    # to prevent future incidents". Found Friday 15 May 2026 22:00, the police tell us at 23:00.
    eps = [episode("EP-1", "2026-05-15 18:00", found="2026-05-15 22:00", notified="2026-05-15 23:00")]
    specs = actions(child(), eps)
    [check] = by_rule(specs, "return.wellbeing_check")
    [plan] = by_rule(specs, "return.prevention_plan")
    assert check.due_at == london("2026-05-16 23:00")
    assert plan.due_at == london("2026-05-22 23:00")  # Friday to Friday: five working days


def test_a_care_leaver_assessed_missing_gets_oversight_a_risk_assessment_and_managers_told_on_return():
    # Wokingham: the assessment "recorded as a management oversight ... reviewed and updated on a proportionate
    # basis"; "their Personal Advisor should complete a risk assessment"; "Personal Advisors will inform their team
    # manager and in turn the Service Manager when a care leaver ceases to be missing". Assessed Thursday 2 April
    # 2026 (Good Friday and Easter Monday follow), back on Monday 20 April.
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2003, 3, 1))
    events = [outcome("A1", "assessed_missing", "2026-04-02 15:00"), outcome("R1", "returned", "2026-04-20 11:00")]
    specs = actions(leaver, [], events)
    [oversight] = by_rule(specs, "care_leaver.missing_oversight")
    [risk] = by_rule(specs, "care_leaver.risk_assessment")
    reviews = by_rule(specs, "care_leaver.oversight_review")
    [told] = by_rule(specs, "care_leaver.managers_told_of_return")
    assert oversight.due_at == london("2026-04-07 15:00")  # 1 working day: Tuesday after Easter
    assert risk.due_at == london("2026-04-08 15:00")
    assert [r.trigger_at for r in reviews] == [london("2026-04-16 15:00")]  # fortnightly until the return
    assert told.trigger_at == london("2026-04-20 11:00") and told.due_at == london("2026-04-21 11:00")


def test_not_in_touch_asks_the_manager_to_scrutinise_the_plan_to_stop_contact():
    leaver = child("CH-L", legal_status="care_leaver", dob=date(2003, 3, 1))
    specs = actions(leaver, [], [outcome("N1", "assessed_not_in_touch", "2026-06-01 10:00")])
    [oversight] = by_rule(specs, "care_leaver.not_in_touch_oversight")
    assert oversight.kind == "management_oversight" and oversight.due_at == london("2026-06-08 10:00")


def test_surreys_first_day_duties_for_a_uasc_child_missing_from_monday_noon():
    kid = child("CH-U", uasc=True, dob=date(2010, 1, 1))
    specs = actions(kid, [episode("EP-U", "2026-05-11 12:00")], horizon=london("2026-07-01 00:00"))
    [told] = by_rule(specs, "ltm.day1_duty_team_notified")
    assert told.trigger_at == london("2026-05-11 12:00") and told.due_at == london("2026-05-11 14:00")
    assert told.recipients == ("Social Worker", "Emergency Duty Team")
    for rule in ("ltm.day1_escalation_considered", "ltm.day1_management_oversight",
                 "ltm.day1_child_protection_mailbox"):
        [spec] = by_rule(specs, rule)
        assert spec.trigger_at == london("2026-05-12 12:00"), rule
    calls = by_rule(specs, "ltm.daily_update_call")
    assert [c.trigger_at for c in calls] == [london(f"2026-{5 + (11 + d > 31):02d}-{(11 + d - 1) % 31 + 1:02d} 12:00")
                                            for d in range(1, 28)]  # every day from day 1 to day 27
    found = actions(kid, [episode("EP-U", "2026-05-11 12:00", found="2026-05-14 10:00")])
    assert len(by_rule(found, "ltm.daily_update_call")) == 2  # 12 and 13 May; found before the third


def test_a_trafficking_risk_tells_the_director_within_hours_not_at_24():
    # Surrey: "Director to be notified if an Unaccompanied Asylum Seeking Child/Care Leaver is at risk of
    # trafficking and/or has been missing for over 24 hours".
    kid = child("CH-U", uasc=True, dob=date(2010, 1, 1))
    eps = [episode("EP-U", "2026-05-11 12:00", incident="I-U")]
    risk = outcome("T1", "trafficking_risk_identified", "2026-05-11 15:00", incident="I-U")
    [notice] = by_rule(actions(kid, eps, [risk]), "ltm.trafficking_risk_director")
    assert notice.due_at == london("2026-05-11 17:00") and notice.recipients == ("Director for Corporate Parenting",)
    assert by_rule(actions(child(uasc=False), eps, [risk]), "ltm.trafficking_risk_director") == []


def test_the_immigration_solicitor_is_told_only_where_the_child_has_one():
    # Surrey: "If the child/care leaver has an immigration and asylum solicitor, they should be notified".
    eps = [episode("EP-U", "2026-05-11 12:00")]
    with_one = child("CH-U", uasc=True, dob=date(2010, 1, 1), solicitor=True)
    [notice] = by_rule(actions(with_one, eps), "ltm.day1_solicitor_notified")
    assert notice.trigger_at == london("2026-05-12 12:00") and notice.actor == "Social Worker"
    assert by_rule(actions(child("CH-V", uasc=True, dob=date(2010, 1, 1)), eps), "ltm.day1_solicitor_notified") == []


def test_lac_reviews_every_three_months_while_missing_until_18():
    kid = child("CH-U", uasc=True, dob=date(2009, 1, 20))  # 18 on 20 January 2027
    specs = actions(kid, [episode("EP-U", "2026-03-10 12:00")], horizon=london("2027-06-01 00:00"))
    assert [s.trigger_at for s in by_rule(specs, "ltm.lac_review")] == [
        london("2026-06-10 12:00"), london("2026-09-10 12:00"), london("2026-12-10 12:00")]


def test_at_18_still_missing_the_police_are_asked_to_list_a_missing_adult():
    # Surrey: "Request that Police place the missing care leaver as an adult on missing persons website".
    kid = child("CH-U", uasc=True, dob=date(2008, 8, 1))
    [listing] = by_rule(actions(kid, [episode("EP-U", "2026-06-01 12:00")]), "ltm.missing_adult_at_18")
    assert listing.kind == "police_report" and listing.trigger_at == london("2026-08-01 00:00")
    back = actions(kid, [episode("EP-U", "2026-06-01 12:00", found="2026-07-20 09:00")])
    assert by_rule(back, "ltm.missing_adult_at_18") == []
    adult = child("CH-A", uasc=True, dob=date(2007, 8, 1))  # already 18 when the episode began
    assert by_rule(actions(adult, [episode("EP-A", "2026-06-01 12:00")]), "ltm.missing_adult_at_18") == []


def test_children_placed_here_by_another_authority_get_no_actions_from_us():
    specs = actions(child(), [episode("EP-1", "2026-01-10 12:00", other_authority=True)])
    assert specs == []


# --- policy as data ------------------------------------------------------------------------------------------


def test_an_authority_changes_a_threshold_in_its_policy_file_without_a_release(tmp_path):
    text = (DATA_DIR / "policies" / "default.yaml").read_text()
    changed = text.replace(
        "trigger: {type: missing_for, after: {hours: 24}}\n    applies_to: {episode_kinds: "
        "[missing], under_18: true}\n    actor: Team Manager",
        "trigger: {type: missing_for, after: {hours: 12}}\n    applies_to: {episode_kinds: "
        "[missing], under_18: true}\n    actor: Team Manager",
        1,
    ).replace('version: "2026.12"', 'version: "2026.12-northby"')
    assert changed != text
    (tmp_path / "northby.yaml").write_text(changed)
    northby = load_policy(tmp_path / "northby.yaml")
    [spec] = by_rule(actions(child(), [episode("EP-1", "2026-01-10 12:00")], policy=northby), "strategy.missing_24h")
    assert spec.due_at == london("2026-01-11 00:00") and spec.policy_version == "2026.12-northby"


@pytest.mark.parametrize("horizon_days", [1, 30])
def test_evaluating_twice_gives_the_same_keys(horizon_days):
    eps = [episode("EP-1", "2026-01-10 12:00")]
    first = actions(child(uasc=True), eps)
    assert first == actions(child(uasc=True), eps)
    assert len({s.key for s in first}) == len(first)
