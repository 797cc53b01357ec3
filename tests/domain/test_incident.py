"""The incident record (Lilac Alliance s5) and the checks around it, tested from the seeds' sentences.

* "Parents, guardians, social care teams and EDT will be promptly informed": two actions when a child in care goes
  missing (parents or guardians; the social care team, the EDT out of hours), due 2 hours after last seen by
  default, closed by who was told; each telling is an entry of the incident record.
* "Who has been updated with any information that has been obtained or shared": the service's own updates are
  entries of their own, apart from the police's updates.
* Wokingham: "These actions should be recorded clearly with the relevant name and contact number/details of those
  spoken to": a police report or Home Office notice recorded without them is quarantined naming the field.
* Wakefield s5: before the interview is signed off, the strategy meeting its episode called for, or management
  oversight on why none was needed, is checked; if neither is on record an action is raised.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from missing_episodes import bulk
from missing_episodes.clock import as_london
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, ContactLog, Episode, Quarantine
from missing_episodes.documents.forms import build_serious_notification
from missing_episodes.documents.incident import build_incident_record
from missing_episodes.documents.render import render_incident_record, render_serious_notification
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.policy import load_policy, parse_policy
from missing_episodes.rules import evaluate_child
from missing_episodes.sources import RawRow
from tests.builders.facts import bulk_facts, child, episode, london, outcome

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
FAR = london("2030-01-01 00:00")
INFORMED = ("incident.parents_informed", "incident.social_care_informed")


def actions(kid, episodes, outcomes=(), policy=POLICY):
    return evaluate_child(policy, kid, list(episodes), list(outcomes), FAR)


def by_rule(specs, rule_id):
    return [s for s in specs if s.rule_id == rule_id or rule_id in s.also_rule_ids]


# --- "Parents, guardians, social care teams and EDT will be promptly informed" -----------------------------------


def test_a_child_in_care_missing_needs_parents_and_social_care_told_within_2_hours_closed_by_who_was_told():
    # Last seen Sunday 25 October 2026 00:30 BST; the clocks go back at 02:00 BST, so 2 real hours later is 01:30
    # GMT (a naive local +2 h would say 02:30).
    missing = episode("EP-1", "2026-10-25 00:30", found="2026-10-25 09:00", incident="I1")
    specs = actions(child(), [missing], [
        outcome("O1", "guardian_informed", "2026-10-25 00:50", incident="I1"),
        outcome("O2", "edt_informed", "2026-10-25 01:15", incident="I1"),  # out of hours: the EDT
    ])
    [parents] = by_rule(specs, "incident.parents_informed")
    [social_care] = by_rule(specs, "incident.social_care_informed")
    assert parents.kind == "parents_informed" and social_care.kind == "duty_team_notified"
    assert parents.trigger_at == london("2026-10-25 00:30")
    assert parents.due_at == social_care.due_at == parents.trigger_at + timedelta(hours=2)
    assert as_london(parents.due_at).strftime("%H:%M %Z") == "01:30 GMT"
    assert (parents.status, parents.done_at) == ("done", london("2026-10-25 00:50"))
    assert (social_care.status, social_care.done_at) == ("done", london("2026-10-25 01:15"))
    assert social_care.recipients == ("Social Worker", "Emergency Duty Team")


def test_no_one_to_tell_for_an_absence_or_a_child_not_in_care_and_untold_stays_open():
    absent = episode("EP-A", "2026-06-01 10:00", kind="absent")
    assert not [s for s in actions(child(), [absent]) if s.rule_id in INFORMED]
    missing = episode("EP-M", "2026-06-01 10:00")
    assert not [s for s in actions(child(legal_status="child_in_need"), [missing]) if s.rule_id in INFORMED]
    # A parent told closes the parents' action only: social care is still to be told.
    specs = actions(child(), [missing], [outcome("O1", "parent_informed", "2026-06-01 10:30", incident="INC-EP-M")])
    assert [s.status for s in by_rule(specs, "incident.parents_informed")] == ["done"]
    assert [s.status for s in by_rule(specs, "incident.social_care_informed")] == ["open"]


def test_an_unaccompanied_child_has_one_duty_team_action_for_lilac_and_surrey():
    specs = actions(child(uasc=True), [episode("EP-U", "2026-06-01 10:00", incident="IU")],
                    [outcome("O1", "social_care_informed", "2026-06-01 11:00", incident="IU")])
    [told] = [s for s in specs if s.kind == "duty_team_notified"]
    assert (told.rule_id, told.also_rule_ids) == ("ltm.day1_duty_team_notified", ("incident.social_care_informed",))
    assert told.status == "done"


@pytest.mark.parametrize("legal_status", ["looked_after", "child_in_need"])
def test_the_bulk_path_tells_the_same_parties_on_columns(legal_status: str):
    # Rules scoped by legal status stay on columns: a backlog of children in care is not evaluated one by one.
    person = child(legal_status=legal_status)
    episodes = [episode("EP-1", "2026-06-01 10:00", found="2026-06-01 20:00"), episode("EP-2", "2026-06-05 10:00")]
    assert bulk.fallback_children(POLICY, bulk_facts(person, episodes)) == set()
    specs = actions(person, episodes)
    assert bulk.evaluate_bulk(POLICY, bulk_facts(person, episodes), FAR) == {1: specs}
    assert len([s for s in specs if s.rule_id in INFORMED]) == (4 if legal_status == "looked_after" else 0)


def test_promptly_is_the_policys_to_set():
    data = POLICY.model_dump(mode="json")
    for rule in data["rules"]:
        if rule["id"] in INFORMED:
            rule["due"] = {"hours": 1}
    quicker = parse_policy(data)
    specs = actions(child(), [episode("EP-1", "2026-06-01 10:00")], policy=quicker)
    assert {s.due_at for s in specs if s.rule_id in INFORMED} == {london("2026-06-01 11:00")}


# --- Wakefield s5: the interview's sign-off checks the strategy meeting or the oversight --------------------------


def _long_missing() -> list:
    # Missing 30 hours (the 24-hour strategy meeting fires on Tuesday 2 June 16:00), found, the interview Thursday.
    return [episode("EP-S", "2026-06-01 16:00", found="2026-06-02 22:00", incident="IS")]


def test_an_interview_signed_off_with_no_meeting_and_no_oversight_raises_the_enquiry():
    specs = actions(child(), _long_missing(), [outcome("R", "rhi_completed", "2026-06-04 10:00", incident="IS")])
    [check] = by_rule(specs, "rhi.strategy_check")
    assert (check.kind, check.status, check.actor) == ("management_oversight", "open", "Team Manager")
    assert check.trigger_at == london("2026-06-04 10:00") and check.due_at == london("2026-06-05 10:00")
    assert check.recipients == ("Service Manager",)  # "any disagreement ... raised with the Service Managers"
    assert by_rule(specs, "rhi.within_72h_of_return")[0].status == "done"  # the interview itself stays done


@pytest.mark.parametrize("answer", ["strategy_meeting_held", "management_oversight_recorded"])
def test_no_enquiry_when_the_meeting_or_the_oversight_is_on_record_before_the_sign_off(answer: str):
    answered = outcome("A", answer, "2026-06-03 09:00", incident="IS")
    specs = actions(child(), _long_missing(), [answered, outcome("R", "rhi_completed", "2026-06-04 10:00",
                                                                incident="IS")])
    assert by_rule(specs, "rhi.strategy_check") == []


def test_no_enquiry_when_the_episode_called_for_no_meeting():
    short = episode("EP-Q", "2026-06-01 16:00", found="2026-06-01 22:00", incident="IQ")
    specs = actions(child(), [short], [outcome("R", "rhi_completed", "2026-06-03 10:00", incident="IQ")])
    assert by_rule(specs, "rhi.strategy_check") == []


def test_a_strategy_discussion_the_interview_itself_raised_is_not_a_requirement_to_check():
    """Harm found at the interview raises a strategy discussion at the interview's own time: that is the
    interviewer's finding, not a meeting the episode called for before the sign-off, so no enquiry."""
    short = episode("EP-Q", "2026-06-01 16:00", found="2026-06-01 22:00", incident="IQ")
    specs = actions(child(), [short], [outcome("R", "rhi_completed", "2026-06-03 10:00", incident="IQ"),
                                       outcome("H", "rhi_finding_harm_or_exploitation", "2026-06-03 10:00",
                                               incident="IQ")])
    [discussion] = by_rule(specs, "rhi_findings.strategy_discussion")
    assert (discussion.kind, discussion.trigger_at) == ("strategy_meeting", london("2026-06-03 10:00"))
    assert by_rule(specs, "rhi.strategy_check") == []


