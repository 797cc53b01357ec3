"""The worklist: stored actions as they stand at a moment.

An action is visible once its trigger has fired (``trigger_at <= as_of``). Its status as of that moment is read,
not stored: ``done``/``declined``/``not_required`` once the closing outcome was recorded by then, otherwise
``overdue`` past its due time and ``open`` before it. Withdrawn actions (facts or policy changed after they
fired; see the audit trail) are not on the worklist.

A region's worklist is over a million rows, so rows are streamed (``worklist_items``, ``json_chunks``) rather
than held, and times are put into London time with one zone lookup per UTC hour rather than one per value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import NamedTuple

import orjson
from sqlalchemy import DateTime, case, func, select, type_coerce
from sqlalchemy.orm import Session

from missing_episodes.batching import batched
from missing_episodes.clock import LONDON, UTC, as_london, as_utc
from missing_episodes.db.models import Action, Child, Episode

CLOSED_STATUSES = ("done", "declined", "not_required")
_STREAM_ROWS = 5000  # rows fetched (and JSON written) at a time: memory stays flat whatever the region's size


class WorklistItem(NamedTuple):
    """One row of the worklist (a tuple: a million of them are built on a region's history); times in London time."""

    child_ref: str
    child_id: str | None  # the authority's person id
    incident_ref: str | None
    episode_ref: str | None
    action: str
    rule: str
    policy_version: str
    trigger_at: datetime
    due_at: datetime
    status: str
    done_at: datetime | None
    done_by: str | None
    actor: str | None
    assigned_to: str | None
    assignment_note: str | None
    recipients: str | None
    evidence: str | None


def status_as_of(action, as_of: datetime) -> str:
    """The status at ``as_of`` of anything with ``status``, ``done_at`` and ``due_at`` (an Action, a row)."""
    return status_at(action.status, action.done_at, action.due_at, as_of)


def status_at(stored: str, done_at: datetime | None, due_at: datetime, as_of: datetime) -> str:
    """The status at ``as_of`` of an action stored with this status, closing time and due time."""
    if stored in CLOSED_STATUSES and done_at is not None and done_at <= as_of:
        return stored
    return "overdue" if due_at < as_of else "open"


def worklist(
    session: Session,
    as_of: datetime,
    *,
    kinds: tuple[str, ...] | None = None,
    include_closed: bool = True,
) -> list[WorklistItem]:
    """Every action whose trigger has fired by ``as_of``, with its status at that moment, by due time."""
    return list(worklist_items(session, as_of, kinds=kinds, include_closed=include_closed))


def worklist_items(
    session: Session,
    as_of: datetime,
    *,
    kinds: tuple[str, ...] | None = None,
    include_closed: bool = True,
) -> Iterator[WorklistItem]:
    """``worklist`` as a stream: plain columns fetched a few thousand rows at a time, never ORM objects."""
    as_of = as_utc(as_of)
    query = (
        select(
            # In WorklistItem's order (the stored status in its place), so a row is an item as it stands.
            Child.ref.label("child_ref"), Child.person_id, Episode.incident_ref, Episode.ref.label("episode_ref"),
            Action.kind, _rules(), Action.policy_version, _raw(Action.trigger_at), _raw(Action.due_at),
            Action.status, _raw(Action.done_at), Action.done_by, Action.actor, Action.assigned_to,
            Action.assignment_note, Action.recipients, Action.evidence,
        )
        .join(Child, Action.child_id == Child.id)
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(Action.trigger_at <= as_of, Action.status != "withdrawn")
        .order_by(Action.due_at, Action.key)
        .execution_options(yield_per=_STREAM_ROWS)
    )
    if kinds:
        query = query.where(Action.kind.in_(kinds))
    session.flush()  # as session.execute would; the rows are then read as Core rows, with no ORM loading
    for row in session.connection().execute(query):
        trigger_at, due_at, done_at = london(row[7]), london(row[8]), row[10] and london(row[10])
        status = status_at(row[9], done_at, due_at, as_of)
        if status in CLOSED_STATUSES:  # closed by then: the row as stored
            if include_closed:
                yield WorklistItem(*row[:7], trigger_at, due_at, status, done_at, *row[11:])
        else:  # open or overdue: who closed it later, when and how is not known yet at as_of
            yield WorklistItem(*row[:7], trigger_at, due_at, status, None, None, *row[12:16], None)


def _rules():
    """The rule id, and the rules folded into the action after it ("ltm.day1_home_office + care_leaver.home_office")."""
    return case((Action.also_rule_ids.is_(None), Action.rule_id),
                else_=Action.rule_id + " + " + func.replace(Action.also_rule_ids, ", ", " + ")).label("rule_id")


def _raw(column):
    """The column as the driver gives it (naive UTC on SQLite), not through ``UTCDateTime``: ``london`` reads
    both, and a million rows skip a Python call per value."""
    return type_coerce(column, DateTime(timezone=True)).label(column.key)


# --- JSON and London time for many rows ------------------------------------------------------------------------

def json_chunks(items: Iterable[WorklistItem]) -> Iterator[str]:
    """The items as one JSON array, text identical to ``json.dumps(list, indent=2, ensure_ascii=False)``.

    Written a few thousand items at a time: the standard encoder with ``indent`` is pure Python and needs the
    whole list in memory. orjson's two-space indent lays out a list of flat objects of strings and nulls exactly
    as the standard one does, so each batch is encoded in one call and the batches' brackets are stitched.
    """
    opening = "[\n"
    for batch in batched(map(_json_object, items), _STREAM_ROWS):
        yield opening + orjson.dumps(batch, option=orjson.OPT_INDENT_2).decode()[2:-2]
        opening = ",\n"
    yield "[]" if opening == "[\n" else "\n]"


def _json_object(item: WorklistItem) -> dict[str, str | None]:
    """One item as the JSON shows it: the person id (or our ref), times in ISO 8601 with their London offset."""
    return {
        "child_id": item.child_id or item.child_ref,
        "child_ref": item.child_ref,
        "incident_ref": item.incident_ref,
        "action": item.action,
        "rule": item.rule,
        "policy_version": item.policy_version,
        "trigger_at": item.trigger_at,  # London time already; orjson writes ISO 8601 with the offset, as isoformat()
        "due_at": item.due_at,
        "status": item.status,
        "done_at": item.done_at,
        "done_by": item.done_by,
        "actor": item.actor,
        "assigned_to": item.assigned_to,
        "assignment_note": item.assignment_note,
        "recipients": item.recipients,
        "evidence": item.evidence,
    }


def london(moment: datetime) -> datetime:
    """``clock.as_london`` for many instants: the zone's offset is looked up once per UTC day, not per value.

    A naive value is UTC as SQLite stores it (see ``_raw``).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_london_zone(moment.toordinal()))


@lru_cache(maxsize=1 << 16)
def _london_zone(day: int) -> tzinfo:
    """A fixed offset if London keeps one through this UTC day; the full zone on the days the clocks change."""
    start = datetime.fromordinal(day).replace(tzinfo=UTC)
    first = as_london(start).utcoffset()
    last = as_london(start + timedelta(days=1, microseconds=-1)).utcoffset()
    return timezone(first) if first == last and first is not None else LONDON
