"""The care leavers' list, from Wokingham's care-leaver procedure (seed 000_0934067319dde07f.txt):

"The case will then be allocated to the Assistant Manager on Mosaic who will continue to track and review those
missing on a weekly basis and keep the relevant Service Manager updated."

Given these case events at these times, these care leavers are on the list, since these dates, with their Personal
Advisor, team, open actions and the next weekly review; the rules were run as on Tuesday 10 November 2026 09:00.
"""

from __future__ import annotations

import pytest

from missing_episodes.db.engine import session_scope
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.reports.care_leavers import CareLeaverEntry, care_leavers_list
from missing_episodes.sources import RawRow
from tests.builders.facts import london

RULES_RUN = "2026-11-10T09:00:00"


def _young_person(number: int, person: str, legal_status: str = "care_leaver") -> RawRow:
    return RawRow("register", number, {
        "child_id": person, "first_name": f"Young{number}", "last_name": "Person", "date_of_birth": "2005-04-06",
        "legal_status": legal_status, "responsible_authority": "Wokingham", "allocated_worker": f"PA {number}",
        "team": "Leaving Care Team"})


def _event(number: int, person: str, event: str, at: str) -> RawRow:
    return RawRow("case-management", number, {"event_id": f"E-{number}", "recorded_at": at, "child_id": person,
                                              "event": event, "by": "Jo Barker"})


EVENTS = [
    # Kit: assessed missing on Monday 2 November and still missing; a second assessment does not restart the list.
    _event(1, "P000701", "assessed_missing", "2026-11-02T10:00:00"),
    _event(2, "P000701", "assessed_missing", "2026-11-04T10:00:00"),
    # Sam: assessed missing on 3 November, back on 6 November (confirmed by the service).
    _event(3, "P000702", "assessed_missing", "2026-11-03T09:00:00"),
    _event(4, "P000702", "returned", "2026-11-06T12:00:00"),
    # Lee: assessed not in touch on Sunday 1 November; nothing since.
    _event(5, "P000703", "assessed_not_in_touch", "2026-11-01T09:00:00"),
    # Alex: not in touch from 20 October until contact was made on 4 November.
    _event(6, "P000704", "assessed_not_in_touch", "2026-10-20T09:00:00"),
    _event(7, "P000704", "contact_made", "2026-11-04T15:00:00"),
    # Robin: not in touch from 26 October, then assessed missing on 5 November: the missing list only.
    _event(8, "P000705", "assessed_not_in_touch", "2026-10-26T09:00:00"),
    _event(9, "P000705", "assessed_missing", "2026-11-05T16:00:00"),
    # Pat: looked after, not a care leaver: the care-leaver duties and this list are not about them.
    _event(10, "P000706", "assessed_missing", "2026-11-02T10:00:00"),
    # Jay: assessed missing on 3 November; the police found them on 7 November (a police return ends it too).
    _event(11, "P000707", "assessed_missing", "2026-11-03T11:00:00"),
]
POLICE = [
    RawRow("police", 1, {"notification_id": "M-707", "sent_at": "2026-11-03T08:00:00", "event": "missing",
                         "incident_ref": "TVP-707", "child_id": "P000707", "last_seen_at": "2026-11-02T22:00:00",
                         "risk_level": "medium", "responsible_authority": "Wokingham"}),
    RawRow("police", 2, {"notification_id": "F-707", "sent_at": "2026-11-07T10:00:00", "event": "found",
                         "incident_ref": "TVP-707", "child_id": "P000707", "last_seen_at": "2026-11-02T22:00:00",
                         "found_at": "2026-11-07T09:30:00", "responsible_authority": "Wokingham"}),
]


@pytest.fixture
def recorded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", RULES_RUN)
    people = [_young_person(n, f"P00070{n}") for n in (1, 2, 3, 4, 5, 7)] + [_young_person(6, "P000706",
                                                                                           "looked_after")]
    ingest_records("children", people, "register")
    ingest_records("notifications", POLICE, "police")
    ingest_records("outcomes", EVENTS, "case-management")
    review_next_batch(100)
    return db_url


def _listed(url: str, as_of: str) -> dict[str, CareLeaverEntry]:
    with session_scope(url) as session:
        return {entry.person_id: entry for entry in care_leavers_list(session, london(as_of))}  # type: ignore[misc]


def test_the_care_leavers_assessed_missing_and_not_in_touch_with_since_when(recorded: str) -> None:
    listed = _listed(recorded, "2026-11-10 09:00")
    assert {person: (e.status, e.since) for person, e in listed.items()} == {
        "P000701": ("missing", london("2026-11-02 10:00")),
        "P000705": ("missing", london("2026-11-05 16:00")),
        "P000703": ("not_in_touch", london("2026-11-01 09:00")),
    }
    # Missing first, each longest first: the order the Assistant Manager reviews them in.
    assert list(listed) == ["P000701", "P000705", "P000703"]
    kit = listed["P000701"]
    assert (kit.personal_advisor, kit.team, kit.assessed_by) == ("PA 1", "Leaving Care Team", "Jo Barker")
    assert kit.child_ref.startswith("CH-")


def test_returns_end_the_missing_period_and_an_earlier_moment_shows_the_list_as_it_stood(recorded: str) -> None:
    # On 4 November at 12:00 Sam and Jay had not yet come back, Robin and Alex were still only not in touch.
    earlier = _listed(recorded, "2026-11-04 12:00")
    assert {person: e.status for person, e in earlier.items()} == {
        "P000701": "missing", "P000702": "missing", "P000707": "missing",
        "P000703": "not_in_touch", "P000704": "not_in_touch", "P000705": "not_in_touch",
    }
    assert earlier["P000704"].since == london("2026-10-20 09:00")
    # Sam's "returned" (6 Nov) and Jay's police return (found 7 Nov) end their periods; Alex's contact ends hers.
    later = _listed(recorded, "2026-11-07 10:00")
    assert {"P000702", "P000707", "P000704"}.isdisjoint(later)
    assert _listed(recorded, "2026-10-01 00:00") == {}


def test_the_next_weekly_review_and_the_open_actions(recorded: str) -> None:
    listed = _listed(recorded, "2026-11-10 09:00")
    kit, robin, lee = listed["P000701"], listed["P000705"], listed["P000703"]
    # "track and review those missing on a weekly basis": the first review a week after the first assessment,
    # not yet held, so overdue and next.
    assert kit.next_weekly_review == london("2026-11-09 10:00")
    assert robin.next_weekly_review == london("2026-11-12 16:00")
    assert lee.next_weekly_review is None  # not in touch is not missing: no weekly review
    assert {item.action for item in kit.open_actions} >= {"weekly_review", "police_report", "risk_assessment"}
    assert all(item.status in ("open", "overdue") for item in kit.open_actions)
    assert {item.action for item in lee.open_actions} == {"written_confirmation", "management_oversight"}


def test_a_weekly_review_held_moves_the_next_one_a_week_on(recorded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Robin's first weekly review (due Thursday 12 November 16:00) is held that evening; the rules run again on
    # Friday morning: the next review is a week after the first one fell due.
    ingest_records("outcomes", [_event(20, "P000705", "weekly_review_held", "2026-11-12T17:00:00")],
                   "case-management")
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-13T09:00:00")
    review_next_batch(100)
    assert _listed(recorded, "2026-11-12 16:30")["P000705"].next_weekly_review == london("2026-11-12 16:00")
    assert _listed(recorded, "2026-11-13 09:00")["P000705"].next_weekly_review == london("2026-11-19 16:00")
