"""Duties that come in through the feeds (issue 15), each written from its seed's sentence: given these messages at
these times, these actions fall due at these times, and these figures count them apart.

* Surrey: "Director to be notified if an Unaccompanied Asylum Seeking Child/Care Leaver is at risk of trafficking":
  the police feed's ``trafficking_risk`` flag raises the Director's notice, as the service's own record does.
* Wolverhampton 3.13: "distinguising the difference between missing episodes from those missing from curfew":
  the police's ``curfew`` event is an episode of its own kind, with none of a missing episode's duties, counted
  apart on the board and in no return.
* Wakefield s2: "Hidden missing child ... A child who is or has been missing, but has not been reported to the
  police": a case event, with the report to the police it calls for (s3) and the interview on return (s6).
* Wakefield s9: "carer should ensure that they alert Wakefield (EDT if out of hours)": a carer's or provider's
  report is a notification source of its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from missing_episodes import bulk
from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Episode, Quarantine
from missing_episodes.documents.briefing import build_briefing
from missing_episodes.episodes import Message, fold
from missing_episodes.feeds import validate_row
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import pending_reviews, review_children
from missing_episodes.policy import load_policy
from missing_episodes.reports.figures import board_figures
from missing_episodes.reports.periods import collection_year
from missing_episodes.reports.records import load_records
from missing_episodes.reports.ssda903 import build_return
from missing_episodes.rules import evaluate_child
from tests.builders.facts import child, episode, london, outcome
from tests.builders.feeds import message, write_csv

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
FAR = london("2030-01-01 00:00")
DIRECTOR = "ltm.trafficking_risk_director"


def register_row(person: str, **fields: str) -> dict[str, str]:
    return {"child_id": person, "first_name": "Test", "last_name": person, "date_of_birth": "2010-01-01",
            "legal_status": "looked_after", "uasc": "no", "responsible_authority": "Kingsbridge", **fields}


def load(url, monkeypatch, tmp_path, *, children, notifications=(), outcomes=(), source="police") -> Context:
    """The register, the notifications (under ``source``) and the case events through the real ingest, then the
    rules for every child they changed."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    context = Context(Settings(), POLICY)
    ingest_path("children", write_csv(tmp_path / "children.csv", list(children)), "register", context)
    if notifications:
        ingest_path("notifications", write_csv(tmp_path / "n.csv", list(notifications)), source, context)
    if outcomes:
        ingest_path("outcomes", write_csv(tmp_path / "o.csv", list(outcomes)), "case-management", context)
    review_children([item.child_ref for item in pending_reviews(context=context)], context)
    return context


def stored(url: str, rule_id: str) -> list[Action]:
    with session_scope(url) as session:
        return list(session.scalars(select(Action).where(Action.rule_id == rule_id).order_by(Action.trigger_at)))


def case_event(event_id: str, at: str, person: str, event: str, **fields: str) -> dict[str, str]:
    return {"event_id": event_id, "recorded_at": at, "child_id": person, "event": event, "by": "A. Worker",
            "rationale": "", "incident_ref": "", **fields}


# --- Surrey: the police's trafficking flag ----------------------------------------------------------------------

UASC = register_row("P000950", uasc="yes")
MISSING_MONDAY = message("N1", "2026-05-11T12:30:00", "missing", "KBP-2026-000950", child_id="P000950",
                         last_seen_at="2026-05-11T12:00:00", risk_level="medium")
FLAGGED_AT_3 = message("N2", "2026-05-11T15:00:00", "update", "KBP-2026-000950", trafficking_risk="yes")


