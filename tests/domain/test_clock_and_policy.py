"""The calendar (Europe/London, working days) and the policy file's validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from missing_episodes.clock import TimeParseError, add_hours, add_working_days, is_working_day, parse_time
from missing_episodes.config import DATA_DIR
from missing_episodes.policy import PolicyError, load_policy, parse_policy
from tests.builders.facts import london


def test_a_time_without_an_offset_is_london_time():
    assert parse_time("2026-07-01T12:00:00") == london("2026-07-01 12:00")  # BST: 11:00 UTC
    assert parse_time("2026-07-01T12:00:00").hour == 11
    assert parse_time("2026-01-01T12:00:00").hour == 12
    assert parse_time("2026-07-01T12:00:00+00:00").hour == 12
    assert parse_time("2026-07-01T12:00:00Z").hour == 12


def test_a_local_time_in_the_spring_gap_is_refused_and_an_ambiguous_one_is_the_first():
    with pytest.raises(TimeParseError, match="does not exist"):
        parse_time("2026-03-29T01:30:00")
    assert parse_time("2026-10-25T01:30:00").utcoffset().total_seconds() == 0
    assert parse_time("2026-10-25T01:30:00").hour == 0  # 01:30 BST = 00:30 UTC, the first 01:30
    with pytest.raises(TimeParseError, match="ISO 8601"):
        parse_time("yesterday")


def _zoneinfo_reading(text: str) -> datetime | None:
    """A naive London time read with zoneinfo itself (None in the spring gap): what ``parse_time`` must equal."""
    naive = datetime.fromisoformat(text)
    zoned = naive.replace(tzinfo=ZoneInfo("Europe/London"), fold=0)
    if zoned.astimezone(UTC).astimezone(zoned.tzinfo).replace(tzinfo=None) != naive:
        return None
    return zoned.astimezone(UTC)


@pytest.mark.parametrize("start", [
    "1847-11-30T22:00",  # local mean time to GMT at 00:01:15 local: a change inside an hour
    "1941-03-25T00:00", "1941-04-28T00:00", "1945-07-10T00:00",  # double summer time (two hours ahead)
    "1968-02-12T00:00", "1971-10-25T00:00",  # British Standard Time: a year and more at +01:00
    "2016-03-20T00:00", "2026-03-22T00:00", "2026-10-18T00:00", "2038-10-24T00:00",
])
def test_a_local_time_is_read_as_zoneinfo_reads_it_across_every_kind_of_clock_change(start):
    """``parse_time`` works a day's offset out once and reuses it for the day, reading a day the clocks change on
    time by time: it must give zoneinfo's instant, or refuse the time zoneinfo puts in a gap, at every 7 minutes
    of two weeks around each kind of change (and a microsecond and 74 and 76 seconds after each)."""
    moment = datetime.fromisoformat(start)
    for minute in range(0, 14 * 24 * 60, 7):
        for nudge in (timedelta(0), timedelta(microseconds=1), timedelta(seconds=74), timedelta(seconds=76)):
            text = (moment + timedelta(minutes=minute) + nudge).isoformat()
            expected = _zoneinfo_reading(text)
            if expected is None:
                with pytest.raises(TimeParseError, match="does not exist"):
                    parse_time(text)
            else:
                assert parse_time(text) == expected, text
                assert parse_time(text).tzinfo is UTC


def test_24_hours_missing_is_24_real_hours_over_the_clock_changes():
    assert add_hours(london("2026-03-28 20:00"), 24) == london("2026-03-29 21:00")
    assert add_hours(london("2026-10-24 20:00"), 24) == london("2026-10-25 19:00")


def test_working_days_skip_weekends_and_england_and_wales_bank_holidays():
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute
    assert is_working_day(date(2026, 4, 7))
    assert add_working_days(london("2026-04-02 15:00"), 1) == london("2026-04-07 15:00")
    assert add_working_days(london("2026-04-04 09:00"), 1) == london("2026-04-07 09:00")  # from a Saturday


def test_the_default_policy_loads_with_stable_unique_rule_ids():
    policy = load_policy(DATA_DIR / "policies" / "default.yaml")
    ids = [rule.id for rule in policy.rules]
    assert len(ids) == len(set(ids))
    assert {
        "rhi.within_72h_of_return",
        "strategy.missing_24h",
        "strategy.four_in_28_days",
        "serious.missing_72h",
        "care_leaver.team_manager_3wd",
        "ltm.month12_review",
    } <= set(ids)
    assert all(rule.seed for rule in policy.rules)


def test_a_wrong_policy_file_fails_naming_the_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "authority: X\nversion: '1'\nrules:\n"
        "  - id: rhi\n    action: return_home_interview\n    title: t\n    seed: s\n    actor: a\n"
        "    trigger: {type: returned}\n    due: {hour: 72}\n"
    )
    with pytest.raises(PolicyError, match=r"bad.yaml: invalid policy: rules\.0\.due\.hour"):
        load_policy(path)
    with pytest.raises(PolicyError, match="used twice"):
        parse_policy(
            {
                "authority": "X",
                "version": "1",
                "rules": [
                    {
                        "id": "a",
                        "action": "weekly_review",
                        "title": "t",
                        "seed": "s",
                        "actor": "x",
                        "trigger": {"type": "returned"},
                    }
                ]
                * 2,
            }
        )
    with pytest.raises(PolicyError, match=r"rules\.0\.trigger"):
        parse_policy(
            {
                "authority": "X",
                "version": "1",
                "rules": [
                    {
                        "id": "a",
                        "action": "weekly_review",
                        "title": "t",
                        "seed": "s",
                        "actor": "x",
                        "trigger": {"type": "sometimes"},
                    }
                ],
            }
        )


def test_the_briefing_window_is_policy_data_with_a_28_day_default():
    assert load_policy(DATA_DIR / "policies" / "default.yaml").briefing.overdue_window_days == 28
    minimal = {"authority": "X", "version": "1", "rules": []}
    assert parse_policy(minimal).briefing.overdue_window_days == 28  # a policy file without the section
    assert parse_policy({**minimal, "briefing": {"overdue_window_days": 14}}).briefing.overdue_window_days == 14
    with pytest.raises(PolicyError, match=r"briefing\.overdue_window_days"):
        parse_policy({**minimal, "briefing": {"overdue_window_days": 0}})
    with pytest.raises(PolicyError, match=r"briefing\.window: Extra inputs are not permitted"):
        parse_policy({**minimal, "briefing": {"window": 28}})
