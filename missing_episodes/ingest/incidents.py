"""Police notifications into episodes: every stored message of an incident folded again, children matched.

An episode is the fold of every message sharing an ``incident_ref`` (``missing_episodes.episodes.fold``), so
whatever order messages arrive in, the episode ends the same. Set-based for speed (a chunk is thousands of
incidents): messages validated in this chunk are not read or parsed again, children are matched in one pass
(``matching``), and episodes, risk history and audit entries are written with one Core executemany each. The
result is the same as one incident at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from missing_episodes.batching import key_batches
from missing_episodes.config import Settings
from missing_episodes.db.models import Child, ContactLog, Episode, Notification, RiskAssessment
from missing_episodes.episodes import EpisodeState, Message, fold
from missing_episodes.feeds import PoliceNotification
from missing_episodes.identity import episode_ref
from missing_episodes.ingest.matching import (
    ChildRow,
    ChunkChildren,
    episode_key,
    flag_for_review,
    move_episodes,
    settle_keys,
)
from missing_episodes.policy import Policy
from missing_episodes.store import (
    audit_entry,
    audit_many,
    insert_ignoring_duplicates,
    insert_with_ids,
    lock_keys,
    one_of,
)


def refold_incidents(
    session: Session,
    source: str,
    incidents: set[str],
    settings: Settings,
    policy: Policy,
    parsed: dict[int, PoliceNotification] | None = None,
) -> int:
    """Recompute the episodes of these incidents from all their stored messages. Returns how many changed.

    ``parsed`` holds the records validated in this chunk, by notification row id. The policy names our authority:
    an episode of a child another authority placed here is marked ``other_authority``.
    """
    if not incidents:
        return 0
    lock_keys(session, f"incident:{source}", incidents)
    messages = _incident_messages(session, source, incidents, parsed or {})
    stored = {
        row.incident_ref: row
        for row in session.execute(
            select(
                Episode.id, Episode.ref, Episode.incident_ref, Episode.state_hash, Episode.child_id,
                Episode.match_key,
            ).where(
                Episode.source == source, one_of(session, Episode.incident_ref, incidents)
            )
        )
    }
    changed: dict[str, tuple[EpisodeState, str]] = {}
    for incident in sorted(incidents):
        state = fold(messages[incident])
        fingerprint = state.fingerprint()
        previous = stored.get(incident)
        if previous is None or previous.state_hash != fingerprint:
            changed[incident] = (state, fingerprint)
    if not changed:
        return 0
    old_keys = (stored[incident].match_key for incident in changed if incident in stored)
    children = ChunkChildren.for_states(
        session, settings.pseudonym_key, (state for state, _ in changed.values()), old_keys
    )
    # Episodes naming a person id first: a name key's child with a person id is then known to those without.
    by_id_first = sorted(changed, key=lambda incident: (changed[incident][0].person_id is None, incident))
    resolved = {incident: children.resolve(changed[incident][0]) for incident in by_id_first}
    children.store()
    ours = normalise_authority(policy.authority)
    audits: list[dict[str, Any]] = []
    created, updates, review, moved = [], [], set(), {}
    for incident, (state, fingerprint) in changed.items():
        child = resolved[incident]
        values = _episode_values(state, fingerprint, child, ours)
        previous = stored.get(incident)
        if previous is None:
            ref = episode_ref(settings.pseudonym_key, source, incident)
            created.append({"ref": ref, "source": source, "incident_ref": incident, **values})
            audits.append(audit_entry("ingest", "episode_created", "episode", ref, status=state.status))
        else:
            updates.append({"episode_key": previous.id, **values})
            if previous.child_id is not None and previous.child_id != values["child_id"]:
                review.add(previous.child_id)
                moved[previous.id] = values["child_id"]  # its actions follow it
            audits.append(
                audit_entry(
                    "ingest",
                    "episode_changed",
                    "episode",
                    previous.ref,
                    status=state.status,
                    messages=state.message_count,
                )
            )
        if child is not None:
            review.add(child.id)
    episode_ids = {incident: row.id for incident, row in stored.items()}
    episode_ids.update(_write_episodes(session, created, updates))
    move_episodes(session, moved)
    settled = settle_keys(session, settings.pseudonym_key, children.taken)
    rederive_authority(session, settled.moved, ours)
    flag_for_review(session, review | settled.review)
    _store_risk_history(session, [(episode_ids[incident], state) for incident, (state, _) in changed.items()])
    audit_many(session, audits)
    return len(changed)


def _incident_messages(
    session: Session, source: str, incidents: set[str], parsed: dict[int, PoliceNotification]
) -> dict[str, list[Message]]:
    """Every applied message of these incidents; only those not validated in this chunk are read and parsed."""
    located = session.execute(
        select(Notification.id, Notification.incident_ref).where(
            Notification.source == source,
            Notification.feed == "notifications",
            Notification.outcome == "applied",
            one_of(session, Notification.incident_ref, incidents),
        )
    ).all()
    records = dict(parsed)
    for batch in key_batches(row_id for row_id, _ in located if row_id not in parsed):
        for row_id, payload in session.execute(
            select(Notification.id, Notification.payload).where(one_of(session, Notification.id, batch))
        ):
            records[row_id] = PoliceNotification.model_validate_json(payload)
    messages: dict[str, list[Message]] = {ref: [] for ref in incidents}
    for row_id, incident in located:
        messages[incident].append(Message(row_id, records[row_id]))
    return messages


def _episode_values(state: EpisodeState, fingerprint: str, child: ChildRow | None, ours: str) -> dict[str, Any]:
    """The episode row's derived columns (every row of one executemany needs the same keys)."""
    authority = state.responsible_authority or (child.responsible_authority if child else None)
    return {
        "child_id": child.id if child else None,
        "kind": state.kind,
        "status": state.status,
        "started_at": state.started_at,
        "last_seen_at": state.last_seen_at,
        "last_seen_location": state.last_seen_location,
        "reported_at": state.reported_at,
        "found_at": state.found_at,
        "found_location": state.found_location,
        "return_notified_at": state.return_notified_at,
        "risk_level": state.risk_level,
        "clothing": state.clothing,
        "areas_searched": state.areas_searched,
        "reported_to_police_at": state.reported_to_police_at,
        "trafficking_risk_at": state.trafficking_risk_at,
        "responsible_authority": authority,
        "other_authority": bool(authority) and normalise_authority(authority) != ours,
        "message_count": state.message_count,
        "state_hash": fingerprint,
        "match_key": episode_key(state),
    }


