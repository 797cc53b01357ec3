"""The one loader of what the rules read: a group of children's facts from the store, as rows, columns or objects.

Both evaluators read the same four things (children, their episodes, the police risk gradings, the case events),
so both read them here (``read_facts``, four set-based queries). The vectorised evaluator takes them as columns
(``load_facts``); the per-child one as ``facts`` objects straight from the rows (``as_objects``: no frames for
the few children of a subflow), and the bulk path's per-child fallback from the columns (``episode_facts``,
``outcome_facts``, ``child_facts``), through the same conversion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from missing_episodes.clock import COLUMN_TIME
from missing_episodes.db.models import Child, Episode, Outcome, RiskAssessment
from missing_episodes.facts import ChildFacts, EpisodeFacts, OutcomeFacts
from missing_episodes.store import one_of


@dataclass
class Facts:
    """Everything the rules read, as columns: one row per child, episode, risk grading and case event."""

    children: pd.DataFrame  # id, ref, legal_status, uasc, date_of_birth, has_immigration_solicitor
    episodes: pd.DataFrame  # id, ref, incident_ref, child_id, kind, started_at, reported_at, found_at,
    #                         return_notified_at, other_authority
    risks: pd.DataFrame  # episode_id, assessed_at, risk_level, notification_id
    outcomes: pd.DataFrame  # child_id, event_id, event, recorded_at, incident_ref, by, rationale, notes, risk_level

    def of_children(self, child_ids: set[int]) -> Facts:
        """The episodes and risk gradings of these children only (``episode_facts`` reads nothing else)."""
        episodes = self.episodes[self.episodes["child_id"].isin(list(child_ids))]
        risks = self.risks[self.risks["episode_id"].isin(episodes["id"])]
        return Facts(self.children, episodes, risks, self.outcomes)


def _frame(rows: list[Any], columns: list[str], times: tuple[str, ...] = ()) -> pd.DataFrame:
    # Plain tuples: pandas probes each SQLAlchemy Row for attributes it lacks (hasattr), a failed lookup apiece.
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)
    for name in times:  # UTCDateTime's values, or SQLite's naive UTC text of them (``read_facts(raw_instants=)``)
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601").astype(COLUMN_TIME)
    return frame


@dataclass
class FactRows:
    """The four queries' rows as read (Core rows, Python values): what both shapes of the facts are made from."""

    children: list[Any]  # id, ref, legal_status, uasc, date_of_birth, has_immigration_solicitor
    episodes: list[Any]  # as ``EPISODE_COLUMNS``
    risks: list[Any]  # episode_id, assessed_at, risk_level, notification_id
    outcomes: list[Any]  # as ``OUTCOME_COLUMNS``


CHILD_COLUMNS = ["id", "ref", "legal_status", "uasc", "date_of_birth", "has_immigration_solicitor"]
EPISODE_COLUMNS = ["id", "ref", "incident_ref", "child_id", "kind", "started_at", "reported_at", "found_at",
                   "return_notified_at", "other_authority"]
RISK_COLUMNS = ["episode_id", "assessed_at", "risk_level", "notification_id"]
#: The case event a police flag stands for, and the episode column holding when the police first raised it.
POLICE_FLAGS = {"trafficking_risk_identified": Episode.trafficking_risk_at}
OUTCOME_COLUMNS = ["child_id", "event_id", "event", "recorded_at", "incident_ref", "by", "rationale", "notes",
                   "risk_level"]


