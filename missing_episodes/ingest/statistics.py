"""Keeping PostgreSQL's table statistics in step with a big load (SQLite plans from its indexes alone)."""

from __future__ import annotations

from sqlalchemy import text


class PlannerStatistics:
    """Runs ``ANALYZE`` on the tables an ingest writes each time they have doubled since it was last run.

    Every chunk looks up thousands of keys (message ids, incidents, children). Planned from the statistics of a
    table that was nearly empty when last analysed, PostgreSQL scanned every row stored since for each chunk,
    which made a million-row first load quadratic; autovacuum analyses too late, or not at all where it is off.
    Analysing on doubling is a handful of times a load.
    """

    TABLES = "notification, episode, child, risk_assessment, outcome, audit_event"

    def __init__(self, session_factory) -> None:
        self.session_factory = session_factory
        with session_factory() as session:
            self.postgresql = session.get_bind().dialect.name == "postgresql"
            rows = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'notification'")) \
                if self.postgresql else 0
        self.threshold, self.since = max(float(rows or 0), 1000.0), 0

    def grown(self, rows: int) -> None:
        """Count rows written; analyse once the tables have doubled since the last time."""
        self.since += rows
        if self.postgresql and self.since >= self.threshold:
            with self.session_factory() as session:
                session.execute(text(f"ANALYZE {self.TABLES}"))
            self.threshold, self.since = self.threshold + self.since, 0
