"""The ``notice`` table as an outbox: insert before send, claim, send, retry, list.

Exactly once per (action, recipient, reason), whatever retries, replays or a second worker do:

1. ``record`` inserts each owed notice that is not there yet (the unique key makes a concurrent insert of the same
   notice fail, and that worker skips it). Nothing has been sent yet, so a crash here loses nothing.
2. ``claim`` takes every pending or failed notice that no live claim holds, in one conditional UPDATE: of two
   workers, one gets each row. A claim lasts ``LEASE``; a worker that died mid-send frees its rows when it ends.
3. ``send`` mails each claimed notice and stamps it ``sent``, or marks it ``failed`` with the error's type (never
   its text, which could quote an address) and frees it for the next run. A failed notice stays listed
   (``pending_or_failed``) until it goes; nothing is dropped.

A process killed between the SMTP server's acceptance and the ``sent`` stamp sends that one message again once the
claim expires: at-least-once is the safe side for a safeguarding message, and the window is one SMTP exchange.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missing_episodes.db.models import Notice
from missing_episodes.notifications.plan import Owed, Told

#: How long a claim holds a notice against other workers: longer than any one SMTP exchange (30 s timeout).
LEASE = timedelta(minutes=10)
SENDABLE = ("pending", "failed")


def told(session: Session, action_keys: Iterable[str]) -> dict[str, list[Told]]:
    """The notices already recorded for these actions (what planning needs to see a change of hands)."""
    keys = list(action_keys)
    found: dict[str, list[Told]] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(select(Notice.action_key, Notice.recipient, Notice.reason, Notice.recipient_role)
                               .where(Notice.action_key.in_(keys[start:start + 500])))
        for key, recipient, reason, role in rows:
            found.setdefault(key, []).append(Told(recipient, reason, role))
    return found


def record(session: Session, owed: Iterable[Owed], held_for: frozenset[str] | set[str] = frozenset()) -> int:
    """Insert the owed notices not yet in the table; returns how many this call inserted.

    Each insert is its own savepoint: a row another worker inserted first (unique key) is skipped, not an error.
    Unroutable ones (nobody in the staff file holds the role) are stored as ``unroutable``, to be listed and fixed.
    Those for a person in ``held_for`` (who asked for a morning digest) are ``held`` for it, except on-call
    messages and forms, which cannot wait.
    """
    owed = list(owed)
    present = {(n.action_key, n.recipient, n.reason) for n in owed_keys(session, owed)}
    inserted = 0
    for item in owed:
        if (item.action_key, item.recipient, item.reason) in present:
            continue
        try:
            with session.begin_nested():
                session.add(Notice(action_id=item.action_id, action_key=item.action_key, recipient=item.recipient,
                                   reason=item.reason, recipient_role=item.recipient_role, event_at=item.event_at,
                                   status=_status(item, held_for), attempts=0))
            inserted += 1
        except IntegrityError:
            pass
        present.add((item.action_key, item.recipient, item.reason))
    return inserted


def _status(item: Owed, held_for: frozenset[str] | set[str]) -> str:
    if not item.routable:
        return "unroutable"
    if item.recipient in held_for and item.recipient_role != "on_call" and item.reason not in ("form", "digest"):
        return "held"
    return "pending"


def held(session: Session, recipient: str | None = None) -> list[Notice]:
    """Notices held for a morning digest (of one person, or of everyone)."""
    query = select(Notice).where(Notice.status == "held")
    if recipient is not None:
        query = query.where(Notice.recipient == recipient)
    return list(session.scalars(query.order_by(Notice.event_at, Notice.id)))


@dataclass(frozen=True)
class _Key:
    action_key: str
    recipient: str
    reason: str


def owed_keys(session: Session, owed: list[Owed]) -> list[_Key]:
    """The keys of ``owed`` already in the table (one query per 500 actions)."""
    keys = sorted({item.action_key for item in owed})
    found: list[_Key] = []
    for start in range(0, len(keys), 500):
        found += [_Key(*row) for row in session.execute(
            select(Notice.action_key, Notice.recipient, Notice.reason)
            .where(Notice.action_key.in_(keys[start:start + 500])))]
    return found


def claim(session: Session, now: datetime) -> tuple[str, list[Notice]]:
    """Take every sendable notice no live claim holds; returns this claim's token and the rows it took."""
    token = uuid.uuid4().hex
    session.execute(
        update(Notice)
        .where(Notice.status.in_(SENDABLE), or_(Notice.claimed_until.is_(None), Notice.claimed_until < now))
        .values(claimed_by=token, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = session.scalars(select(Notice).where(Notice.claimed_by == token, Notice.status.in_(SENDABLE))
                           .order_by(Notice.event_at, Notice.id))
    return token, list(rows)


@dataclass
class SendCounts:
    sent: int = 0
    failed: int = 0


def send(session: Session, token: str, notices: Iterable[Notice], deliver: Callable[[Notice], None],
         now: Callable[[], datetime]) -> SendCounts:
    """Send each claimed notice with ``deliver`` and stamp it, one commit per notice (a crash loses no stamp)."""
    counts = SendCounts()
    for notice in notices:
        try:
            deliver(notice)
        except Exception as exc:
            session.rollback()
            finish(session, notice.id, token, status="failed", last_error=type(exc).__name__[:200])
            counts.failed += 1
        else:
            finish(session, notice.id, token, status="sent", sent_at=now())
            counts.sent += 1
    return counts


def finish(session: Session, notice_id: int, token: str, **values: object) -> None:
    """Stamp a notice this claim holds (and only if it still holds it) and free it."""
    session.execute(
        update(Notice)
        .where(and_(Notice.id == notice_id, Notice.claimed_by == token))
        .values(claimed_until=None, attempts=Notice.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def pending_or_failed(session: Session) -> list[Notice]:
    """Everything not yet delivered: pending, failed (with the error type and attempts), unroutable, held for a
    digest, and closed (the action was closed before its notice could go)."""
    return list(session.scalars(select(Notice).where(Notice.status != "sent")
                                .order_by(Notice.status, Notice.event_at, Notice.id)))