def test_the_police_feeds_trafficking_flag_tells_the_director_within_two_hours(db_url, monkeypatch, tmp_path):
    # Missing from Monday 11 May 2026 12:00; at 15:00 the police flag a risk of trafficking. Surrey: the Director is
    # told now (the policy gives 2 hours: by 17:00), not at 24 hours. The service's own record of the same risk at
    # 16:00 is the same news: still one notice, still due at 17:00.
    load(db_url, monkeypatch, tmp_path, children=[UASC], notifications=[MISSING_MONDAY, FLAGGED_AT_3],
         outcomes=[case_event("T1", "2026-05-11T16:00:00", "P000950", "trafficking_risk_identified",
                              incident_ref="KBP-2026-000950")])
    [notice] = stored(db_url, DIRECTOR)
    assert (notice.trigger_at, notice.due_at) == (london("2026-05-11 15:00"), london("2026-05-11 17:00"))
    assert notice.kind == "serious_notification" and notice.actor == "Assistant Director"
    with session_scope(db_url) as session:
        [flagged] = session.scalars(select(Episode))
        assert flagged.trafficking_risk_at == london("2026-05-11 15:00")
        backlog = bulk.evaluate_bulk(POLICY, bulk.load_facts(session), FAR)  # the backlog path says the same
    assert [(s.key, s.due_at) for specs in backlog.values() for s in specs if s.rule_id == DIRECTOR] == [
        (notice.key, notice.due_at)]


def test_a_risk_recorded_before_the_police_flag_keeps_its_earlier_clock(sqlite_url, monkeypatch, tmp_path):
    load(sqlite_url, monkeypatch, tmp_path, children=[UASC], notifications=[MISSING_MONDAY, FLAGGED_AT_3],
         outcomes=[case_event("T1", "2026-05-11T14:00:00", "P000950", "trafficking_risk_identified",
                              incident_ref="KBP-2026-000950")])
    [notice] = stored(sqlite_url, DIRECTOR)
    assert notice.due_at == london("2026-05-11 16:00")


def test_no_flag_or_a_flag_saying_no_raises_nothing_and_a_child_not_uasc_is_not_on_surreys_schedule(
        sqlite_url, monkeypatch, tmp_path):
    said_no = dict(FLAGGED_AT_3, trafficking_risk="no")
    other = register_row("P000951")
    flagged_other = [dict(MISSING_MONDAY, notification_id="N3", incident_ref="KBP-2026-000951", child_id="P000951"),
                     dict(FLAGGED_AT_3, notification_id="N4", incident_ref="KBP-2026-000951")]
    load(sqlite_url, monkeypatch, tmp_path, children=[UASC, other],
         notifications=[MISSING_MONDAY, said_no, *flagged_other])
    assert stored(sqlite_url, DIRECTOR) == []


def test_a_trafficking_flag_that_is_not_yes_or_no_is_the_rows_fault_named():
    problem = validate_row("notifications", dict(FLAGGED_AT_3, trafficking_risk="maybe"))
    assert (problem.field, problem.reason) == ("trafficking_risk", "trafficking_risk must be yes or no, not 'maybe'")


# --- Wolverhampton: missing from curfew --------------------------------------------------------------------------


def _fold(*rows: dict[str, str]):
    return fold([Message(i, validate_row("notifications", row)) for i, row in enumerate(rows)])


def test_missing_from_curfew_is_an_episode_kind_of_its_own_unless_the_police_also_say_missing():
    curfew = message("C1", "2026-06-05T23:30:00", "curfew", "KBP-2026-000960", child_id="P000960",
                     last_seen_at="2026-06-05T21:00:00")
    found = message("C2", "2026-06-06T02:00:00", "found", "KBP-2026-000960", found_at="2026-06-06T01:40:00")
    state = _fold(curfew, found)
    assert (state.kind, state.status, state.started_at) == ("curfew", "returned", london("2026-06-05 21:00"))
    missing = message("C3", "2026-06-06T00:30:00", "missing", "KBP-2026-000960", child_id="P000960",
                      last_seen_at="2026-06-05T21:00:00")
    assert _fold(found, missing, curfew).kind == "missing"  # the police's own risk assessment made it missing
    problem = validate_row("notifications", dict(curfew, last_seen_at=""))
    assert problem.field == "last_seen_at"


