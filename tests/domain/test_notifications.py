"""Notifications (issue 17): each due, overdue, reassigned and escalation message reaches the right person exactly
once, over a real SMTP server on loopback with STARTTLS (aiosmtpd, a certificate authority made here), through a
simulated day (08:00 to 08:00 in 15-minute steps, the clock fixed by ``MISSING_EPISODES_NOW``), a replay of it, a
server stopped mid-run, and two workers at once. The expected tables are worked out by hand from the default
policy and the staff and rota files (``tests/builders/notify.py``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from missing_episodes.clock import UTC, as_london
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, AuditEvent, Delivery, Notice
from missing_episodes.feeds import DEFAULT_SOURCE
from missing_episodes.jobs.context import Context
from missing_episodes.jobs.ingest import ensure_schema, ingest_path
from missing_episodes.jobs.notifications import send_notifications
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.notifications.directory import DirectoryError, Rota, Staff
from missing_episodes.notifications.hours import in_office_hours
from missing_episodes.notifications.outbox import pending_or_failed
from missing_episodes.policy import PolicyError, load_policy, parse_policy
from tests.builders.notify import (
    EXPECTED,
    GRACE,
    HELEN,
    MARTIN,
    PRIYA,
    RAY,
    REASSIGNED_AT,
    STEPS,
    local,
    seed_day,
)
from tests.builders.smtp import Received, SmtpServer

POLICY = DATA_DIR / "policies" / "default.yaml"


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, "starttls").start()
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    try:
        yield server
    finally:
        server.stop()


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv("MISSING_EPISODES_NOW", moment.isoformat())


def _key(received: Received) -> tuple[str, str, str]:
    """(action key, recipient, reason) of a received message, read from its body and subject."""
    message = received.message
    body = message.get_body(("plain",)).get_content()
    action = next(line.split(":", 1)[1].strip() for line in body.splitlines() if line.startswith("Reference:"))
    subject = str(message["Subject"])
    reason = ("form" if "Serious notification form" in subject else "overdue" if ": Overdue:" in subject
              else "reassigned" if ": Now yours:" in subject else "due" if ": Due now:" in subject
              else "escalation:" + subject.split("Escalated to ", 1)[1].split(":", 1)[0])
    return action, received.recipients[0], reason


def _run_day(monkeypatch: pytest.MonkeyPatch, context: Context, steps: list[datetime],
             each: object = None) -> dict[tuple[str, str, str], datetime]:
    """Call the job at every step; returns, per key, the step at which the job first recorded it as sent."""
    arrived: dict[tuple[str, str, str], datetime] = {}
    for step in steps:
        _at(monkeypatch, step)
        if callable(each):
            each(step)
        send_notifications(context)
        with session_scope(context.settings.database_url) as session:
            for notice in session.scalars(select(Notice).where(Notice.status == "sent")):
                arrived.setdefault((notice.action_key, notice.recipient, notice.reason), step)
    return arrived


@pytest.fixture
def day(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    with session_scope(db_url) as session:
        seed_day(session)
    return Context.load()


def _reassign(context: Context) -> object:
    def each(step: datetime) -> None:
        if step == REASSIGNED_AT:
            with session_scope(context.settings.database_url) as session:
                action = session.scalar(select(Action).where(Action.key == "EP-BEN:rhi.within_72h_of_return"))
                assert action is not None
                action.assigned_to = "Grace Okafor"
    return each


def test_a_day_sends_each_message_once_to_the_right_person_when_due_and_none_on_replay(
        day: Context, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    arrived = _run_day(monkeypatch, day, STEPS, _reassign(day))
    received = Counter(_key(message) for message in smtp.received)
    assert received == Counter(EXPECTED.keys())  # each exactly once, nothing else
    assert arrived == EXPECTED  # each at the run of the moment it fell due
    # A replay of the whole day, and the last moment again: nothing more.
    _run_day(monkeypatch, day, STEPS)
    assert len(smtp.received) == len(EXPECTED)
    with session_scope(day.settings.database_url) as session:
        assert pending_or_failed(session) == []


def test_messages_carry_refs_and_the_action_and_no_name_on_a_channel_not_secure(
        day: Context, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _run_day(monkeypatch, day, [s for s in STEPS if s <= local(11, 2, 12)])
    form = next(m for m in smtp.received if _key(m)[2] == "form")
    message = form.message
    body = message.get_body(("plain",)).get_content()
    assert "EP-AMY" in str(message["Subject"]) and "Amy" not in str(message["Subject"])
    assert "CH-AMY" in body and "EP-AMY" in body and "Serious notification form, missing 72 hours" in body
    assert "Amy" not in body and "Ashdown" not in body
    assert list(message.iter_attachments()) == []  # not secure: the form stays in the output store
    assert "serious-notification-EP-AMY-serious-missing_72h.pdf" in body
    with session_scope(day.settings.database_url) as session:
        delivery = session.scalar(select(Delivery).where(
            Delivery.key == "serious_notification_draft:EP-AMY:serious.missing_72h"))
        assert delivery is not None and delivery.sent_at is not None and delivery.subject_ref == "EP-AMY"
        events = session.scalars(select(AuditEvent.event).where(
            AuditEvent.entity_ref == "EP-AMY:serious.missing_72h")).all()
        assert list(events) == ["form_sent"]
    assert (day.settings.output_dir / "serious_notification" / "serious-notification-EP-AMY-serious-missing_72h.docx"
            ).exists()


def test_on_a_secure_channel_the_name_is_given_and_the_form_attached(
        db_url: str, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["mail"] = {"secure": True}
    policy = tmp_path / "secure.yaml"
    policy.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("MISSING_EPISODES_POLICY", str(policy))
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    with session_scope(db_url) as session:
        seed_day(session)
    _run_day(monkeypatch, Context.load(), [local(11, 2, 8), local(11, 2, 12)])
    form = next(m for m in smtp.received if _key(m)[2] == "form").message
    assert "Amy Ashdown-Birch" in form.get_body(("plain",)).get_content()
    assert sorted(p.get_filename() for p in form.iter_attachments()) == [
        "serious-notification-EP-AMY-serious-missing_72h.docx", "serious-notification-EP-AMY-serious-missing_72h.pdf"]
    due = next(m for m in smtp.received if _key(m)[2] == "due").message
    assert list(due.iter_attachments()) == []  # only the form is a document


def test_the_server_stopped_mid_run_loses_nothing_and_sends_nothing_twice(
        day: Context, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 12:00 run owes the Team Manager two messages (the serious notification due, and its form): the first gets
    # through, then the server goes down in the middle of the run (the second is refused, later ones find no server).
    noon = [s for s in STEPS if s <= local(11, 2, 12)]
    _run_day(monkeypatch, day, noon[:-1], _reassign(day))
    before = len(smtp.received)
    smtp.stop_after = before + 1
    _at(monkeypatch, noon[-1])
    result = send_notifications(day)
    assert (result.sent, result.failed) == (1, 1)
    for _ in range(100):  # the server stops itself in a thread of its own
        if not smtp.running:
            break
        time.sleep(0.05)
    assert not smtp.running
    # While it is down, every run records failures and nothing is lost: the failed notices are listed.
    afternoon = [s for s in STEPS if local(11, 2, 12) < s <= local(11, 2, 15)]
    _run_day(monkeypatch, day, afternoon, _reassign(day))
    with session_scope(day.settings.database_url) as session:
        waiting = pending_or_failed(session)
        assert {n.status for n in waiting} == {"failed"} and all(n.last_error for n in waiting)
        assert {(n.action_key, n.recipient, n.reason) for n in waiting} <= set(EXPECTED)
        assert max(n.attempts for n in waiting) > 1
        failed = {(n.action_key, n.recipient, n.reason, "failed") for n in waiting}
    listed = [json.loads(line) for line in CliRunner().invoke(app, ["notices", "--json"]).output.splitlines()]
    assert {(row["action"], row["recipient"], row["reason"], row["status"]) for row in listed} == failed
    assert all(row["error"] for row in listed)
    # The server comes back: the next run sends what failed, once, and the day goes on.
    smtp.start()
    _run_day(monkeypatch, day, [s for s in STEPS if s > local(11, 2, 15)])
    assert Counter(_key(m) for m in smtp.received) == Counter(EXPECTED.keys())
    with session_scope(day.settings.database_url) as session:
        assert pending_or_failed(session) == []


@pytest.mark.postgres
def test_two_workers_at_once_send_each_message_once(
        pg_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", pg_url)
    with session_scope(pg_url) as session:
        seed_day(session)
    context = Context.load()
    _at(monkeypatch, local(11, 2, 8))
    send_notifications(context)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            send_notifications(context)
        except BaseException as exc:  # reported below
            errors.append(exc)

    for step in (local(11, 2, 10), local(11, 2, 12), local(11, 2, 14), local(11, 2, 19)):
        _at(monkeypatch, step)

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert errors == []
    keys = Counter(_key(m) for m in smtp.received)
    assert set(keys.values()) == {1}
    assert set(keys) == {k for k, at in EXPECTED.items() if at <= local(11, 2, 19) and "reassigned" not in k[2]}


def _sample(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Context:
    """The bundled sample, loaded and its rules run as of its briefing morning (Monday 2 November 08:30)."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-02T08:30")
    context = Context.load()
    ensure_schema(context)
    for kind in ("children", "notifications", "outcomes"):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", DEFAULT_SOURCE[kind], context)
    while review_next_batch(2000, context).get("children"):
        pass
    return context


