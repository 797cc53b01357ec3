"""A police feed endpoint on loopback (a real HTTP server in a thread) that misbehaves on request.

It serves ``rows`` ``page_size`` at a time with the feed's protocol (``GET /feed?since=pN`` →
``{"items", "next", "cursor"}``; page cursors are ``p<offset>``) and, for the request of a given cursor, answers
each attempt as ``faults[(cursor, attempt)]`` says: ``"500"``, ``"429"`` (with ``Retry-After``), ``"timeout"``
(answers after ``slow_seconds``), ``"truncated"`` (a 200 whose JSON is cut in half), ``"html"`` (a 200 error page),
``"repeat"`` (the page before this one again, under this page's ``next``). ``loop_at`` makes the page at that
cursor point ``next`` back to ``loop_to``; ``final_cursor`` is the ``cursor`` every page reports (a server that
repeats its last cursor on every page, as the one in issue 16 did).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FeedPlan:
    rows: list[dict[str, Any]]
    page_size: int = 10
    faults: dict[tuple[str, int], str] = field(default_factory=dict)
    retry_after: str = "2"
    slow_seconds: float = 1.0
    loop_at: str | None = None
    loop_to: str | None = None
    final_cursor: str = "end"
    #: Every cursor asked for, in order (``""`` for the first page of a poll without a cursor).
    asked: list[str] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, cursor: str) -> dict[str, Any]:
        offset = int(cursor[1:]) if cursor.startswith("p") else 0
        items = self.rows[offset:offset + self.page_size]
        following = offset + self.page_size
        nxt = f"p{following}" if following < len(self.rows) else None
        if self.loop_at is not None and cursor == self.loop_at:
            nxt = self.loop_to
        return {"items": items, "next": nxt, "cursor": self.final_cursor}


class _Handler(BaseHTTPRequestHandler):
    plan: FeedPlan

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        plan = self.plan
        if urlparse(self.path).path != "/feed":
            self._send(404, b"Not Found", "text/plain")
            return
        cursor = parse_qs(urlparse(self.path).query).get("since", [""])[0]
        with plan.lock:
            plan.asked.append(cursor)
            attempt = plan.attempts[cursor]
            plan.attempts[cursor] += 1
        fault = plan.faults.get((cursor, attempt))
        body = plan.page(cursor)
        try:
            if fault == "500":
                self._send(500, b"Internal Server Error", "text/plain")
            elif fault == "429":
                self._send(429, b"slow down", "text/plain", {"Retry-After": plan.retry_after})
            elif fault == "timeout":
                time.sleep(plan.slow_seconds)
                self._send(200, json.dumps(body).encode(), "application/json")
            elif fault == "truncated":
                whole = json.dumps(body).encode()
                self._send(200, whole[: len(whole) // 2], "application/json")
            elif fault == "html":
                self._send(200, b"<html><body>Service unavailable</body></html>", "text/html")
            elif fault == "repeat":
                offset = int(cursor[1:]) if cursor.startswith("p") else 0
                before = plan.page(f"p{max(offset - plan.page_size, 0)}")
                self._send(200, json.dumps(dict(body, items=before["items"])).encode(), "application/json")
            else:
                self._send(200, json.dumps(body).encode(), "application/json")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout fault): nothing to answer

    def _send(self, status: int, payload: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def feed_server(plan: FeedPlan) -> Iterator[str]:
    """Serve ``plan`` on 127.0.0.1 on a free port; yields the feed's URL."""
    handler = type("PlannedFeed", (_Handler,), {"plan": plan})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/feed"
    finally:
        server.shutdown()
        server.server_close()