def test_missing_from_curfew_raises_none_of_a_missing_episodes_duties():
    # Out past curfew from Friday 21:00, back Monday 09:00 (60 hours): as a missing episode, an interview, two
    # strategy meetings and the carer's checks; as missing from curfew, none of them.
    kid = child(uasc=True, dob=date(2010, 1, 1))
    as_missing = evaluate_child(POLICY, kid, [episode("EP-M", "2026-06-05 21:00", found="2026-06-08 09:00")], [],
                                FAR)
    assert {"rhi.within_72h_of_return", "strategy.missing_24h", "ltm.day1_duty_team_notified"} <= {
        spec.rule_id for spec in as_missing}
    as_curfew = evaluate_child(
        POLICY, kid, [episode("EP-C", "2026-06-05 21:00", found="2026-06-08 09:00", kind="curfew")], [], FAR)
    assert as_curfew == []


def test_curfew_is_counted_apart_on_the_board_and_is_in_no_return(sqlite_url, monkeypatch, tmp_path):
    kid = register_row("P000960")
    feed = [
        message("C1", "2026-06-05T23:30:00", "curfew", "KBP-2026-000960", child_id="P000960",
                last_seen_at="2026-06-05T21:00:00"),
        message("C2", "2026-06-06T02:00:00", "found", "KBP-2026-000960", found_at="2026-06-06T01:40:00"),
        message("M1", "2026-07-01T22:00:00", "missing", "KBP-2026-000961", child_id="P000960",
                last_seen_at="2026-07-01T20:00:00"),
        message("M2", "2026-07-02T09:00:00", "found", "KBP-2026-000961", found_at="2026-07-02T08:00:00"),
    ]
    load(sqlite_url, monkeypatch, tmp_path, children=[kid], notifications=feed)
    with session_scope(sqlite_url) as session:
        records = load_records(session, datetime(2027, 4, 2, 9, tzinfo=UTC))
    summary = board_figures(records, collection_year(2027)).summary
    assert summary.loc["missing_episodes", "children_in_care"] == 1
    assert summary.loc["absent_episodes", "children_in_care"] == 0
    assert summary.loc["curfew_episodes", "children_in_care"] == 1
    assert build_return(records, 2027).missing[["MISSING", "MIS_START"]].values.tolist() == [["M", "01/07/2026"]]
    assert [a.episode_id is not None for a in stored(sqlite_url, "rhi.within_72h_of_return")] == [True]


# --- Wakefield: hidden missing ----------------------------------------------------------------------------------


def test_a_hidden_missing_child_is_reported_to_the_police_at_once_and_interviewed_within_72_hours_of_return():
    # Recorded hidden missing on Tuesday 3 November 2026 at 10:00: the report to the police is due then (s3: "should
    # ensure that this has been reported to the responsible police authority"). Back on Wednesday at 18:00 (the
    # service records the return): the interview by Saturday 18:00 (s6: "every child who has been logged as
    # 'missing'").
    kid = child()
    hidden = outcome("H1", "hidden_missing", "2026-11-03 10:00")
    back = outcome("R1", "returned", "2026-11-04 18:00")
    specs = evaluate_child(POLICY, kid, [], [hidden, back], FAR)
    [report] = [s for s in specs if s.rule_id == "hidden.police_report"]
    assert (report.kind, report.due_at, report.actor, report.status) == (
        "police_report", london("2026-11-03 10:00"), "Social Worker", "open")
    [rhi] = [s for s in specs if s.rule_id == "rhi.hidden_missing"]
    assert (rhi.trigger_at, rhi.due_at) == (london("2026-11-04 18:00"), london("2026-11-07 18:00"))
    # Still away and not yet back: no interview yet. Found at a friend's by 11:00: no report needed, with the reason.
    found = outcome("W1", "whereabouts_established", "2026-11-03 11:00", rationale="At her aunt's; carer spoke to her")
    specs = evaluate_child(POLICY, kid, [], [hidden, found], FAR)
    assert [(s.rule_id, s.status) for s in specs] == [("hidden.police_report", "not_required")]
    reported = outcome("P1", "hidden_missing_reported", "2026-11-03 10:20")
    assert [s.status for s in evaluate_child(POLICY, kid, [], [hidden, reported], FAR)] == ["done"]


