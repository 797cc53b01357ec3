"""Return Home Interview findings as data (issue 17): stored from the feed, checked against the fixed lists,
raising the follow-ups the seeds ask for as actions naming their rules, and counted for the board and oversight.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Outcome, Quarantine, RhiFinding
from missing_episodes.feeds import RowError, validate_row
from missing_episodes.findings import RhiFindings, findings_problem, parse_findings
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.policy import load_policy
from missing_episodes.reports.periods import Period
from missing_episodes.reports.rhi_findings import findings_figures, interviews_with_findings
from missing_episodes.vocabulary import outcome_vocabulary
from tests.builders.outcomes import INCIDENTS, NOW, build_every_closing_case, outcome_row

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")


@pytest.fixture
def built(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", NOW)
    build_every_closing_case()
    return db_url


def test_findings_columns_are_read_and_checked() -> None:
    row = {"reasons": "Peer_group; adult_of_concern", "concerns": "cse;cce", "harm": "yes", "child_views": " Fine ",
           "referral_made": "no", "find_me_plan_update": "Y"}
    assert findings_problem("rhi_completed", row) is None
    assert parse_findings("rhi_completed", row) == RhiFindings(
        reasons=("peer_group", "adult_of_concern"), harm=True, concerns=("cse", "cce"), child_views="Fine",
        referral_made=False, find_me_plan_update=True)
    assert parse_findings("rhi_completed", {"notes": "x"}) is None  # no findings: an ordinary interview
    assert findings_problem("rhi_completed", {"concerns": "gangs"})[0] == "concerns"
    assert findings_problem("rhi_completed", {"harm": "perhaps"})[0] == "harm"
    assert findings_problem("rhi_declined", {"reasons": "bullying"})[0] == "reasons"  # findings need an interview
    # The feed's contract says the same, with the field named.
    base = {"event_id": "E", "recorded_at": NOW, "child_id": "P1", "event": "rhi_completed"}
    error = validate_row("outcomes", {**base, "concerns": "gangs"}, outcome_vocabulary(POLICY))
    assert isinstance(error, RowError) and error.field == "concerns"
    assert not isinstance(validate_row("outcomes", {**base, "concerns": "trafficking"}, outcome_vocabulary(POLICY)),
                          RowError)


def test_follow_ups_follow_the_findings() -> None:
    assert RhiFindings(reasons=("bullying",)).follow_up_events() == ()
    assert RhiFindings(harm=True).follow_up_events() == ("rhi_finding_harm_or_exploitation",)
    assert RhiFindings(concerns=("trafficking",), find_me_plan_update=True).follow_up_events() == (
        "rhi_finding_harm_or_exploitation", "rhi_finding_exploitation", "rhi_finding_find_me_plan_update")


def test_an_interview_with_findings_stores_them_and_raises_its_follow_ups(built: str) -> None:
    with session_scope(built) as session:
        finding = session.scalars(select(RhiFinding)).one()
        assert (finding.reasons, finding.concerns, finding.harm, finding.find_me_plan_update) == (
            "peer_group;adult_of_concern", "cse", True, True)
        assert finding.child_views == "Said she went to see friends in town" and not finding.referral_made
        follow_ups = session.execute(
            select(Action.rule_id, Action.kind, Action.status, Action.key).where(Action.rule_id.like("rhi_findings.%"))
            .order_by(Action.rule_id)).all()
        assert [(r.rule_id, r.kind, r.status) for r in follow_ups] == [
            ("rhi_findings.find_me_plan_update", "find_me_plan_update", "open"),
            ("rhi_findings.nrm_consideration", "nrm_referral", "open"),
            ("rhi_findings.strategy_discussion", "strategy_meeting", "open"),
        ]
        events = ("rhi_finding_find_me_plan_update", "rhi_finding_exploitation", "rhi_finding_harm_or_exploitation")
        assert all(r.key.endswith(f"CMS-4/{event}") for r, event in zip(follow_ups, events, strict=True))
    # A replay of the same row stores nothing twice; closing a follow-up works like any action.
    again = ingest_records("outcomes", [outcome_row(4, "CMS-4", "2026-10-31T12:00:00", "P000805", "rhi_completed",
                                                    incident_ref=INCIDENTS["P000805"], concerns="cse", harm="yes",
                                                    find_me_plan_update="yes")], "case-management")
    assert again.new == 0
    ingest_records("outcomes", [outcome_row(5, "CMS-5", "2026-11-01T10:00:00", "P000805", "find_me_plan_updated",
                                            incident_ref=INCIDENTS["P000805"])], "case-management")
    review_next_batch(100)
    with session_scope(built) as session:
        assert session.scalar(select(func.count()).select_from(RhiFinding)) == 1
        assert session.scalar(select(func.count()).select_from(Outcome).where(Outcome.event_id.like("CMS-4%"))) == 4
        assert session.scalar(select(Action.status).where(Action.rule_id == "rhi_findings.find_me_plan_update")) \
            == "done"


def test_unknown_findings_go_to_quarantine(built: str) -> None:
    summary = ingest_records("outcomes", [outcome_row(9, "CMS-9", "2026-11-01T10:00:00", "P000801", "rhi_completed",
                                                      incident_ref=INCIDENTS["P000801"], concerns="gangs")],
                             "case-management")
    assert summary.quarantined == 1 and summary.new == 0
    with session_scope(built) as session:
        assert session.scalar(select(Quarantine.field).where(Quarantine.source == "case-management")) == "concerns"


def test_findings_are_counted_for_the_board_and_oversight(built: str) -> None:
    with session_scope(built) as session:
        lines = {(f.group, f.code): (f.interviews, f.children) for f in
                 findings_figures(session, Period(date(2026, 10, 1), date(2026, 10, 31)))}
        assert interviews_with_findings(session, Period(date(2026, 10, 1), date(2026, 10, 31))) == 1
        assert findings_figures(session, Period(date(2026, 9, 1), date(2026, 9, 30)))[0].interviews == 0
    assert lines[("reason", "peer_group")] == lines[("reason", "adult_of_concern")] == (1, 1)
    assert lines[("concern", "cse")] == (1, 1) and lines[("concern", "cce")] == (0, 0)
    assert lines[("finding", "harm")] == lines[("finding", "find_me_plan_update")] == (1, 1)
    assert lines[("finding", "referral_made")] == (0, 0)


def test_the_board_report_shows_the_findings(built: str) -> None:
    from missing_episodes.reports.board import board_report, render_board_html

    report = board_report(built, Period(date(2026, 10, 1), date(2026, 10, 31)))
    html = render_board_html(report, b"png")
    assert "What return interviews found" in html
    assert "Concern: Child sexual exploitation (CSE)</td><td class=\"n\">1</td>" in html