def test_the_meeting_recorded_after_the_sign_off_closes_the_enquiry_and_the_meeting_alike():
    specs = actions(child(), _long_missing(), [
        outcome("R", "rhi_completed", "2026-06-04 10:00", incident="IS"),
        outcome("M", "strategy_meeting_not_required", "2026-06-04 15:00", incident="IS", rationale="Returned safe"),
    ])
    [check] = by_rule(specs, "rhi.strategy_check")
    [meeting] = by_rule(specs, "strategy.missing_24h")
    assert check.status == "done" and meeting.status == "not_required"


# --- the contact log: who was informed, contacted and updated, with contact details -----------------------------


def _row(number: int, event_id: str, at: str, event: str, **fields: str) -> RawRow:
    return RawRow("case-management", number, {"event_id": event_id, "recorded_at": at, "child_id": "P000901",
                                              "incident_ref": "KBP-2026-000901", "event": event,
                                              "by": "Alex Carer", **fields})


@pytest.fixture
def recorded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A child in care missing Monday 2 November 2026 19:00, with what the home and the service recorded."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-03T08:30:00")
    ingest_records("children", [RawRow("register", 1, {
        "child_id": "P000901", "first_name": "Robin", "last_name": "Example", "date_of_birth": "2011-03-04",
        "legal_status": "looked_after", "responsible_authority": "Kingsbridge",
        "likely_locations": "Kingsbridge bus station; his aunt's in Eastbrook"})], "register")
    ingest_records("notifications", [RawRow("police", 1, {
        "notification_id": "M-901", "sent_at": "2026-11-02T20:00:00", "event": "missing",
        "incident_ref": "KBP-2026-000901", "child_id": "P000901", "last_seen_at": "2026-11-02T19:00:00",
        "risk_level": "medium", "responsible_authority": "Kingsbridge"}), RawRow("police", 2, {
        "notification_id": "U-901", "sent_at": "2026-11-02T23:00:00", "event": "update",
        "incident_ref": "KBP-2026-000901", "child_id": "P000901", "notes": "CCTV shows him at the station"})],
        "police")
    summary = ingest_records("outcomes", [
        _row(1, "C-1", "2026-11-02T19:40:00", "parent_informed", who="Mrs Example (mother)",
             contact="07700 900 123", notes="Told of the search; asked to ring if Robin gets in touch"),
        _row(2, "C-2", "2026-11-02T20:10:00", "edt_informed", who="EDT duty officer"),
        _row(3, "C-3", "2026-11-02T21:00:00", "contact_made", who="Jamie (friend)", contact="07700 900 456",
             notes="Has not seen Robin since school"),
        _row(4, "C-4", "2026-11-02T22:00:00", "update_given", who="Mrs Example (mother)",
             notes="Friend has not seen him; police searching the station"),
        _row(5, "C-5", "2026-11-02T22:30:00", "police_reported", who="PC Shaw"),  # no contact number: refused
    ], "case-management")
    assert (summary.new, summary.quarantined) == (4, 1)
    review_next_batch(100)
    return db_url


