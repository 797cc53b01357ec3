"""Polling an HTTP JSON feed page by page, so that nothing is lost, nothing is read twice and nothing goes quiet.

The endpoint answers ``GET url?since=CURSOR`` with ``{"items": [...], "next": "CURSOR or null", "cursor":
"CURSOR"}``: ``next`` asks for another page, ``cursor`` is where the next poll starts once there is no ``next``.

* Pages are handed over as they arrive (``HttpPoll.pages``) and the caller stores each before asking for the
  next, with the cursor to resume from (``Page.resume``): a failure on page 7 keeps pages 1-6 and the next poll
  starts at page 7. Storing is keyed by message id, so a page read twice adds nothing.
* A request is retried with exponential back-off after a network error, a timeout, a 5xx, a 429 (its
  ``Retry-After`` honoured, up to ``max_retry_after_seconds``) and a 200 whose body is not a whole JSON object with
  an ``items`` list (a cut-off or HTML answer is a transient fault too, not a reason to throw the poll away).
* A ``next`` cursor already asked for in this poll is a loop: the poll stops and says so (``Stop.LOOP``).
* ``max_pages`` pages with more to come stops the poll and says so (``Stop.MAX_PAGES``); the resume cursor is
  the unread page, so the next poll carries on where this one stopped and nothing is skipped.

Messages name the source, page numbers and HTTP statuses only, never a row's content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import httpx

from missing_episodes.clock import wall_clock
from missing_episodes.ingest.summary import IngestSummary
from missing_episodes.sources import HttpSource, RawRow, _json_row


class FeedUnavailable(RuntimeError):
    """The endpoint did not answer usefully after every retry (the message names the source, not any data)."""


class Stop(Enum):
    """Why a poll ended."""

    DONE = "done"  # the last page had no ``next``
    LOOP = "loop"  # ``next`` named a cursor already asked for in this poll
    MAX_PAGES = "max_pages"  # ``max_pages`` read, more to come


@dataclass(frozen=True)
class Page:
    number: int
    rows: list[RawRow]
    #: Where the next poll starts once this page is stored: this page's ``next`` while there are more pages,
    #: the endpoint's ``cursor`` after the last one.
    resume: str | None


@dataclass
class HttpPollSummary(IngestSummary):
    """An ingest summary with what the poll itself did: pages stored, and the alerts an operator must see."""

    pages: int = 0
    stopped: str = Stop.DONE.value
    alerts: list[str] = field(default_factory=list)


class HttpPoll:
    """One poll of one source from ``cursor``; iterate ``pages()``, then read ``stop`` and ``alert``."""

    def __init__(self, source: HttpSource, cursor: str | None, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.source = source
        self.cursor = cursor
        self.client = client
        self.sleep = sleep
        self.stop = Stop.DONE
        self.pages_read = 0
        self.resume = cursor

    def pages(self) -> Iterator[Page]:
        """The pages after ``cursor``, each yielded before the next is asked for. Raises ``FeedUnavailable`` when
        a page cannot be had after every retry (the pages yielded before it stay yielded)."""
        own_client = self.client is None
        client = self.client or httpx.Client(timeout=self.source.timeout_seconds, headers=self.source.headers)
        asked: set[str | None] = set()
        page_cursor = self.cursor
        try:
            for number in range(1, self.source.max_pages + 1):
                asked.add(page_cursor)
                body = self._get(client, page_cursor, number)
                rows = [_json_row(f"{self.source.name} page {number}", row, item)
                        for row, item in enumerate(body["items"], start=1)]
                following = body.get("next") or None
                if following is not None and str(following) in asked:
                    # A loop: the rows of this page are stored, but the cursor stays where this page was asked
                    # for, so the next poll tries again from here and says so again until the endpoint is fixed.
                    self.stop = Stop.LOOP
                    self.pages_read = number
                    yield Page(number, rows, page_cursor)
                    return
                resume = str(following) if following is not None else _cursor_after(body, page_cursor)
                self.pages_read = number
                self.resume = resume
                yield Page(number, rows, resume)
                if following is None:
                    return
                page_cursor = str(following)
            self.stop = Stop.MAX_PAGES
        finally:
            if own_client:
                client.close()

    def alert(self) -> str | None:
        """One line for the operator when the poll stopped short, else ``None``."""
        name, pages = self.source.name, self.pages_read
        if self.stop is Stop.LOOP:
            return (f"{name}: the endpoint's next cursor repeats one already read in this poll (a loop): stopped "
                    f"after page {pages}; the endpoint needs fixing (every poll will stop here)")
        if self.stop is Stop.MAX_PAGES:
            return (f"{name}: {pages} pages read (max_pages) and the endpoint has more: the next poll carries on "
                    f"from there; raise max_pages if this repeats")
        return None

    def _get(self, client: httpx.Client, cursor: str | None, number: int) -> dict[str, Any]:
        source = self.source
        params = {"since": cursor} if cursor else {}
        problem = ""
        for attempt in range(source.retries + 1):
            wait = source.backoff_seconds * 2**attempt
            try:
                response = client.get(source.url, params=params, timeout=source.timeout_seconds)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                problem = type(exc).__name__
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    problem = f"HTTP {status}"
                    if status == 429 or status == 503:
                        wait = max(wait, _retry_after(response, source.max_retry_after_seconds))
                elif status >= 400:
                    raise FeedUnavailable(f"{source.name}: page {number}: HTTP {status}")
                else:
                    body = _page_body(response)
                    if isinstance(body, dict):
                        return body
                    problem = body
            if attempt < source.retries:
                self.sleep(wait)
        raise FeedUnavailable(f"{source.name}: page {number}: no usable answer after {source.retries + 1} "
                              f"attempts ({problem})")


def _page_body(response: httpx.Response) -> dict[str, Any] | str:
    """The page as a dict, or what is wrong with it (a cut-off body, HTML, a JSON value that is not a page)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} with a body that is not whole JSON"
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return f"HTTP {response.status_code} with JSON that is not a page (no items list)"
    return body


def _cursor_after(body: dict[str, Any], asked_with: str | None) -> str | None:
    """After the last page, the endpoint's ``cursor``; without one, the cursor this page was asked with (the next
    poll rereads the page, which adds nothing), never nothing (which would reread the whole feed)."""
    cursor = body.get("cursor")
    return str(cursor) if cursor not in (None, "") else asked_with


def _retry_after(response: httpx.Response, ceiling: float) -> float:
    """Seconds the endpoint asked us to wait (``Retry-After``: seconds or an HTTP date), at most ``ceiling``."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            # The wall clock on purpose, not clock.now(): a fixed replay time means nothing to the endpoint.
            seconds = (parsedate_to_datetime(value) - wall_clock()).total_seconds()
        except (TypeError, ValueError):
            return 0.0
    return min(max(seconds, 0.0), ceiling)
