"""The store's invariants, held by the database itself, on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from missing_episodes.db import (
    Action,
    AuditEvent,
    Child,
    Episode,
    Notification,
    make_engine,
    session_scope,
    upgrade,
)
from missing_episodes.db.engine import SQLITE_CACHE_KIB, normalise_url

LONDON = ZoneInfo("Europe/London")


def _audit(at: datetime, actor: str = "tester") -> AuditEvent:
    return AuditEvent(at=at, actor=actor, event="test", entity="child", entity_ref="CH-1")


def _notification(source: str = "police", message_id: str = "M-1") -> Notification:
    return Notification(
        source=source,
        feed="notifications",
        message_id=message_id,
        payload="{}",
        content_hash="0" * 64,
        outcome="applied",
    )


def test_fixture_gives_a_fresh_migrated_database(db_url: str) -> None:
    engine = make_engine(db_url)
    assert {"audit_event", "notification", "episode", "action", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )
    with session_scope(db_url) as session:
        assert session.scalars(select(Notification)).all() == []


def test_a_sqlite_connection_keeps_a_page_cache_a_first_load_s_indexes_fit_in(tmp_path) -> None:
    """2 MiB (SQLite's default) made each insert into a large index read its pages back from the OS."""
    with make_engine(f"sqlite:///{tmp_path / 'x.db'}").connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_sqlite_without_json_functions_is_refused_on_connect(tmp_path, monkeypatch) -> None:
    import missing_episodes.db.engine as engine

    monkeypatch.setattr(engine, "json_functions_problem", lambda connection: "no JSON functions: use 3.38")
    with pytest.raises(RuntimeError, match=r"no JSON functions: use 3\.38"):
        engine.make_engine.__wrapped__(f"sqlite:///{tmp_path / 'y.db'}").connect()


def test_postgres_urls_drive_psycopg3(pg_url: str) -> None:
    url = make_url(pg_url)
    assert url.drivername == "postgresql+psycopg"
    assert make_engine(pg_url).dialect.driver == "psycopg"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 7, 1, 9, 30, tzinfo=LONDON),  # BST, UTC+1
        datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=LONDON),  # the second 01:30 of the autumn change (GMT)
        datetime(2024, 1, 15, 23, 59, 59, 123456, tzinfo=UTC),
        datetime(2024, 3, 31, 3, 0, tzinfo=ZoneInfo("America/New_York")),
    ],
    ids=["bst", "autumn-fold", "utc-microseconds", "other-zone"],
)
def test_aware_datetime_round_trips_as_the_same_instant_in_utc(db_url: str, moment: datetime) -> None:
    with session_scope(db_url) as session:
        session.add(_audit(moment))
    with session_scope(db_url) as session:
        stored = session.scalars(select(AuditEvent.at)).one()
    # Compared as timestamps: PEP 495 makes `==` between zones False for an ambiguous (fold) local time.
    assert stored.timestamp() == moment.timestamp()
    assert stored.tzinfo == UTC
    assert stored == moment.astimezone(UTC)


def test_naive_datetime_is_refused(db_url: str) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_scope(db_url) as session:
        session.add(_audit(datetime(2024, 7, 1, 9, 30)))
    with session_scope(db_url) as session:
        assert session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"],
    ids=["update", "delete"],
)
def test_audit_event_is_append_only(db_url: str, statement: str) -> None:
    with session_scope(db_url) as session:
        session.add(_audit(datetime(2024, 7, 1, 9, 30, tzinfo=UTC)))
    with pytest.raises(DBAPIError, match="append-only"), make_engine(db_url).begin() as connection:
        connection.execute(text(statement))
    with session_scope(db_url) as session:
        assert session.scalars(select(AuditEvent.actor)).all() == ["tester"]


def test_audit_event_refuses_an_orm_update(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(_audit(datetime(2024, 7, 1, 9, 30, tzinfo=UTC)))
    with pytest.raises(DBAPIError, match="append-only"), session_scope(db_url) as session:
        session.scalars(select(AuditEvent)).one().actor = "rewritten"


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(_notification())
    engine = make_engine(db_url)
    before = sorted(inspect(engine).get_table_names())
    with engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()

    upgrade(db_url)

    engine = make_engine(db_url)
    assert sorted(inspect(engine).get_table_names()) == before
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == head
    with session_scope(db_url) as session:
        assert session.scalars(select(Notification.message_id)).all() == ["M-1"]


def test_notification_is_unique_per_source_and_message_id(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(_notification("police", "M-1"))
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(_notification("police", "M-1"))
    # The same message id from another source is another message.
    with session_scope(db_url) as session:
        session.add(_notification("other-force", "M-1"))
        session.add(_notification("police", "M-2"))
    with session_scope(db_url) as session:
        assert len(session.scalars(select(Notification)).all()) == 3


def test_episode_is_unique_per_source_and_incident(db_url: str) -> None:
    def episode(ref: str) -> Episode:
        return Episode(ref=ref, source="police", incident_ref="INC-1", status="open", state_hash="0" * 64)

    with session_scope(db_url) as session:
        session.add(episode("EP-1"))
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(episode("EP-2"))


def test_action_key_is_unique(db_url: str) -> None:
    moment = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
    with session_scope(db_url) as session:
        child = Child(ref="CH-1")
        session.add(child)
        session.flush()
        child_id = child.id

    def action() -> Action:
        return Action(
            key="rhi:EP-1",
            child_id=child_id,
            kind="rhi",
            rule_id="rhi-72h",
            policy_version="test",
            trigger_at=moment,
            due_at=moment + timedelta(hours=72),
        )

    with session_scope(db_url) as session:
        session.add(action())
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(action())


def test_foreign_keys_are_enforced(db_url: str) -> None:
    """SQLite ignores foreign keys unless asked (make_engine's PRAGMA); an orphan action must fail on both."""
    moment = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(
            Action(
                key="orphan",
                child_id=999_999,
                kind="rhi",
                rule_id="r",
                policy_version="test",
                trigger_at=moment,
                due_at=moment,
            )
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u:p@h:5433/d", "postgresql+psycopg://u:p@h:5433/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///missing_episodes.db", "sqlite:///missing_episodes.db"),
    ],
)
def test_normalise_url_drives_postgres_with_psycopg3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_normalised_postgres_url_loads_the_psycopg3_dialect() -> None:
    dialect = make_url(normalise_url("postgresql://u@h/d")).get_dialect()
    assert dialect.driver == "psycopg"


def _instants(count: int) -> list[datetime | None]:
    """Instants in several zones, across both clock changes, with and without microseconds, and gaps."""
    start = datetime(2016, 3, 27, 0, 15, tzinfo=LONDON)
    zones = (LONDON, UTC, ZoneInfo("America/New_York"))
    return [
        None if n % 7 == 3 else (start + timedelta(minutes=37 * n, microseconds=n % 3)).astimezone(zones[n % 3])
        for n in range(count)
    ] + [datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=LONDON)]