def test_the_sample_day_tells_the_on_call_contact_of_the_night_s_strategy_meeting_once(
        sqlite_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the sample, the one clock that fires between Monday 08:00 and Tuesday 08:00 is the 24-hour strategy
    meeting of the child missing since Sunday 21:40 (due at once): at 21:40, out of hours, the on-call contact is
    told; the strategy meeting ladder's Service Manager (+4 h) is due at 01:40, out of hours too: the on-call
    contact again. The day staff (09:00) and the Head of Service (+12 h, 09:40) come after the day: checked after
    it."""
    context = _sample(monkeypatch, sqlite_url)
    with session_scope(sqlite_url) as session:
        action = session.scalar(select(Action).where(Action.rule_id == "strategy.missing_24h", Action.status == "open",
                                                     Action.trigger_at > STEPS[0]))
        assert action is not None and action.due_at == action.trigger_at
        key = action.key
        assert f"{as_london(action.trigger_at):%a %H:%M}" == "Mon 21:40"
    expected = {(key, RAY, "due"): local(11, 2, 21, 45),
                (key, RAY, "escalation:Service Manager"): local(11, 3, 1, 45)}
    arrived = _run_day(monkeypatch, context, STEPS)
    # Other clocks of the sample fire that day too (the return checks of issue 15's rules): each is told once,
    # and this meeting's messages are exactly these.
    assert {k: at for k, at in arrived.items() if k[0] == key} == expected
    sent = Counter(_key(m) for m in smtp.received)
    assert set(sent.values()) == {1} and set(sent) == set(arrived)
    _run_day(monkeypatch, context, STEPS)
    assert len(smtp.received) == len(arrived)  # a replay of the day sends nothing
    # Office hours begin at 09:00: the day staff hear of the night's events (the child's Team Manager that the
    # meeting is due, the Service Manager of the escalation); at 09:45 the Head of Service (+12 h, 09:40).
    morning = _run_day(monkeypatch, context, [local(11, 3, 9), local(11, 3, 9, 15), local(11, 3, 9, 45)])
    assert {k: at for k, at in morning.items() if k not in expected and k[0] == key} == {
        (key, "tom.ashworth@kingsbridge.example", "due"): local(11, 3, 9),
        (key, MARTIN, "escalation:Service Manager"): local(11, 3, 9),
        (key, "sarah.doyle@kingsbridge.example", "escalation:Head of Service"): local(11, 3, 9, 45)}
    assert len(smtp.received) == len(morning)  # every notice recorded as sent arrived, once
    assert set(Counter(_key(m) for m in smtp.received).values()) == {1}


def test_without_an_smtp_host_nothing_is_recorded(day: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _at(monkeypatch, local(11, 2, 12))
    assert send_notifications(day).mail is False
    with session_scope(day.settings.database_url) as session:
        assert session.scalar(select(Notice)) is None


def test_a_role_nobody_holds_is_kept_as_unroutable_and_listed(
        day: Context, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("".join(line for line in (DATA_DIR / "staff.csv").read_text(encoding="utf-8")
                             .splitlines(keepends=True) if "Service Manager" not in line), encoding="utf-8")
    monkeypatch.setenv("MISSING_EPISODES_STAFF", str(staff))
    context = Context.load()
    _run_day(monkeypatch, context, [local(11, 2, 8), local(11, 2, 14)])
    with session_scope(context.settings.database_url) as session:
        [waiting] = pending_or_failed(session)
        assert (waiting.status, waiting.recipient, waiting.reason) == (
            "unroutable", "role:Service Manager", "escalation:Service Manager")


# -- the parts -----------------------------------------------------------------------------------------------


def test_office_hours_are_working_days_between_start_and_end() -> None:
    hours = load_policy(POLICY).hours
    assert in_office_hours(local(11, 2, 9), hours) and in_office_hours(local(11, 2, 16, 59), hours)
    assert not in_office_hours(local(11, 2, 17), hours) and not in_office_hours(local(11, 2, 8, 59), hours)
    assert not in_office_hours(local(10, 31, 12), hours)  # Saturday
    assert not in_office_hours(datetime(2026, 12, 28, 12, tzinfo=UTC), hours)  # Boxing Day substitute bank holiday
    assert in_office_hours(datetime(2026, 12, 29, 12, tzinfo=UTC), hours)


def test_the_rota_names_who_is_on_call_and_falls_back_to_the_standing_contact() -> None:
    rota = Rota.load(DATA_DIR / "rota.csv")
    assert rota.on_call(local(11, 2, 23)).email == RAY  # type: ignore[union-attr]
    assert rota.on_call(local(11, 3, 9)).email == "edt@kingsbridge.example"  # type: ignore[union-attr]
    staff = Staff.load(DATA_DIR / "staff.csv")
    assert [p.email for p in staff.holders("Team Manager", "Children in Care Team 1")] == [HELEN]
    assert staff.named("grace  OKAFOR").email == GRACE  # type: ignore[union-attr]


def test_bad_directory_files_are_refused_with_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "rota.csv"
    bad.write_text("from,to,name,email\n2026-11-02T17:00,,Ray,ray@x.example\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="row 2"):
        Rota.load(bad)
    (tmp_path / "staff.csv").write_text("name,email\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="missing column"):
        Staff.load(tmp_path / "staff.csv")


def test_the_policy_escalation_sections_are_checked() -> None:
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["escalation"]["after"]["strategy_meeting"] = [{"hours": 0}]
    with pytest.raises(PolicyError, match="one delay per level"):
        parse_policy(data)
    data["escalation"]["after"] = {"default": [{"hours": 0}] * 3, "tea_break": [{"hours": 0}] * 3}
    with pytest.raises(PolicyError, match="not an action kind"):
        parse_policy(data)
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["hours"] = {"start": "17:00", "end": "09:00"}
    with pytest.raises(PolicyError, match="before they end"):
        parse_policy(data)
    policy = load_policy(POLICY)
    assert policy.escalation.delays("strategy_meeting")[1].hours == 4
    assert policy.escalation.delays("police_report") == policy.escalation.after["default"]
    assert policy.mail.secure is False


def test_a_person_who_asked_for_a_digest_gets_one_morning_message_instead(
        day: Context, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Priya Sandhu asks for a digest: her 10:00 "overdue" waits for Tuesday's 08:00 digest (the policy's
    ``mail.digest_at``), which lists it; everyone else's messages are as in the day's table; a replay adds nothing."""
    staff = tmp_path / "staff.csv"
    lines = (DATA_DIR / "staff.csv").read_text(encoding="utf-8").splitlines()
    staff.write_text("\n".join([lines[0] + ",digest"] + [line + (",yes" if line.startswith("Priya") else ",")
                                                         for line in lines[1:]]) + "\n", encoding="utf-8")
    monkeypatch.setenv("MISSING_EPISODES_STAFF", str(staff))
    context = Context.load()
    arrived = _run_day(monkeypatch, context, STEPS, _reassign(context))
    singles = {key: at for key, at in EXPECTED.items() if key[1] != PRIYA}
    digest_key = ("digest:2026-11-03", PRIYA, "digest")
    assert arrived == {**singles, ("EP-AMY:rhi.within_72h_of_return", PRIYA, "overdue"): STEPS[-1],
                       digest_key: STEPS[-1]}
    to_priya = [m for m in smtp.received if m.recipients == [PRIYA]]
    assert len(to_priya) == 1 and len(smtp.received) == len(singles) + 1
    digest = to_priya[0].message
    assert "Morning digest 2026-11-03: 1 action(s)" in str(digest["Subject"])
    body = digest.get_body(("plain",)).get_content()
    assert "Overdue: Return Home Interview within 72 hours" in body and "EP-AMY:rhi.within_72h_of_return" in body
    assert "Amy" not in body
    _run_day(monkeypatch, context, STEPS)
    assert len(smtp.received) == len(singles) + 1