def test_hidden_missing_comes_in_by_the_outcomes_feed_and_is_counted_apart(db_url, monkeypatch, tmp_path):
    context = load(db_url, monkeypatch, tmp_path, children=[register_row("P000970")],
                   outcomes=[case_event("H1", "2026-11-01T10:00:00", "P000970", "hidden_missing"),
                             case_event("R1", "2026-11-01T20:00:00", "P000970", "returned")])
    [report] = stored(db_url, "hidden.police_report")
    [rhi] = stored(db_url, "rhi.hidden_missing")
    assert report.episode_id is None and rhi.due_at == london("2026-11-04 20:00")
    with session_scope(db_url) as session:
        records = load_records(session, datetime(2027, 4, 2, 9, tzinfo=UTC))
        pack = build_briefing(session, date(2026, 11, 2), context.policy)
    summary = board_figures(records, collection_year(2027)).summary
    assert summary.loc["hidden_missing", "children_in_care"] == 1
    assert summary.loc["children_hidden_missing", "all_children"] == 1
    assert summary.loc["missing_episodes", "all_children"] == 0  # not a police episode: in no missing figure
    assert build_return(records, 2027).missing.empty
    assert [(row.child.last_name, row.recorded_at) for row in pack.hidden_missing] == [
        ("P000970", london("2026-11-01 10:00"))]
    assert pack.reported_since == []


# --- Wakefield: out-of-area carers' and providers' reports -------------------------------------------------------


def test_an_out_of_area_carers_report_is_a_notification_source_with_its_own_accounting(
        db_url, monkeypatch, tmp_path):
    # A Kingsbridge child placed in Leeds goes missing on Saturday 7 November 2026 at 22:00; the carer reports to West
    # Yorkshire Police and, as their force will not alert ours, alerts us (s9), sending the same row twice and one
    # row without a last-seen time. Found Sunday 10:00 and reported by the carer at 10:30: the interview by
    # Wednesday 10:30, as for a police report.
    url = db_url
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    context = Context(Settings(), POLICY)
    ingest_path("children", write_csv(tmp_path / "c.csv", [register_row("P000980", placement="Leeds")]), "register",
                context)
    report = message("OOA-1", "2026-11-07T22:40:00", "missing", "WYP-13/2026-0451", child_id="P000980",
                     last_seen_at="2026-11-07T22:00:00", last_seen_location="Placement, Leeds",
                     reported_to_police_at="2026-11-07T22:30:00")
    rows = [report, report, dict(report, notification_id="OOA-2", last_seen_at=""),
            message("OOA-3", "2026-11-08T10:30:00", "found", "WYP-13/2026-0451", found_at="2026-11-08T10:00:00")]
    summary = ingest_path("notifications", write_csv(tmp_path / "carer.csv", rows), "out-of-area", context)
    assert (summary.read, summary.new, summary.duplicate, summary.quarantined) == (4, 2, 1, 1)
    assert summary.read == summary.new + summary.duplicate + summary.quarantined
    review_children([item.child_ref for item in pending_reviews(context=context)], context)
    with session_scope(url) as session:
        [bad] = session.scalars(select(Quarantine))
        assert (bad.source, bad.row_number, bad.field) == ("out-of-area", 3, "last_seen_at")
        assert bad.reason == "a missing notification needs last_seen_at"
        [carers] = session.scalars(select(Episode))
        assert (carers.source, carers.kind, carers.status) == ("out-of-area", "missing", "returned")
        assert carers.reported_to_police_at == london("2026-11-07 22:30")
    [rhi] = stored(url, "rhi.within_72h_of_return")
    assert rhi.due_at == london("2026-11-11 10:30")