def test_a_column_of_instants_is_written_as_the_column_type_writes_each_one() -> None:
    """SQLite's bulk inserts write an instant column a column at a time (``sqlite_utc_texts``): the same text as
    one value at a time, and a naive datetime anywhere in it refused the same way."""
    from missing_episodes.db.types import sqlite_utc_text, sqlite_utc_texts

    for count in (5, 20_000):  # below and above the column-at-a-time threshold
        values = _instants(count)
        assert sqlite_utc_texts(values) == [sqlite_utc_text(value) for value in values]
        with pytest.raises(ValueError, match="naive datetime"):
            sqlite_utc_texts([*values, datetime(2024, 7, 1, 9, 30)])


def test_instants_bulk_inserted_read_back_as_the_same_instants_in_utc(db_url: str) -> None:
    from missing_episodes.store import insert_many

    moments = [moment for moment in _instants(400) if moment is not None]
    with session_scope(db_url) as session:
        insert_many(session, AuditEvent, [
            {"at": moment, "actor": "tester", "event": "test", "entity": "child", "entity_ref": f"CH-{n}"}
            for n, moment in enumerate(moments)
        ])
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(AuditEvent.entity_ref, AuditEvent.at)).all())
    assert [stored[f"CH-{n}"] for n in range(len(moments))] == [moment.astimezone(UTC) for moment in moments]
    assert {moment.tzinfo for moment in stored.values()} == {UTC}


def test_one_of_selects_what_in_selects_on_both_databases(db_url: str) -> None:
    """``store.one_of`` (``IN`` on SQLite, one array parameter with ``= ANY`` on PostgreSQL) keeps ``IN``'s
    answers: every matching row for text and integer keys, none for keys not stored or for no keys at all."""
    from missing_episodes.store import insert_many, one_of

    with session_scope(db_url) as session:
        insert_many(session, AuditEvent, [
            {"at": datetime(2024, 7, 1, tzinfo=UTC), "actor": "tester", "event": "test", "entity": "child",
             "entity_ref": f"CH-{n}"}
            for n in range(3000)
        ])
    with session_scope(db_url) as session:
        refs = [f"CH-{n}" for n in range(0, 3000, 3)] + ["CH-none"]
        found = session.scalars(select(AuditEvent.entity_ref).where(one_of(session, AuditEvent.entity_ref, refs)))
        assert sorted(found) == sorted(refs[:-1])
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        chosen = [*ids[::7], max(ids) + 1]
        assert sorted(session.scalars(select(AuditEvent.id).where(one_of(session, AuditEvent.id, chosen)))) == ids[::7]
        assert session.scalars(select(AuditEvent.id).where(one_of(session, AuditEvent.id, []))).all() == []




def test_one_of_sends_the_keys_as_one_parameter_and_reads_them_through_the_index(db_url: str) -> None:
    """``store.one_of`` sends any number of keys as one parameter on either database (an array, a JSON list), so
    its statement is the same text whatever their number, and it answers as ``IN`` would; SQLite looks each key
    up in the column's index (a list subquery over ``json_each``), not by scanning the table."""
    from sqlalchemy import event

    from missing_episodes.store import insert_many, one_of

    with session_scope(db_url) as session:
        insert_many(session, AuditEvent, [
            {"at": datetime(2024, 7, 1, tzinfo=UTC), "actor": "tester", "event": "test", "entity": "child",
             "entity_ref": f"CH-{n:05}"}
            for n in range(2500)
        ])
    refs = [f"CH-{n:05}" for n in range(40_000)]
    sent: list[tuple[str, object]] = []
    with session_scope(db_url) as session:
        engine = session.get_bind()
        found = session.execute(
            select(AuditEvent.id, AuditEvent.entity_ref).where(one_of(session, AuditEvent.entity_ref, refs))).all()
        assert sorted(ref for _id, ref in found) == refs[:2500]
        ids = [row_id for row_id, _ref in found]
        by_id = select(AuditEvent.entity_ref).where(one_of(session, AuditEvent.id, [*ids, *range(10**9, 10**9 + 9)]))

        def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert len(session.scalars(by_id).all()) == 2500
            assert len(session.scalars(select(AuditEvent.id).where(one_of(session, AuditEvent.id, ids[:3])))
                       .all()) == 3
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert [len(parameters) for _statement, parameters in sent] == [1, 1]
        if engine.dialect.name == "sqlite":
            statement, parameters = sent[0]
            plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            assert any(row[-1].startswith("SEARCH audit_event USING INTEGER PRIMARY KEY") for row in plan), plan
