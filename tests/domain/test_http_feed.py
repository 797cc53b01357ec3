"""The HTTP feed against a real endpoint on loopback that fails in every way issue 16 found: 500s, 429s with
Retry-After, timeouts, truncated and non-JSON 200s, repeated pages, a looping cursor, ``max_pages`` reached.

Whatever the endpoint does: every row is stored exactly once over the polls (0 lost, 0 duplicated), pages stored
before a failure are kept and the next poll resumes at the failed page, and a loop or an exhausted ``max_pages``
is reported. Rows are stored on SQLite here; the keyed storing under them is tested on both databases in
``test_ingest.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Episode, FeedCursor, Notification
from missing_episodes.http_feed import FeedUnavailable, HttpPollSummary
from missing_episodes.jobs.ingest import ingest_http_source
from missing_episodes.sources import HttpSource
from tests.builders.feed_server import FeedPlan, feed_server
from tests.builders.feeds import message

ROWS = [
    message(f"H{n:03d}", f"2026-04-01T{n % 24:02d}:{n % 60:02d}:00", "missing", f"INC-H{n:03d}",
            child_id=f"P{n % 17:03d}", last_seen_at=f"2026-04-01T{n % 24:02d}:00:00")
    for n in range(100)
]


@pytest.fixture
def use_sqlite(sqlite_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    return sqlite_url


def source(url: str, **options) -> HttpSource:
    settings = {"retries": 3, "backoff_seconds": 0.01, "timeout_seconds": 0.5, **options}
    return HttpSource(name="police-api", feed="notifications", type="http", url=url, **settings)


def stored(url: str) -> tuple[list[str], int, str | None]:
    """The stored message ids (sorted, with repeats if any), the episode count and the stored cursor."""
    with session_scope(url) as session:
        ids = sorted(session.scalars(select(Notification.message_id)))
        episodes = session.scalar(select(func.count()).select_from(Episode))
        cursor = session.get(FeedCursor, "police-api")
        return ids, episodes, cursor.cursor if cursor else None


def everything_once(url: str) -> None:
    ids, episodes, _ = stored(url)
    assert ids == sorted(r["notification_id"] for r in ROWS)  # none lost, none twice
    assert episodes == len(ROWS)


def test_every_fault_is_retried_and_every_row_is_stored_once(use_sqlite):
    plan = FeedPlan(ROWS, faults={
        ("", 0): "500",
        ("p10", 0): "truncated",
        ("p20", 0): "html",
        ("p20", 1): "500",
        ("p30", 0): "429",
        ("p40", 0): "timeout",
        ("p70", 0): "truncated",
        ("p70", 1): "truncated",
        ("p70", 2): "truncated",
    }, retry_after="2", slow_seconds=1.5)
    waits: list[float] = []
    with feed_server(plan) as url:
        summary = ingest_http_source(source(url), sleep=waits.append)
    assert isinstance(summary, HttpPollSummary)
    assert (summary.pages, summary.stopped, summary.alerts) == (10, "done", [])
    assert (summary.read, summary.new, summary.duplicate) == (len(ROWS), len(ROWS), 0)
    everything_once(use_sqlite)
    assert stored(use_sqlite)[2] == "end"  # after the last page, the endpoint's cursor
    assert 2.0 in waits  # the 429's Retry-After was honoured
    assert sum(plan.attempts.values()) == 10 + 9  # every fault cost exactly one more request


def test_a_repeated_page_is_stored_as_duplicates_and_nothing_is_skipped(use_sqlite):
    plan = FeedPlan(ROWS, faults={("p30", 0): "repeat", ("p60", 0): "repeat"})
    with feed_server(plan) as url:
        first = ingest_http_source(source(url))
        ids, _, cursor = stored(use_sqlite)
        # Pages p30 and p60 came back with the page before's rows: 20 rows never sent, 20 sent twice.
        assert (first.read, first.new, first.duplicate) == (100, 80, 20)
        assert len(ids) == len(set(ids)) == 80
        missed = sorted({r["notification_id"] for r in ROWS} - set(ids))
        assert missed == [f"H{n:03d}" for n in [*range(30, 40), *range(60, 70)]]
    # A server that repeats pages loses rows unless it sends them again: the product cannot see what it was never
    # sent. What it must not do is store a row twice, and it does not.
    assert cursor == "end"


def test_a_page_that_never_comes_keeps_the_pages_before_and_the_next_poll_resumes_there(use_sqlite):
    plan = FeedPlan(ROWS, faults={("p60", attempt): "500" for attempt in range(4)})
    with feed_server(plan) as url:
        failed = r"police-api: page 7: no usable answer after 4 attempts \(HTTP 500\)"
        with pytest.raises(FeedUnavailable, match=failed):
            ingest_http_source(source(url))
        ids, _, cursor = stored(use_sqlite)
        assert len(ids) == 60 and cursor == "p60"  # pages 1-6 stored, resume at page 7
        plan.asked.clear()
        second = ingest_http_source(source(url))
    assert plan.asked[0] == "p60"  # not the first page again
    assert (second.pages, second.new, second.duplicate) == (4, 40, 0)
    everything_once(use_sqlite)


def test_a_looping_next_cursor_stops_the_poll_with_an_alert_and_loses_nothing(use_sqlite, caplog):
    plan = FeedPlan(ROWS, loop_at="p50", loop_to="p20")
    with feed_server(plan) as url:
        first = ingest_http_source(source(url))
        assert first.stopped == "loop" and first.pages == 6  # p0 .. p50, then p20 again is refused
        assert len(plan.asked) == 6  # not 1,000 requests
        [alert] = first.alerts
        assert "police-api" in alert and "loop" in alert and "page 6" in alert
        assert alert in caplog.text
        assert stored(use_sqlite)[2] == "p50"  # the next poll starts at the looping page, and alerts again
        again = ingest_http_source(source(url))
        assert again.stopped == "loop" and again.new == 0 and len(again.alerts) == 1
        plan.loop_at = None  # the endpoint is fixed
        fixed = ingest_http_source(source(url))
    assert (fixed.stopped, fixed.alerts, fixed.new) == ("done", [], 40)
    everything_once(use_sqlite)


def test_max_pages_with_more_to_come_is_reported_and_the_next_poll_carries_on(use_sqlite):
    """The endpoint repeats its final cursor on every page: resuming from it would skip the unread pages."""
    plan = FeedPlan(ROWS, final_cursor="end")
    polls: list[HttpPollSummary] = []
    with feed_server(plan) as url:
        for _ in range(3):
            polls.append(ingest_http_source(source(url, max_pages=4)))
    assert [(p.pages, p.new, p.stopped) for p in polls] == [(4, 40, "max_pages"), (4, 40, "max_pages"),
                                                            (2, 20, "done")]
    assert "4 pages read (max_pages) and the endpoint has more" in polls[0].alerts[0]
    assert polls[2].alerts == []
    everything_once(use_sqlite)


def test_timeouts_are_retried_with_back_off(use_sqlite):
    plan = FeedPlan(ROWS[:10], faults={("", 0): "timeout", ("", 1): "timeout"}, slow_seconds=1.0)
    waits: list[float] = []
    with feed_server(plan) as url:
        summary = ingest_http_source(source(url, backoff_seconds=0.05, timeout_seconds=0.3), sleep=waits.append)
    assert summary.new == 10 and waits == [0.05, 0.1]


def test_a_client_error_is_not_retried_and_names_the_status(use_sqlite):
    with feed_server(FeedPlan(ROWS)) as url, pytest.raises(FeedUnavailable, match="page 1: HTTP 404"):
        ingest_http_source(source(url.replace("/feed", "/nowhere")))