def _write_episodes(session: Session, created: list[dict[str, Any]], updates: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the new episodes and update the changed ones, one executemany each; the new ids by incident."""
    table = Episode.__table__
    if updates:
        names = [name for name in updates[0] if name != "episode_key"]
        statement = update(table).where(table.c.id == bindparam("episode_key"))
        session.execute(statement.values({name: bindparam(name) for name in names}), updates)
    return insert_with_ids(session, Episode, created, "incident_ref")


def rederive_authority(session: Session, episode_ids: set[int], ours: str) -> None:
    """The responsible authority of episodes that changed child, derived again from their messages and new child.

    An episode's authority is its messages' own, else its child's (``_episode_values``): an episode moved to a
    registered child by ``matching.settle_keys``, or whose child's authority the register changed, must read it
    as if the register had come first. Written only where it differs, and only if the episode's messages have
    not changed meanwhile (a concurrent chunk derived it then).
    """
    table = Episode.__table__
    updates = []
    for batch in key_batches(episode_ids):
        rows = session.execute(
            select(table.c.id, table.c.source, table.c.incident_ref, table.c.state_hash, table.c.responsible_authority,
                   table.c.other_authority, Child.responsible_authority.label("child_authority"))
            .outerjoin(Child.__table__, Child.id == table.c.child_id).where(one_of(session, table.c.id, batch))
        ).all()  # fmt: skip
        by_source: dict[str, set[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, set()).add(row.incident_ref)
        states = {
            (source, incident): fold(messages)
            for source, incidents in by_source.items()
            for incident, messages in _incident_messages(session, source, incidents, {}).items()
        }
        for row in rows:
            authority = states[(row.source, row.incident_ref)].responsible_authority or row.child_authority
            other = bool(authority) and normalise_authority(authority) != ours
            if (authority, other) != (row.responsible_authority, row.other_authority):
                updates.append({"episode_key": row.id, "seen_hash": row.state_hash, "responsible_authority": authority,
                                "other_authority": other})  # fmt: skip
    if updates:
        unchanged = table.c.state_hash == bindparam("seen_hash")
        statement = update(table).where(table.c.id == bindparam("episode_key"), unchanged)
        session.execute(statement.values(responsible_authority=bindparam("responsible_authority"),
                                         other_authority=bindparam("other_authority")), updates)  # fmt: skip


def normalise_authority(name: str) -> str:
    """An authority's name compared loosely: "Kingsbridge Borough Council" is "kingsbridge"."""
    return " ".join(name.casefold().replace("council", "").replace("borough", "").split())


def _store_risk_history(session: Session, pending: list[tuple[int, EpisodeState]]) -> None:
    """The risk gradings of these (stored) episodes, in one keyed insert."""
    insert_ignoring_duplicates(
        session,
        RiskAssessment,
        [
            {"episode_id": episode_id, "notification_id": message_id, "risk_level": level, "assessed_at": at}
            for episode_id, state in pending
            for at, level, message_id, _nid in state.risk_history
        ],
    )


def police_updates_to_log(session: Session, source: str, records: list[PoliceNotification]) -> None:
    """Police updates with notes join the incident record (who updated us, when, what was shared)."""
    noted = [record for record in records if record.event == "update" and record.notes]
    if not noted:
        return
    episode_ids = dict(
        session.execute(
            select(Episode.incident_ref, Episode.id).where(
                Episode.source == source, one_of(session, Episode.incident_ref, sorted({r.incident_ref for r in noted}))
            )
        ).all()
    )
    rows = [
        {
            "key": f"{source}:{record.notification_id}",
            "episode_id": episode_ids.get(record.incident_ref),
            "child_id": None,
            "at": record.sent_at,
            "direction": "police_update",
            "who": "Police",
            "shared": record.notes,
            "recorded_by": source,
        }
        for record in noted
    ]
    insert_ignoring_duplicates(session, ContactLog, rows)
