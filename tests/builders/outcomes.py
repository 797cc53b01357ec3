"""Known data for the outcome tests (no tests here): children on Monday 2 November 2026 08:30 with an open action
for every closing event of the default policy, built through the ordinary jobs (ingest and rules, no Prefect).

* P000801 and P000806: missing 27 Oct 19:00, found 31 Oct 09:00 (86 hours): RHI, strategy meetings at 24 and 72
  hours, serious notification at 72 hours (two such children, so an interview can be completed for one and
  declined for the other, a meeting held for one and found not required for the other).
* P000802, UASC, missing since 20 April: Surrey's long-term schedule (intervention meetings, NRM referral, Home
  Office, cause for concern, the monthly reviews in supervision, the six-monthly audit and panel).
* P000803, a former UASC care leaver assessed missing on 20 Oct and back on 30 Oct: police report, team and
  service managers, Home Office, weekly review, return meeting.
* P000804, a care leaver assessed not in touch: the written confirmation.
* P000805: missing and found, the interview completed on 31 Oct with findings (CSE, harm, the Find Me plan to
  update): the follow-ups (strategy discussion, NRM consideration, Find Me plan update).
* P000807: absent and graded high risk on 1 Nov: the joint strategy with the police.
* P000808: missing and found, the interview declined on 31 Oct: the social worker's visit.
* P000809: a care leaver assessed missing on 1 Oct and still missing: the fortnightly oversight reviews.
* P000810: recorded hidden missing on 1 Nov (missing, not reported to the police): the report to the police.
* Every returned child under 18 has the carer's well-being check and prevention plan; P000802 names an immigration
  solicitor (told on day 1) and is reviewed as looked after every three months.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from missing_episodes.clock import LONDON
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.sources import RawRow

NOW = "2026-11-02T08:30:00"
NOW_AT = datetime(2026, 11, 2, 8, 30, tzinfo=LONDON)
INCIDENTS = {"P000801": "KBP-2026-000801", "P000802": "KBP-2026-000802", "P000805": "KBP-2026-000805",
             "P000806": "KBP-2026-000806", "P000807": "KBP-2026-000807", "P000808": "KBP-2026-000808"}


def _child(number: int, person: str, **fields: str) -> RawRow:
    values = {"child_id": person, "first_name": f"Test{number}", "last_name": "Child", "date_of_birth": "2011-03-04",
              "legal_status": "looked_after", "responsible_authority": "Kingsbridge", "allocated_worker": "Sam Patel",
              "team": "Children in Care Team 1", **fields}
    return RawRow("register", number, values)


def _missing(number: int, person: str, last_seen: str, found: str | None = None, risk: str = "medium",
             event: str = "missing") -> list[RawRow]:
    incident = INCIDENTS[person]
    rows = [RawRow("police", number, {
        "notification_id": f"M-{person}", "sent_at": last_seen, "event": event, "incident_ref": incident,
        "child_id": person, "last_seen_at": last_seen, "risk_level": risk, "responsible_authority": "Kingsbridge"})]
    if found:
        rows.append(RawRow("police", number + 1, {
            "notification_id": f"F-{person}", "sent_at": found, "event": "found", "incident_ref": incident,
            "child_id": person, "last_seen_at": last_seen, "found_at": found, "responsible_authority": "Kingsbridge"}))
    return rows


def outcome_row(number: int, event_id: str, at: str, person: str, event: str, **fields: str) -> RawRow:
    return RawRow("case-management", number, {"event_id": event_id, "recorded_at": at, "child_id": person,
                                              "event": event, "by": "A. Worker", **fields})


def build_every_closing_case() -> None:
    """Store the children above in the configured database and run the rules as of ``NOW`` (set it first)."""
    ingest_records("children", [
        _child(1, "P000801"),
        _child(2, "P000802", uasc="yes", date_of_birth="2010-01-02", immigration_solicitor="Firm A, 020 7946 0000"),
        _child(3, "P000803", legal_status="care_leaver", uasc="yes", date_of_birth="2004-05-06"),
        _child(4, "P000804", legal_status="care_leaver", date_of_birth="2003-07-08"),
        _child(5, "P000805", date_of_birth="2012-09-10"), _child(6, "P000806"), _child(7, "P000807"),
        _child(8, "P000808"), _child(9, "P000809", legal_status="care_leaver", date_of_birth="2004-02-03"),
        _child(10, "P000810"),
    ], source="register")
    ingest_records("notifications", [
        *_missing(10, "P000801", "2026-10-27T19:00:00", "2026-10-31T09:00:00"),
        *_missing(20, "P000802", "2026-04-20T10:00:00"),
        *_missing(30, "P000805", "2026-10-29T18:00:00", "2026-10-30T08:00:00"),
        *_missing(40, "P000806", "2026-10-27T19:00:00", "2026-10-31T09:00:00"),
        *_missing(50, "P000807", "2026-11-01T16:00:00", risk="high", event="absent"),
        *_missing(60, "P000808", "2026-10-29T18:00:00", "2026-10-30T08:00:00"),
    ], source="police")
    ingest_records("outcomes", [
        outcome_row(1, "CMS-1", "2026-10-20T10:00:00", "P000803", "assessed_missing"),
        outcome_row(2, "CMS-2", "2026-10-30T10:00:00", "P000803", "returned"),
        outcome_row(3, "CMS-3", "2026-10-28T10:00:00", "P000804", "assessed_not_in_touch"),
        outcome_row(4, "CMS-4", "2026-10-31T12:00:00", "P000805", "rhi_completed",
                    incident_ref=INCIDENTS["P000805"], reasons="peer_group;adult_of_concern", concerns="cse",
                    harm="yes", child_views="Said she went to see friends in town", find_me_plan_update="yes"),
        outcome_row(5, "CMS-8", "2026-10-31T12:00:00", "P000808", "rhi_declined",
                    incident_ref=INCIDENTS["P000808"], rationale="Would not speak to the interviewer"),
        outcome_row(6, "CMS-9", "2026-10-01T10:00:00", "P000809", "assessed_missing"),
        outcome_row(7, "CMS-10", "2026-11-01T10:00:00", "P000810", "hidden_missing"),
    ], source="case-management")
    review_next_batch(1000)


def closing_cases_database(folder: Path, template: Path) -> Path:
    """A copy of the migrated ``template`` database with every closing case built in it (once per test module:
    the build runs the rules, copies are cheap)."""
    from missing_episodes.db.engine import make_engine

    path = folder / "built.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    saved = {name: os.environ.get(name) for name in ("MISSING_EPISODES_DATABASE_URL", "MISSING_EPISODES_NOW")}
    os.environ.update(MISSING_EPISODES_DATABASE_URL=url, MISSING_EPISODES_NOW=NOW)
    try:
        build_every_closing_case()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    make_engine(url).dispose()
    return path


def use_closing_case(built: Path, folder: Path, setenv) -> str:
    """A fresh copy of ``built`` in ``folder`` made the current database (``setenv`` is the test's
    ``monkeypatch.setenv``), with the builder's clock and an output store of its own; returns its URL."""
    path = folder / "case.db"
    shutil.copy(built, path)
    url = f"sqlite:///{path}"
    setenv("MISSING_EPISODES_DATABASE_URL", url)
    setenv("MISSING_EPISODES_NOW", NOW)
    setenv("MISSING_EPISODES_OUTPUT_DIR", str(folder / "out"))
    return url