def read_facts(session: Session, child_ids: list[int] | None = None, *, raw_instants: bool = False) -> FactRows:
    """Read the facts of these children (all children when ``None``) in five set-based queries (the fifth, the
    police's flags, joins the case events: ``with_police_flags``).

    With ``raw_instants`` the instants come as the driver gives them (SQLite's UTC text, PostgreSQL's aware
    datetimes), for ``as_columns`` to parse a column at a time: the column type's conversion of each value, one
    Python call apiece, was most of reading a region's facts.
    """
    at = _raw if raw_instants else _typed
    child_q = select(Child.id, Child.ref, Child.legal_status, Child.uasc, Child.date_of_birth,
                     Child.immigration_solicitor.is_not(None).label("has_immigration_solicitor"))
    episode_q = select(
        Episode.id, Episode.ref, Episode.incident_ref, Episode.child_id, Episode.kind, at(Episode.started_at),
        at(Episode.reported_at), at(Episode.found_at), at(Episode.return_notified_at), Episode.other_authority,
    ).where(Episode.child_id.is_not(None))
    risk_q = select(
        RiskAssessment.episode_id, at(RiskAssessment.assessed_at), RiskAssessment.risk_level,
        RiskAssessment.notification_id,
    ).join(Episode, Episode.id == RiskAssessment.episode_id).where(Episode.child_id.is_not(None))
    outcome_q = select(
        Outcome.child_id, Outcome.event_id, Outcome.event, at(Outcome.recorded_at), Outcome.incident_ref,
        Outcome.by, Outcome.rationale, Outcome.notes, Outcome.risk_level,
    )
    flag_q = select(Episode.child_id, Episode.ref, Episode.incident_ref,
                    *(at(column) for column in POLICE_FLAGS.values())).where(
        Episode.child_id.is_not(None), Episode.other_authority.is_(False),
        or_(*(column.is_not(None) for column in POLICE_FLAGS.values())))
    if child_ids is not None:
        flag_q = flag_q.where(one_of(session, Episode.child_id, child_ids))
        child_q = child_q.where(one_of(session, Child.id, child_ids))
        episode_q = episode_q.where(one_of(session, Episode.child_id, child_ids))
        risk_q = risk_q.where(one_of(session, Episode.child_id, child_ids))
        outcome_q = outcome_q.where(one_of(session, Outcome.child_id, child_ids))
    session.flush()  # as session.execute would; then Core rows, with no ORM result processing
    connection = session.connection()
    rows = FactRows(*(connection.execute(query).all() for query in (child_q, episode_q, risk_q, outcome_q)))
    rows.outcomes = with_police_flags(connection.execute(flag_q).all(), rows.outcomes)
    return rows


#: The event id of a police flag's case event: the episode's ref after this prefix (one per episode and flag).
POLICE_FLAG_PREFIX = "police-flag:"
#: Where a case-event row (``OUTCOME_COLUMNS``) holds its time, and the (child, event, incident) that make it news.
_AT = OUTCOME_COLUMNS.index("recorded_at")
_NEWS = tuple(OUTCOME_COLUMNS.index(name) for name in ("child_id", "event", "incident_ref"))


def _news(row: Any) -> tuple[int, str, str]:
    """The (child, event, incident) of a case-event row: two rows with the same are the same news."""
    return tuple(row[index] for index in _NEWS)  # type: ignore[return-value]


def with_police_flags(flagged: list[Any], outcomes: list[Any]) -> list[Any]:
    """The case events, with each police flag as the case event it stands for, once per incident.

    Surrey: "Director to be notified if an Unaccompanied Asylum Seeking Child/Care Leaver is at risk of
    trafficking". The force may say so in its feed (``trafficking_risk``) or the service record it
    (``trafficking_risk_identified``); either raises the duty, and for one incident only the earliest of them does:
    a flag after a recorded event about the same incident adds nothing, and an event recorded after the flag is
    the same news again. Decided on the stored facts alone, so the result does not depend on arrival order.
    ``flagged``: (child id, episode ref, incident, then one time per ``POLICE_FLAGS`` entry) of flagged episodes.
    """
    flags: dict[tuple[int, str, str], Any] = {}  # (child, event, incident) -> the flag's case-event row
    for child_id, ref, incident, *times in flagged:
        for event, at in zip(POLICE_FLAGS, times, strict=True):
            if at is not None:
                flags[(child_id, event, incident)] = (child_id, f"{POLICE_FLAG_PREFIX}{ref}", event, at, incident,
                                                      "police", None, None, None)
    if not flags:
        return outcomes
    earliest_recorded: dict[tuple[int, str, str], Any] = {}
    for row in outcomes:
        key = _news(row)
        if key in flags and (key not in earliest_recorded or row[_AT] < earliest_recorded[key]):
            earliest_recorded[key] = row[_AT]
    kept = [row for row in outcomes if (key := _news(row)) not in flags or row[_AT] < flags[key][_AT]]
    kept += [flag for key, flag in sorted(flags.items(), key=lambda item: item[1][1])
             if key not in earliest_recorded or flag[_AT] <= earliest_recorded[key]]
    return kept


def as_columns(rows: FactRows) -> Facts:
    """The rows as ``Facts``: one frame each, instants as UTC columns."""
    return Facts(
        _frame(rows.children, CHILD_COLUMNS),
        _frame(rows.episodes, EPISODE_COLUMNS, ("started_at", "reported_at", "found_at", "return_notified_at")),
        _frame(rows.risks, RISK_COLUMNS, ("assessed_at",)),
        _frame(rows.outcomes, OUTCOME_COLUMNS, ("recorded_at",)),
    )


