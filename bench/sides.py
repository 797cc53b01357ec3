"""The two sides of every benchmark, each run in its own process by ``bench.child``.

Every function returns ``(seconds, result)``: the seconds cover only the work compared, the result carries the
counts the runner checks (same rows on both sides) and reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any


def _context(url: str):
    os.environ["MISSING_EPISODES_DATABASE_URL"] = url
    from missing_episodes.jobs import Context

    return Context.load()


# --- 1. ingest ---------------------------------------------------------------------------------------------------


def ingest_ours(url: str, path: str) -> tuple[float, dict[str, Any]]:
    """The product: ``jobs.ingest.ingest_path`` (validation, quarantine, fold into episodes, chunked transactions)."""
    from missing_episodes.jobs.ingest import ensure_schema, ingest_path

    context = _context(url)
    ensure_schema(context)
    started = time.perf_counter()
    summary = ingest_path("notifications", Path(path), "police", context)
    return time.perf_counter() - started, {"new": summary.new, "episodes": summary.changed_episodes}


def ingest_reference(url: str, path: str, chunk_rows: int = 50_000) -> tuple[float, dict[str, Any]]:
    """pandas reads the file in chunks and the rows are bulk-inserted into the notification table, no logic."""
    import pandas as pd
    from sqlalchemy import insert

    from missing_episodes.db.engine import make_engine, upgrade
    from missing_episodes.db.models import Notification

    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    rows_in = 0
    received = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for frame in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows):
        payloads = frame.to_json(orient="records", lines=True).splitlines()
        sent = pd.to_datetime(frame["sent_at"], utc=True, format="ISO8601")
        rows = [
            {
                "source": "police", "feed": "notifications", "message_id": message_id, "received_at": received,
                "origin": "reference", "payload": payload,
                "content_hash": hashlib.sha256(payload.encode()).hexdigest(), "outcome": "applied",
                "incident_ref": incident, "sent_at": at.to_pydatetime(),
            }
            for message_id, incident, payload, at in zip(
                frame["notification_id"], frame["incident_ref"], payloads, sent, strict=True
            )
        ]
        with engine.begin() as connection:
            connection.execute(insert(Notification), rows)
        rows_in += len(rows)
    return time.perf_counter() - started, {"new": rows_in}


#: The column that keys each feed's rows (the message id a raw insert stores).
FEED_KEYS = {"children": "child_id", "notifications": "notification_id", "outcomes": "event_id"}


def raw_load_reference(url: str, region: str, chunk_rows: int = 50_000) -> tuple[float, dict[str, Any]]:
    """The ingest half of a first load's floor: pandas reads the region's three files in chunks and their rows are
    bulk-inserted verbatim into the message table (as ``ingest_reference``, for every feed), no logic."""
    import pandas as pd
    from sqlalchemy import insert

    from missing_episodes.db.engine import make_engine, upgrade
    from missing_episodes.db.models import Notification

    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    rows_in = 0
    received = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for kind, key in FEED_KEYS.items():
        path = Path(region) / f"{kind}.csv"
        for frame in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows):
            payloads = frame.to_json(orient="records", lines=True).splitlines()
            rows = [
                {"source": kind, "feed": kind, "message_id": message_id, "received_at": received,
                 "origin": "reference", "payload": payload,
                 "content_hash": hashlib.sha256(payload.encode()).hexdigest(), "outcome": "applied"}
                for message_id, payload in zip(frame[key], payloads, strict=True)
            ]
            with engine.begin() as connection:
                connection.execute(insert(Notification), rows)
            rows_in += len(rows)
    return time.perf_counter() - started, {"rows": rows_in}


# --- building a region's database (for 2, 3 and 4) -------------------------------------------------------------


def build_database(url: str, region: str, kinds: tuple[str, ...] = ("children", "notifications", "outcomes")
                   ) -> tuple[float, dict[str, Any]]:
    """Load a region through the product's own paths: ingest the feeds (all three unless ``kinds`` names fewer),
    then the bulk rules path."""
    from missing_episodes.feeds import DEFAULT_SOURCE
    from missing_episodes.jobs.ingest import (
        build_first_load_indexes,
        defer_first_load_indexes,
        ensure_schema,
        ingest_path,
    )
    from missing_episodes.jobs.rules import review_next_batch

    context = _context(url)
    ensure_schema(context)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    deferred = defer_first_load_indexes(context)  # as load-region does
    for kind in kinds:
        at = time.perf_counter()
        ingest_path(kind, Path(region) / f"{kind}.csv", DEFAULT_SOURCE[kind], context)
        phases[f"ingest_{kind}"] = time.perf_counter() - at
    at = time.perf_counter()
    created = 0
    while True:
        summary = review_next_batch(2000, context)
        created += summary["created"]
        if summary["children"] == 0:
            break
    phases["rules_bulk_path"] = time.perf_counter() - at
    at = time.perf_counter()
    build_first_load_indexes(context)
    phases[f"build_{len(deferred)}_indexes"] = time.perf_counter() - at
    return time.perf_counter() - started, {"phases": phases, "actions": created}


def serious_episode(url: str) -> str:
    """The ref of an episode for which the rules raised a serious notification (the on-demand form's subject)."""
    from sqlalchemy import select

    from missing_episodes.db.engine import session_scope
    from missing_episodes.db.models import Action, Episode

    with session_scope(url) as session:
        ref = session.scalar(select(Episode.ref).join(Action, Action.episode_id == Episode.id)
                             .where(Action.kind == "serious_notification").order_by(Episode.ref).limit(1))
    if ref is None:
        raise AssertionError("the sample raised no serious notification: the form benchmark has no subject")
    return ref


# --- 2. bulk rules -------------------------------------------------------------------------------------------------


def _facts(url: str):
    """The policy, the facts, and the children some per-child rule concerns (for the record only: the bulk path
    evaluates the column rules on columns for every child, those children included)."""
    from missing_episodes import bulk
    from missing_episodes.db.engine import session_scope

    context = _context(url)
    with session_scope(url) as session:
        facts = bulk.load_facts(session)
    return context.policy, facts, bulk.fallback_children(context.policy, facts)


def _digest(frame) -> dict[str, Any]:
    """Counts by rule and a hash of every (key, trigger, due): the two sides must agree on both."""
    rows = sorted(
        f"{key}|{trigger.isoformat()}|{due.isoformat()}"
        for key, trigger, due in zip(frame["key"], frame["trigger_at"], frame["due_at"], strict=True)
    )
    counts = frame.groupby("rule_id").size().to_dict() if len(frame) else {}
    return {"actions": len(frame), "by_rule": {k: int(v) for k, v in sorted(counts.items())},
            "hash": hashlib.sha256("\n".join(rows).encode()).hexdigest()}


#: The rules the DuckDB reference computes: the Wakefield windows the benchmark was written for. Rules added since
#: (the return checks of issue 15, due in working days, which plain SQL has no calendar for) are evaluated by the
#: product all the same, timed in its side; their agreement with the per-child definition is proved in
#: tests/domain/test_bulk.py, so the digest compares only the actions both sides compute.
REFERENCE_RULES = frozenset({"rhi.within_72h_of_return", "strategy.missing_24h", "strategy.missing_72h",
                             "serious.missing_72h", "strategy.four_in_28_days", "strategy.six_in_2_months",
                             "strategy.high_risk"})


def rules_ours(url: str) -> tuple[float, dict[str, Any]]:
    """``missing_episodes.bulk.evaluate_frame``: every episode rule's trigger and due time, vectorised."""
    from missing_episodes import bulk

    policy, facts, skip = _facts(url)
    started = time.perf_counter()
    frame = bulk.evaluate_frame(policy, facts)
    seconds = time.perf_counter() - started
    compared = frame[frame["rule_id"].isin(REFERENCE_RULES)] if len(frame) else frame
    return seconds, {**_digest(compared), "fallback_children": len(skip), "all_actions": len(frame)}


REFERENCE_SQL = """
WITH ep AS (
    SELECT e.*, coalesce(e.found_at, e.return_notified_at) AS ended,
           c.date_of_birth IS NULL OR (
               year(timezone('Europe/London', e.started_at)) - year(c.date_of_birth)
               - CASE WHEN month(timezone('Europe/London', e.started_at)) < month(c.date_of_birth)
                        OR (month(timezone('Europe/London', e.started_at)) = month(c.date_of_birth)
                            AND day(timezone('Europe/London', e.started_at)) < day(c.date_of_birth))
                      THEN 1 ELSE 0 END) < 18 AS under_18
    FROM episodes e JOIN children c ON c.id = e.child_id
    WHERE e.started_at IS NOT NULL
),
applies AS (SELECT * FROM ep WHERE NOT other_authority AND kind = 'missing' AND under_18),
counted AS (SELECT child_id, started_at FROM ep WHERE kind = 'missing' AND NOT other_authority),
local_windows AS (
    SELECT a.*, timezone('Europe/London', a.started_at) - INTERVAL 28 DAY AS l28,
           timezone('Europe/London', a.started_at) - INTERVAL 2 MONTH AS l2m
    FROM applies a
),
-- A local time the autumn change repeats (01:00-02:00) is taken as its earlier instant, as the product's clock
-- (Python's zoneinfo, fold=0) does; DuckDB alone takes the later one.
windows AS (
    SELECT w.*,
           CASE WHEN timezone('Europe/London', timezone('Europe/London', l28) - INTERVAL 1 HOUR) = l28
                THEN timezone('Europe/London', l28) - INTERVAL 1 HOUR ELSE timezone('Europe/London', l28) END AS w28,
           CASE WHEN timezone('Europe/London', timezone('Europe/London', l2m) - INTERVAL 1 HOUR) = l2m
                THEN timezone('Europe/London', l2m) - INTERVAL 1 HOUR ELSE timezone('Europe/London', l2m) END AS w2m
    FROM local_windows w
),
repeats AS (
    SELECT w.ref, w.child_id, coalesce(w.reported_at, w.started_at) AS trig,
           count(*) FILTER (WHERE c.started_at > w.w28) AS n28, count(*) FILTER (WHERE c.started_at > w.w2m) AS n2m
    FROM windows w JOIN counted c
      ON c.child_id = w.child_id AND c.started_at <= w.started_at AND c.started_at > least(w.w28, w.w2m)
    GROUP BY ALL
),
high AS (SELECT episode_id, min(assessed_at) AS trig FROM risks WHERE risk_level = 'high' GROUP BY episode_id)
SELECT child_id, ref || ':rhi.within_72h_of_return' AS key, 'rhi.within_72h_of_return' AS rule_id,
       return_notified_at AS trigger_at, return_notified_at + INTERVAL 72 HOUR AS due_at
  FROM applies WHERE return_notified_at IS NOT NULL
UNION ALL
SELECT child_id, ref || ':strategy.missing_24h', 'strategy.missing_24h', started_at + INTERVAL 24 HOUR,
       started_at + INTERVAL 24 HOUR
  FROM applies WHERE ended IS NULL OR ended > started_at + INTERVAL 24 HOUR
UNION ALL
SELECT child_id, ref || ':' || r.rule_id, r.rule_id, started_at + INTERVAL 72 HOUR, started_at + INTERVAL 72 HOUR
  FROM applies, (VALUES ('strategy.missing_72h'), ('serious.missing_72h')) r(rule_id)
  WHERE ended IS NULL OR ended > started_at + INTERVAL 72 HOUR
UNION ALL
SELECT child_id, ref || ':strategy.four_in_28_days', 'strategy.four_in_28_days', trig, trig FROM repeats WHERE n28 = 4
UNION ALL
SELECT child_id, ref || ':strategy.six_in_2_months', 'strategy.six_in_2_months', trig, trig FROM repeats WHERE n2m = 6
UNION ALL
SELECT a.child_id, a.ref || ':strategy.high_risk', 'strategy.high_risk', h.trig, h.trig + INTERVAL 24 HOUR
  FROM applies a JOIN high h ON h.episode_id = a.id
"""


def rules_reference(url: str) -> tuple[float, dict[str, Any]]:
    """DuckDB SQL over the same episodes (same children, same facts) computing the default policy's windows."""
    import pandas as pd

    _policy, facts, _skip = _facts(url)
    connection = _duckdb_over(facts)
    started = time.perf_counter()
    frame = connection.execute(REFERENCE_SQL).df()
    seconds = time.perf_counter() - started
    for name in ("trigger_at", "due_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return seconds, _digest(frame)


def _duckdb_over(facts):
    """A DuckDB connection over the facts' frames (London time zone), as ``REFERENCE_SQL`` reads them."""
    import duckdb
    import pandas as pd

    children = facts.children.assign(date_of_birth=pd.to_datetime(facts.children["date_of_birth"]).dt.date)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'Europe/London'")
    connection.register("episodes", facts.episodes)
    connection.register("children", children)
    connection.register("risks", facts.risks)
    return connection


# --- 2. the product's bulk path (load, evaluate, store) against DuckDB and a bulk insert ---------------------------


def _without_actions(url: str, copy: str) -> str:
    """A copy of a built SQLite database with no action stored and every child flagged: a first load's rules."""
    import shutil
    import sqlite3

    target = Path(copy)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(url.removeprefix("sqlite:///"), target)
    connection = sqlite3.connect(target)
    connection.execute("DELETE FROM action")
    connection.execute("UPDATE child SET needs_review = 1")
    connection.commit()
    connection.execute("VACUUM")
    connection.close()
    return f"sqlite:///{target}"


def bulk_path_ours(url: str, copy: str) -> tuple[float, dict[str, Any]]:
    """The rules-batch loop a first load or a policy change runs (``jobs.rules.review_next_batch`` until no child
    is left flagged): facts read, every rule evaluated, actions stored and interviews allocated."""
    from missing_episodes.jobs.rules import review_next_batch

    context = _context(_without_actions(url, copy))
    started = time.perf_counter()
    created = batches = 0
    while True:
        summary = review_next_batch(2000, context)
        created += summary["created"]
        batches += 1
        if summary["children"] == 0:
            break
    seconds = time.perf_counter() - started
    Path(copy).unlink(missing_ok=True)
    return seconds, {"actions": created, "batches": batches}


def bulk_path_reference(url: str, copy: str) -> tuple[float, dict[str, Any]]:
    """The floor: DuckDB computing the reference windows over the same facts, and one executemany of the actions
    (key, child, episode, rule, times, status) into the same action table and its indexes. The facts are read
    before the clock, as benchmark 2's reference does."""
    import sqlite3

    from missing_episodes.db.types import sqlite_utc_texts

    target = _without_actions(url, copy)
    policy, facts, _skip = _facts(target)
    connection = _duckdb_over(facts)
    database = sqlite3.connect(target.removeprefix("sqlite:///"))
    started = time.perf_counter()
    rows = _reference_actions(policy, connection, sqlite_utc_texts)
    database.executemany(f"INSERT INTO action ({', '.join(ACTION_COLUMNS)}) VALUES ({', '.join('?' * 11)})", rows)
    database.commit()
    seconds = time.perf_counter() - started
    database.close()
    Path(copy).unlink(missing_ok=True)
    return seconds, {"actions": len(rows)}


def bulk_path_reference_pg(url: str) -> tuple[float, dict[str, Any]]:
    """The floor on PostgreSQL: as ``bulk_path_reference``, the actions written by ``COPY`` (PostgreSQL's own bulk
    load) into the same action table and its indexes. ``url`` is a copy of the built database (the caller's
    template copy), whose action table is emptied first."""
    from missing_episodes.db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE action")
    policy, facts, _skip = _facts(url)
    duck = _duckdb_over(facts)
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        rows = _reference_actions(policy, duck)
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY action ({', '.join(ACTION_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return seconds, {"actions": len(rows)}


#: The columns the floors write for an action: what the product's insert of a first load's action needs.
ACTION_COLUMNS = ("key", "child_id", "episode_id", "kind", "rule_id", "policy_version", "trigger_at", "due_at",
                  "status", "created_at", "updated_at")


def _reference_actions(policy, connection, instants: Callable[[list[datetime]], list[Any]] = list
                       ) -> list[tuple[Any, ...]]:
    """The reference windows computed by DuckDB, as one row of ``ACTION_COLUMNS`` per action, each column of
    instants as ``instants`` gives it (aware datetimes for PostgreSQL's COPY; for SQLite's executemany the stored
    text, converted a column at a time as the product's own bulk insert does)."""
    from missing_episodes.clock import now

    frame = connection.execute(
        "SELECT r.*, e.id AS episode_id FROM (" + REFERENCE_SQL + ") r "
        "JOIN episodes e ON e.ref = split_part(r.key, ':', 1)").df()  # an equi-join: a hash join, not a nested loop
    kinds = {rule.id: rule.action for rule in policy.rules}
    stamp = instants([now()])[0]
    triggers, dues = (instants(list(frame[name].dt.to_pydatetime())) for name in ("trigger_at", "due_at"))
    return [
        (key, int(child), int(episode), kinds[rule], rule, policy.version, trigger, due, "open", stamp, stamp)
        for key, child, episode, rule, trigger, due in zip(
            frame["key"], frame["child_id"], frame["episode_id"], frame["rule_id"], triggers, dues, strict=True)
    ]


# --- 3. the daily run ----------------------------------------------------------------------------------------------


def write_daily_feed(path: str, region: str, day: str, notifications: int = 200) -> None:
    """A day's police feed for children of the region: new episodes reported, some found, some graded."""
    import csv

    from missing_episodes.synthetic import NOTIFICATION_FIELDS

    children = []
    with (Path(region) / "children.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["legal_status"] != "care_leaver" and row["uasc"] != "yes":
                children.append(row)
            if len(children) >= notifications:
                break
    moment = date.fromisoformat(day) - timedelta(days=1)
    rows = []
    for number in range(notifications):
        child = children[(number // 2) % len(children)]
        incident = f"KBP-DAILY-{number // 2:05d}"
        hour = 7 + (number // 2) % 14
        base = {name: "" for name in NOTIFICATION_FIELDS}
        base.update(incident_ref=incident, child_id=child["child_id"], first_name=child["first_name"],
                    last_name=child["last_name"], date_of_birth=child["date_of_birth"],
                    responsible_authority=child["responsible_authority"])
        if number % 2 == 0:
            rows.append({**base, "notification_id": f"KBP-MSG-DAILY-{number:05d}", "event": "missing",
                         "sent_at": f"{moment}T{hour:02d}:30:00", "last_seen_at": f"{moment}T{hour:02d}:00:00",
                         "last_seen_location": "town centre", "risk_level": "medium"})
        elif number % 4 == 1:
            rows.append({**base, "notification_id": f"KBP-MSG-DAILY-{number:05d}", "event": "found",
                         "sent_at": f"{moment}T{hour + 2:02d}:30:00", "found_at": f"{moment}T{hour + 2:02d}:00:00",
                         "found_location": "home"})
        else:
            rows.append({**base, "notification_id": f"KBP-MSG-DAILY-{number:05d}", "event": "update",
                         "sent_at": f"{moment}T{hour + 1:02d}:30:00", "risk_level": "high",
                         "notes": "risk raised after a sighting"})
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, NOTIFICATION_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@contextlib.contextmanager
def _prefect_server(workdir: Path, prefect_url: str | None):
    """Prefect's test server (its own SQLite database), or with ``prefect_url`` a ``prefect server start`` on that
    PostgreSQL database, as a production server runs: this process's client points at it while the block runs."""
    if prefect_url is None:
        from prefect.testing.utilities import prefect_test_harness

        # The test server's start alone took 90 s on a loaded machine; it is set-up, not measured.
        with prefect_test_harness(server_startup_timeout=600):
            yield
        return
    from deployments.local import running_server

    with running_server(workdir / "prefect-server", database_url=prefect_url, ui=False) as server, \
            server.client_settings():
        yield


def daily_run(url: str, feed: str, day: str, workdir: str, subflows: int = 30,
              prefect_url: str | None = None, concurrency: int | None = None) -> tuple[float, dict[str, Any]]:
    """The real daily flow (ingest from a drop folder, per-child subflows, roll-forward, briefing) on Prefect's
    test server, or on a PostgreSQL-backed server with ``prefect_url``; then as many bare subflows as the run made,
    under the same bound; then per-child subflows against bare subflows, interleaved, in the same process."""
    import asyncio
    import shutil

    work = Path(workdir)
    inbox = work / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(feed, inbox / "police-today.csv")
    (work / "sources.yaml").write_text(
        "sources:\n  - {name: police, feed: notifications, type: folder, inbox: inbox, archive: archive}\n"
    )
    os.environ.update(
        MISSING_EPISODES_DATABASE_URL=url, MISSING_EPISODES_SOURCES=str(work / "sources.yaml"),
        MISSING_EPISODES_OUTPUT_DIR=str(work / "out"), MISSING_EPISODES_BULK_THRESHOLD="100000",
        PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        # The test server keeps its own database in SQLite. Under load its services (the task-run recorder) and the
        # API's writes collide ("database is locked"), and the API answers 503 for the client to retry. Prefect's
        # default of 5 retries (about a minute of back-off) was not enough on a shared machine, and the whole run
        # failed. Retrying longer changes nothing measured except when the server was busy, on either history.
        PREFECT_CLIENT_MAX_RETRIES="9",
    )
    if concurrency is not None:  # per-child subflows at once (the product's default suits a SQLite-backed server)
        os.environ["MISSING_EPISODES_EPISODE_CONCURRENCY"] = str(concurrency)
    from prefect import flow

    from flows.child import child_checks
    from flows.daily import daily_run as daily
    from missing_episodes.jobs import Context

    @flow(name="bare-subflow")
    async def bare(child_ref: str) -> dict[str, int]:
        return {}

    @flow(name="bench-subflows")
    async def compare(refs: list[str]) -> dict[str, float]:
        ours = reference = 0.0
        await child_checks(refs[0], [])  # first calls register the flows with the server: not counted
        await bare(refs[0])
        for ref in refs:  # interleaved: A B A B
            at = time.perf_counter()
            await child_checks(ref, [])
            ours += time.perf_counter() - at
            at = time.perf_counter()
            await bare(ref)
            reference += time.perf_counter() - at
        return {"child_subflow_s": ours / len(refs), "bare_subflow_s": reference / len(refs)}

    @flow(name="bench-bare-subflows")
    async def bare_many(count: int, bound: int) -> None:
        """``count`` bare subflows, at most ``bound`` at once: what the daily run's subflows cost in Prefect alone."""
        limit = asyncio.Semaphore(bound)

        async def one(number: int) -> None:
            async with limit:
                await bare(f"CH-{number:012X}")

        await asyncio.gather(*(one(number) for number in range(count)))

    with _prefect_server(work, prefect_url):
        started = time.perf_counter()
        result = asyncio.run(daily(date.fromisoformat(day)))
        seconds = time.perf_counter() - started
        made = int(result["rules"].get("subflows") or 0)  # type: ignore[index]
        at = time.perf_counter()
        asyncio.run(bare_many(made, Context.load().settings.episode_concurrency))
        bare_batch = time.perf_counter() - at
        context = Context.load()
        with context.session() as session:
            from sqlalchemy import select

            from missing_episodes.db.models import Child, Episode

            refs = list(session.scalars(
                select(Child.ref).join(Episode, Episode.child_id == Child.id)
                .where(Episode.incident_ref.like("KBP-DAILY-%")).distinct().limit(subflows)
            ))
        subflow = asyncio.run(compare(refs)) if refs else {}
    rules = result["rules"]  # type: ignore[index]
    return seconds, {"subflows": rules.get("subflows"), "ingest": result["ingest"], "children": rules.get("children"),
                     "bare_subflows_s": bare_batch, **subflow}


# --- 4. the worklist -----------------------------------------------------------------------------------------------


def worklist_ours(url: str, as_of: str, out: str) -> tuple[float, dict[str, Any]]:
    """``missing-episodes actions --as-of … --json``, the CLI command in-process, its JSON written to a file."""
    os.environ["MISSING_EPISODES_DATABASE_URL"] = url
    import missing_episodes.db.engine
    import missing_episodes.worklist  # noqa: F401  (the command imports these lazily; imports are not the query)
    from cli import app

    started = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh, contextlib.redirect_stdout(fh):
        app(["actions", "--as-of", as_of, "--json"], standalone_mode=False)
    seconds = time.perf_counter() - started
    with open(out, encoding="utf-8") as fh:
        count = len(json.load(fh))
    return seconds, {"rows": count}


def worklist_reference(url: str, as_of: str) -> tuple[float, dict[str, Any]]:
    """One plain SQL select of the same rows (the worklist's join and filter), fetched with the bare driver."""
    from missing_episodes.clock import parse_time

    moment = parse_time(as_of)
    sql = (
        "SELECT a.*, c.ref, c.person_id, e.incident_ref, e.ref FROM action a JOIN child c ON a.child_id = c.id "
        "LEFT JOIN episode e ON a.episode_id = e.id WHERE a.trigger_at <= {p} AND a.status != 'withdrawn' "
        "ORDER BY a.due_at, a.key"
    )
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        started = time.perf_counter()
        rows = connection.execute(sql.format(p="?"), (moment.replace(tzinfo=None).isoformat(" "),)).fetchall()
    else:
        import psycopg

        connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        started = time.perf_counter()
        rows = connection.execute(sql.format(p="%s"), (moment,)).fetchall()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, {"rows": len(rows)}


def explain(url: str, as_of: str) -> tuple[float, dict[str, Any]]:
    """SQLite query plans of the worklist, briefing and review queries (SCAN = a full table scan)."""
    import sqlite3

    from missing_episodes.clock import parse_time

    moment = parse_time(as_of).replace(tzinfo=None).isoformat(" ")
    queries = {
        "worklist": "SELECT * FROM action a JOIN child c ON a.child_id = c.id LEFT JOIN episode e "
                    "ON a.episode_id = e.id WHERE a.trigger_at <= ? AND a.status != 'withdrawn' "
                    "ORDER BY a.due_at, a.key",
        "worklist (open kinds, briefing)": "SELECT * FROM action a JOIN child c ON a.child_id = c.id LEFT JOIN "
                    "episode e ON a.episode_id = e.id WHERE a.trigger_at <= ? AND a.status != 'withdrawn' AND "
                    "a.kind IN ('return_home_interview','strategy_meeting','serious_notification') "
                    "ORDER BY a.due_at, a.key",
        "briefing episodes in view": "SELECT * FROM episode e LEFT JOIN child c ON e.child_id = c.id WHERE "
                    "e.kind IS NOT NULL AND e.started_at IS NOT NULL AND e.started_at <= ? AND (e.found_at IS NULL "
                    "OR e.found_at > ? OR e.reported_at > ? OR e.started_at > ?) ORDER BY e.started_at, e.ref",
        "briefing repeat children": "SELECT child_id, kind, started_at FROM episode WHERE child_id IS NOT NULL AND "
                    "other_authority = 0 AND kind IS NOT NULL AND started_at > ? AND started_at <= ?",
        "review: children needing review": "SELECT id FROM child WHERE needs_review = 1 ORDER BY id",
        "review: still missing": "SELECT child_id FROM episode WHERE status = 'open' AND child_id IS NOT NULL",
        "outcome: episode by incident": "SELECT id FROM episode WHERE incident_ref = ?",
    }
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    plans = {}
    for name, sql in queries.items():
        arguments = (moment,) * sql.count("?")
        plans[name] = [row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, arguments)]
    connection.close()
    return 0.0, {"plans": plans}


# --- 5. the briefing pack ------------------------------------------------------------------------------------------


def write_open_feed(path: str, open_episodes: int, day: str) -> None:
    """``open_episodes`` children reported missing over the three days before ``day`` and not yet found."""
    import csv

    from missing_episodes.synthetic import NOTIFICATION_FIELDS

    first = date.fromisoformat(day) - timedelta(days=3)
    levels = ("high", "medium", "low", "no_apparent_risk")
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, NOTIFICATION_FIELDS, lineterminator="\n")
        writer.writeheader()
        for number in range(open_episodes):
            when = first + timedelta(days=number % 3)
            hour = 6 + number % 15
            writer.writerow({
                **{name: "" for name in NOTIFICATION_FIELDS},
                "notification_id": f"KBP-MSG-OPEN-{number:06d}", "sent_at": f"{when}T{hour:02d}:40:00",
                "event": "missing", "incident_ref": f"KBP-OPEN-{number:06d}", "child_id": f"B{number:07d}",
                "first_name": f"Child{number}", "last_name": "Bench", "date_of_birth": f"{2010 + number % 6}-05-17",
                "last_seen_at": f"{when}T{hour:02d}:10:00", "last_seen_location": "the park near the station",
                "risk_level": levels[number % 4], "responsible_authority": "Kingsbridge",
                "clothing": "black hoodie, grey joggers",
            })


def build_open_database(url: str, feed: str) -> tuple[float, dict[str, Any]]:
    from missing_episodes.jobs.ingest import ensure_schema, ingest_path
    from missing_episodes.jobs.rules import review_next_batch

    context = _context(url)
    ensure_schema(context)
    started = time.perf_counter()
    ingest_path("notifications", Path(feed), "police", context)
    while review_next_batch(2000, context)["children"]:
        pass
    return time.perf_counter() - started, {}


def briefing_ours(url: str, day: str, out_dir: str) -> tuple[float, dict[str, Any]]:
    """``jobs.documents.produce_briefing``: the queries, the pack, the Jinja template, the HTML and the PDF."""
    os.environ["MISSING_EPISODES_DATABASE_URL"] = url
    import weasyprint  # noqa: F401  (imported before the clock on both sides: WeasyPrint takes a second to import)

    from missing_episodes.jobs.documents import produce_briefing

    started = time.perf_counter()
    produced = produce_briefing(date.fromisoformat(day), out_dir)
    return time.perf_counter() - started, {"counts": produced.counts, "files": produced.files}


def briefing_reference(html_path: str, out_dir: str) -> tuple[float, dict[str, Any]]:
    """WeasyPrint alone, laying out the finished HTML the product wrote."""
    from missing_episodes.documents.render import write_pdf

    html = Path(html_path).read_text(encoding="utf-8")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_pdf(html, Path(out_dir) / "reference.pdf")
    return time.perf_counter() - started, {"html_bytes": len(html)}


def apply_deployments() -> tuple[float, dict[str, Any]]:
    """``python -m deployments``'s apply step against ``PREFECT_API_URL`` (benchmark 6's set-up: the desk pool and
    the command line's deployments)."""
    import asyncio

    from deployments.apply import apply

    started = time.perf_counter()
    applied = asyncio.run(apply())
    return time.perf_counter() - started, {"deployments": len(applied.deployments)}