def test_who_was_informed_contacted_and_updated_are_entries_of_the_incident_record(recorded: str) -> None:
    with session_scope(recorded) as session:
        quarantined = session.scalars(select(Quarantine)).one()
        assert (quarantined.field, quarantined.reason) == (
            "contact", "police_reported needs the name and contact number/details of who was spoken to (who, contact)")
        log = session.execute(select(ContactLog.direction, ContactLog.event, ContactLog.who, ContactLog.contact)
                              .where(ContactLog.event.is_not(None)).order_by(ContactLog.at)).all()
        assert [tuple(row) for row in log] == [
            ("informed", "parent_informed", "Mrs Example (mother)", "07700 900 123"),
            ("informed", "edt_informed", "EDT duty officer", None),
            ("contacted", "contact_made", "Jamie (friend)", "07700 900 456"),
            ("updated", "update_given", "Mrs Example (mother)", None),  # who was updated, not who recorded it
        ]
        statuses = dict(session.execute(select(Action.rule_id, Action.status)
                                        .where(Action.rule_id.in_(INFORMED))).all())
        assert statuses == {"incident.parents_informed": "done", "incident.social_care_informed": "done"}
        ref = session.scalar(select(Episode.ref))
        record = build_incident_record(session, ref, POLICY, as_of=london("2026-11-03 08:30"))
    told = {i.party: (i.entry.who if i.entry else None) for i in record.informed}
    assert told == {"parent": "Mrs Example (mother)", "guardian": None, "social care team": None,
                    "Emergency Duty Team": "EDT duty officer"}
    assert [e.who for e in record.contacted] == ["Jamie (friend)"]
    assert [(e.who, e.kind) for e in record.updated] == [("Mrs Example (mother)", "Updated by the service")]
    assert [e.kind for e in record.police_updates] == ["Police update"]
    assert [r.level for r in record.risk_history] == ["medium"]  # "A risk assessment will be conducted"
    assert {a.title for a in record.actions} >= {POLICY.rule(r).title for r in INFORMED}


