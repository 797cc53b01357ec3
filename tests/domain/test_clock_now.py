"""``clock.now()`` and its override, ``MISSING_EPISODES_NOW``: a run replayed as of a past moment.

The golden test of the sample (tests/cli/test_golden_sample.py) depends on this: rules store repeating schedules up to
a horizon from now and documents print when they were prepared, so only a fixed "now" makes a run reproducible.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from missing_episodes import clock
from missing_episodes.clock import NOW_VARIABLE, TimeParseError

ROOT = Path(__file__).resolve().parents[2]


def test_without_the_override_now_is_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NOW_VARIABLE, raising=False)
    before = datetime.now(UTC)
    moment = clock.now()
    assert before <= moment <= datetime.now(UTC)
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02T08:30:00+00:00", datetime(2026, 11, 2, 8, 30, tzinfo=UTC)),
        ("2026-11-02T08:30:00Z", datetime(2026, 11, 2, 8, 30, tzinfo=UTC)),
        ("2026-07-01T09:00:00+01:00", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
        # No offset: London local time, GMT in November and BST in July.
        ("2026-11-02T08:30", datetime(2026, 11, 2, 8, 30, tzinfo=UTC)),
        ("2026-07-01T09:00", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
        # The repeated autumn hour is its first occurrence (BST), as parse_time reads every feed time.
        ("2026-10-25T01:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_the_override_fixes_now(monkeypatch: pytest.MonkeyPatch, value: str, expected: datetime) -> None:
    monkeypatch.setenv(NOW_VARIABLE, value)
    assert clock.now() == expected
    assert clock.now().tzinfo is not None and clock.now().utcoffset() == timedelta(0)


def test_the_override_is_read_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set after import (as a test or a worker does), changed, then removed: each call sees the current value."""
    monkeypatch.setenv(NOW_VARIABLE, "2026-01-05T10:00")
    assert clock.now() == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    monkeypatch.setenv(NOW_VARIABLE, "2026-01-06T10:00")
    assert clock.now() == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    monkeypatch.delenv(NOW_VARIABLE)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00", "2026-03-29T01:30"])
def test_an_unreadable_override_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Never silently the wall clock: a replay run on today's date would store different actions."""
    monkeypatch.setenv(NOW_VARIABLE, value)
    with pytest.raises(TimeParseError, match=NOW_VARIABLE):
        clock.now()


def test_an_empty_override_means_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """``MISSING_EPISODES_NOW=`` (set but empty, as a shell or a .env file leaves it) is not a moment."""
    monkeypatch.setenv(NOW_VARIABLE, "")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_stored_rows_take_their_times_from_the_override(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Model defaults (``received_at``, ``created_at``, an audit event's ``at``) call clock.now() at insert time."""
    from missing_episodes.db.engine import session_scope
    from missing_episodes.db.models import AuditEvent

    monkeypatch.setenv(NOW_VARIABLE, "2026-11-02T08:30")
    with session_scope(sqlite_url) as session:
        event = AuditEvent(actor="test", event="replayed", entity="test")
        session.add(event)
        session.flush()
        assert event.at == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


_WALL_CLOCK = re.compile(r"\b(?:datetime\.now|datetime\.today|datetime\.utcnow|date\.today|time\.time)\(")


def test_every_now_goes_through_the_clock() -> None:
    """No module of the product reads the wall clock itself: otherwise the override would miss it.

    ``missing_episodes.clock`` is the one place allowed to. Benchmarks time themselves and are not the product.
    """
    offenders = []
    for folder in ("missing_episodes", "flows", "tasks", "deployments"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.relative_to(ROOT).parts[:2] in {("missing_episodes", "clock.py"), ("missing_episodes", "clock")}:
                continue  # the clock itself (a module today; a package if it is split)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if _WALL_CLOCK.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "read the time through missing_episodes.clock.now():\n" + "\n".join(offenders)