def load_facts(session: Session, child_ids: list[int] | None = None) -> Facts:
    """Read the facts of these children (all children when ``None``) as columns: the bulk path's input."""
    return as_columns(read_facts(session, child_ids, raw_instants=True))


def _typed(column: Any) -> Any:
    return column


#: A type with no result conversion on either driver (SQLite gives its text, psycopg its aware datetime).
_AS_STORED = String()


def _raw(column: Any) -> Any:
    """The column with no result conversion: the driver's own value, under the column's name."""
    return type_coerce(column, _AS_STORED).label(column.key)


# --- the same facts as objects, for the per-child evaluator --------------------------------------------------
# One conversion each, fed either the rows as read (the per-child path: no frames built for a few children) or the
# columns zipped back into rows (the bulk path's per-child fallback).


def _py(value: Any) -> Any:
    """A pandas value as the Python value the rows carry: Timestamp -> datetime, NaT/NaN -> None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def _zipped(frame: pd.DataFrame, columns: list[str]) -> Iterable[tuple]:
    """The frame's rows as tuples of Python values; only columns that can hold a Timestamp or a NaN are converted."""
    converted = [
        frame[c] if pd.api.types.is_integer_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
        else _python_column(frame[c])
        for c in columns
    ]
    return zip(*converted, strict=True)


def _python_column(column: pd.Series) -> list[Any]:
    """``_py`` of every value, a column at a time (the per-value calls were a tenth of a first load's rules)."""
    missing = column.isna().to_numpy()
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        values = np.array(column.dt.to_pydatetime(), dtype=object)
    elif column.dtype == object or isinstance(column.dtype, pd.StringDtype):
        values = column.to_numpy(dtype=object, copy=True)
    else:
        return [_py(value) for value in column]
    values[missing] = None
    return values.tolist()


def _episodes(episodes: Iterable[Any], risks: Iterable[Any]) -> dict[int, list[EpisodeFacts]]:
    """Episode rows as ``EpisodeFacts`` by child, each with its risk history in assessment order."""
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for episode_id, at, level, _notification in sorted(risks, key=lambda r: (r[1], r[3])):
        history[int(episode_id)].append((at, level))
    by_child: dict[int, list[EpisodeFacts]] = defaultdict(list)
    for eid, ref, incident, child_id, kind, started, reported, found, notified, other in episodes:
        by_child[int(child_id)].append(
            EpisodeFacts(ref, incident, kind, started, reported, found, notified, tuple(history.get(int(eid), ())),
                         bool(other))
        )
    return by_child


def _outcomes(outcomes: Iterable[Any]) -> dict[int, list[OutcomeFacts]]:
    by_child: dict[int, list[OutcomeFacts]] = defaultdict(list)
    for child_id, event_id, event, at, incident, by, rationale, notes, risk in outcomes:
        by_child[int(child_id)].append(OutcomeFacts(event_id, event, at, incident, by, rationale, notes, risk))
    return by_child


def _children(children: Iterable[Any]) -> dict[int, ChildFacts]:
    return {int(child_id): ChildFacts(ref, legal_status, bool(uasc), dob, bool(solicitor))
            for child_id, ref, legal_status, uasc, dob, solicitor in children}


def episode_facts(facts: Facts) -> dict[int, list[EpisodeFacts]]:
    """The episodes of each child as ``EpisodeFacts``, risk history in assessment order."""
    return _episodes(_zipped(facts.episodes, EPISODE_COLUMNS), _zipped(facts.risks, RISK_COLUMNS))


def outcome_facts(facts: Facts) -> dict[int, list[OutcomeFacts]]:
    """The case events of each child as ``OutcomeFacts``."""
    return _outcomes(_zipped(facts.outcomes, OUTCOME_COLUMNS))


def child_facts(facts: Facts) -> dict[int, ChildFacts]:
    """Each child as ``ChildFacts``, by id."""
    return _children(_zipped(facts.children, CHILD_COLUMNS))


@dataclass(frozen=True)
class ChildrenFacts:
    """A few children's facts as objects, straight from the rows (the per-child evaluator's input)."""

    children: dict[int, ChildFacts]
    episodes: dict[int, list[EpisodeFacts]]
    outcomes: dict[int, list[OutcomeFacts]]
    episode_ids: dict[str, int]  # episode ref -> id, for the actions stored against them


def as_objects(rows: FactRows) -> ChildrenFacts:
    """The rows as objects by child id, with no frame built."""
    return ChildrenFacts(_children(rows.children), _episodes(rows.episodes, rows.risks), _outcomes(rows.outcomes),
                         {row.ref: row.id for row in rows.episodes})