def test_the_incident_record_and_the_serious_notification_show_who_and_how_to_reach_them(recorded: str,
                                                                                         tmp_path) -> None:
    with session_scope(recorded) as session:
        ref = session.scalar(select(Episode.ref))
        record = build_incident_record(session, ref, POLICY, as_of=london("2026-11-03 08:30"))
        form = build_serious_notification(session, ref, POLICY, rule_id="serious.missing_72h",
                                          as_of=london("2026-11-03 08:30"))
    html = render_incident_record(record, tmp_path)[0].read_text(encoding="utf-8")
    for words in ("Parents, guardians, social care and EDT informed", "Who has been contacted",
                  "Who has been updated", "Jamie (friend)", "07700 900 456", "Mrs Example (mother) · 07700 900 123",
                  "not recorded", "Time police contacted", "CCTV shows him at the station",
                  "Kingsbridge bus station; his aunt&#39;s in Eastbrook"):
        assert words in html, words
    assert html.index("Who has been updated") < html.index("Updated by the service") < html.index(
        "Updates from the police")
    notification = render_serious_notification(form, tmp_path)[0].read_text(encoding="utf-8")
    assert "07700 900 123" in notification and "Informed: Emergency Duty Team" in notification


def test_the_incident_record_of_an_unknown_episode_names_the_ref_only(recorded: str) -> None:
    from missing_episodes.documents import DocumentError

    with session_scope(recorded) as session, pytest.raises(DocumentError, match=r"^no episode EP-000000000000$"):
        build_incident_record(session, "EP-000000000000", POLICY)


def test_a_care_leavers_police_report_with_who_and_contact_closes_and_is_logged(recorded: str) -> None:
    ingest_records("children", [RawRow("register", 2, {
        "child_id": "P000902", "first_name": "Kit", "last_name": "Leaver", "date_of_birth": date(2004, 5, 6)
        .isoformat(), "legal_status": "care_leaver", "responsible_authority": "Kingsbridge"})], "register")
    ingest_records("outcomes", [
        RawRow("case-management", 1, {"event_id": "L-1", "recorded_at": "2026-11-02T10:00:00", "child_id": "P000902",
                                      "event": "assessed_missing", "by": "Jo Barker"}),
        RawRow("case-management", 2, {"event_id": "L-2", "recorded_at": "2026-11-02T15:00:00", "child_id": "P000902",
                                      "event": "police_reported", "by": "Jo Barker",
                                      "who": "PC Dana Shaw, Missing Persons Unit", "contact": "01632 960 555"}),
    ], "case-management")
    review_next_batch(100)
    with session_scope(recorded) as session:
        status = session.scalar(select(Action.status).where(Action.rule_id == "care_leaver.police_report"))
        logged = session.execute(select(ContactLog.who, ContactLog.contact, ContactLog.recorded_by)
                                 .where(ContactLog.event == "police_reported")).one()
    assert status == "done"
    assert tuple(logged) == ("PC Dana Shaw, Missing Persons Unit", "01632 960 555", "Jo Barker")
