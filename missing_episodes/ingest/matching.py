"""Which child a message is about: the one child matcher, for episodes and outcomes alike.

A child is matched by the authority's person id when the message gives one; otherwise by the exact normalised
name and date of birth (``identity.match_key``); otherwise a new, provisional child record is made and flagged
for MASH screening. Never a guess: when two children with a person id share the exact name and date of birth,
the message is left without a child, for a person to decide.

Identity does not depend on arrival order. An episode whose messages give no person id keeps its name key
(``Episode.match_key``), and its child is a function of that key and the children known now:

* exactly one child with a person id has the key: that child;
* two or more do: no child (ambiguous, left for a person);
* none does: the one provisional child of the key (person id unknown), made if needed.

Whenever a child with a person id takes a key (a register row, or a notification or outcome naming a child by
id before the register has sent it) or a register row changes a child's name or birth date, ``settle_keys``
applies that function again to every stored episode of the old and new keys. A provisional child overtaken
that way is merged: its episodes and their actions move to the child with the person id (or, when ambiguous,
the episodes are left without a child and their actions removed), the merge is audited (``child_merged``), the
provisional record is deleted, and both children are flagged so their actions are recomputed. The database
therefore ends the same whether the register came first or last.

Set-based, without ORM objects: a chunk names thousands of children, so lookups are two prefetch queries per
1000 keys and the new children are one executemany, because building and flushing an ORM object per child was
most of a chunk's time. Concurrent ingests serialise on advisory locks of the person ids and name keys a chunk
touches (``identity`` namespace, taken in one sorted statement before any child is read).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from missing_episodes.batching import key_batches
from missing_episodes.db.models import Action, Child, Episode
from missing_episodes.episodes import EpisodeState
from missing_episodes.identity import child_ref, match_key
from missing_episodes.store import audit_entry, audit_many, insert_with_ids, lock_keys, one_of

_NO_NAMES: dict[str, Any] = {"first_name": None, "last_name": None, "date_of_birth": None}


@dataclass
class ChildRow:
    """A child as an episode or an outcome needs it; ``id`` is None until the chunk's one insert of new children."""

    ref: str
    id: int | None
    responsible_authority: str | None = None
    key: str | None = None  # the child's name key (``Child.match_key``)


def state_key(state: EpisodeState) -> str | None:
    """The exact-name-and-birth-date key of the child an episode's messages describe (None without a name)."""
    return match_key(state.first_name, state.last_name, state.date_of_birth)


def episode_key(state: EpisodeState) -> str | None:
    """The key an episode is matched by: its name key when its messages give no person id, else None."""
    return None if state.person_id else state_key(state)


#: Identity locks are taken on this many buckets of person ids and name keys, not one lock per id: a chunk of
#: thousands of rows would otherwise hold thousands of advisory locks on top of its incidents', and PostgreSQL's
#: shared lock table (``max_locks_per_transaction`` x connections) is a few thousand by default. Two ingests that
#: share a bucket by chance only wait for each other.
IDENTITY_BUCKETS = 1024


def lock_identities(session: Session, person_ids: Iterable[str | None], keys: Iterable[str | None]) -> None:
    """Serialise concurrent ingests naming the same children: one sorted statement, before any child is read."""
    names = [f"p:{p}" for p in person_ids if p] + [f"k:{k}" for k in keys if k]
    lock_keys(session, "identity", {zlib.crc32(name.encode()) % IDENTITY_BUCKETS for name in names})


class ChunkChildren:
    """The children a chunk names, prefetched once; new ones collected and stored with ``store``.

    Build it with every person id and match key the chunk may ask about, then ``resolve`` (an episode) or
    ``for_person`` (an outcome, which names a child by the authority's id only) each message, then ``store``,
    then (once the chunk's episodes are written) ``settle_keys(session, key, children.taken)``.
    """

    def __init__(self, session: Session, pseudonym_key: str, person_ids: Iterable[str | None],
                 match_keys: Iterable[str | None] = (), locked_keys: Iterable[str | None] = ()) -> None:  # fmt: skip
        self.session, self.key = session, pseudonym_key
        person_ids = set(person_ids) - {None}
        keys: set[str] = set(match_keys) - {None}  # type: ignore[assignment]
        lock_identities(session, person_ids, keys | set(locked_keys))
        self.by_person: dict[str, ChildRow] = {}
        self.new: list[tuple[ChildRow, dict[str, Any]]] = []
        self.named: list[dict[str, Any]] = []  # stored children without a name key that a message names
        self.audits: list[dict[str, Any]] = []
        # Keys a child with a person id took in this chunk: their stored episodes are settled again.
        self.taken: dict[str, dict[str, Any]] = {}
        for row in self._stored(Child.person_id, person_ids):
            self.by_person[row.person_id] = ChildRow(row.ref, row.id, row.responsible_authority, row.match_key)
        self.registered: dict[str, list[ChildRow]] = defaultdict(list)
        self.provisional: dict[str, ChildRow] = {}
        for row in self._stored(Child.match_key, keys):
            child = ChildRow(row.ref, row.id, row.responsible_authority, row.match_key)
            if row.person_id:
                self.registered[row.match_key].append(child)
            else:
                self.provisional.setdefault(row.match_key, child)

    @classmethod
    def for_states(cls, session: Session, pseudonym_key: str, states: Iterable[EpisodeState],
                   locked_keys: Iterable[str | None] = ()) -> ChunkChildren:  # fmt: skip
        """Prefetched for these episodes: their person ids, and every name key they give.

        ``locked_keys`` are keys to lock without prefetching (the keys these episodes had before this chunk).
        """
        states = list(states)
        return cls(session, pseudonym_key, (s.person_id for s in states), (state_key(s) for s in states),
                   locked_keys)

    def _stored(self, column, values: Iterable[str | None]) -> Iterator[Any]:
        columns = (Child.id, Child.ref, Child.person_id, Child.match_key, Child.responsible_authority)
        for batch in key_batches(values):
            yield from self.session.execute(select(*columns).where(one_of(self.session, column, batch)))

    def for_person(self, person_id: str, key: str | None = None, names: dict[str, Any] | None = None) -> ChildRow:
        """The child with this person id, made if new.

        The authority's own id names a real child the register has not sent yet: not a guess, so no MASH flag.
        A new child that brings a name key takes it: episodes matched by that key alone are settled again.
        """
        child = self.by_person.get(person_id)
        if child is None:
            child = self._add(person_id, None, False, _NO_NAMES, "person id first seen in a feed")
            self.by_person[person_id] = child
        if key and child.key is None:
            # The first name and birth date given for this id (an outcome gives none): the child takes the key.
            child.key = key
            named = {"match_key": key, **(names or _NO_NAMES)}
            pending = next((values for row, values in self.new if row is child), None)
            if pending is not None:
                pending.update(named)
            else:
                self.named.append({"child_key": child.id, **named})
            self.registered[key].append(child)
            self.taken[key] = names or _NO_NAMES
        return child

    def resolve(self, state: EpisodeState) -> ChildRow | None:
        """An episode's child: by person id, else by its name key (see the module's rules), else None.

        Resolve the episodes that give a person id first (``refold_incidents`` does), so that a name key's
        child with a person id is known before the episodes matched by that key alone are resolved.
        """
        names = {"first_name": state.first_name, "last_name": state.last_name, "date_of_birth": state.date_of_birth}
        if state.person_id:
            return self.for_person(state.person_id, state_key(state), names)
        key = state_key(state)
        if key is None:
            return None
        registered = self.registered.get(key, [])
        if registered:
            return registered[0] if len(registered) == 1 else None
        child = self.provisional.get(key)
        if child is None:
            child = self._add(None, key, True, names, "not on the register: MASH to screen")
            self.provisional[key] = child
        return child

    def _add(self, person_id: str | None, key: str | None, mash: bool, names: dict[str, Any],
             why: str) -> ChildRow:  # fmt: skip
        child = ChildRow(child_ref(self.key, person_id, None if person_id else key), None)
        values = {"ref": child.ref, "person_id": person_id, "match_key": key, "needs_mash_screening": mash}
        self.new.append((child, {**values, **names, "needs_review": True}))
        self.audits.append(audit_entry("ingest", "child_created", "child", child.ref, reason=why))
        return child

    def store(self) -> None:
        """Insert the new children in one statement (in ref order), give each its id, and audit their creation."""
        if self.named:
            table = Child.__table__
            statement = update(table).where(table.c.id == bindparam("child_key"))
            names = [name for name in self.named[0] if name != "child_key"]
            self.session.execute(statement.values({name: bindparam(name) for name in names}), self.named)
        if self.new:
            self.new.sort(key=lambda item: item[0].ref)
            ids = insert_with_ids(self.session, Child, [values for _, values in self.new], "ref")
            for child, _values in self.new:
                child.id = ids[child.ref]
        audit_many(self.session, self.audits)
        self.new, self.audits, self.named = [], [], []


@dataclass
class Settled:
    """What ``settle_keys`` changed: children whose facts changed (to review), episodes that changed child."""

    review: set[int]
    moved: set[int]


def settle_keys(session: Session, pseudonym_key: str, names_by_key: Mapping[str, Mapping[str, Any]]) -> Settled:
    """Decide again the child of every stored episode matched by one of these name keys alone; merge.

    ``names_by_key`` gives, per key, the names a provisional child of that key is made with if one is needed
    (a register row that changed a child's name leaves the old key's episodes to one). The caller flags
    ``review`` and derives the moved episodes' responsible authority again (``incidents.rederive_authority``).
    See the module docstring for the rules.
    """
    keys = sorted(k for k in names_by_key if k)
    if not keys:
        return Settled(set(), set())
    children: dict[str, list[Any]] = defaultdict(list)
    episodes: dict[str, list[Any]] = defaultdict(list)
    for batch in key_batches(keys):
        for row in session.execute(
            select(Child.id, Child.ref, Child.person_id, Child.match_key).where(one_of(session, Child.match_key, batch))
            .order_by(Child.id)
        ):
            children[row.match_key].append(row)
        for row in session.execute(
            select(Episode.id, Episode.ref, Episode.child_id, Episode.match_key)
            .where(one_of(session, Episode.match_key, batch))
        ):
            episodes[row.match_key].append(row)
    moves: dict[int, int | None] = {}
    merged: list[tuple[Any, Any]] = []
    made: list[tuple[str, dict[str, Any]]] = []
    for key in keys:
        registered = sorted((c for c in children[key] if c.person_id), key=lambda c: c.person_id)
        provisional = [c for c in children[key] if not c.person_id]
        if registered:
            target = registered[0] if len(registered) == 1 else None
            merged += [(child, target) for child in provisional]
        elif provisional:
            target = provisional[0]
            merged += [(child, target) for child in provisional[1:]]  # one provisional child per key
        elif episodes[key]:
            made.append((key, {**_NO_NAMES, **names_by_key[key]}))
            continue
        else:
            continue
        for episode in episodes[key]:
            if episode.child_id != (target.id if target else None):
                moves[episode.id] = target.id if target else None
    gone = {child.id: target for child, target in merged}
    for batch in key_batches(gone):  # a merged child's episodes under another key (names corrected since) go too
        for episode_id, child_id in session.execute(
            select(Episode.id, Episode.child_id).where(one_of(session, Episode.child_id, batch))
        ):
            moves.setdefault(episode_id, gone[child_id].id if gone[child_id] else None)
    _make_provisional(session, pseudonym_key, made, episodes, moves)
    before = {e.id: e.child_id for k in keys for e in episodes[k]}
    review = {c for c in (*(before.get(e) for e in moves), *moves.values()) if c}
    move_episodes(session, moves)
    if merged:
        for batch in key_batches(gone):
            # A merged child's actions: none left unless moved before 0003.
            session.execute(delete(Action).where(one_of(session, Action.child_id, batch)))
            session.execute(delete(Child).where(one_of(session, Child.id, batch)))
        review -= set(gone)
        audit_many(session, [
            audit_entry("ingest", "child_merged", "child", child.ref, into=target.ref if target else None,
                        reason="person id known for this name and birth date" if target else
                        "several children with a person id share this name and birth date")
            for child, target in merged
        ])  # fmt: skip
    return Settled(review, set(moves))


def _make_provisional(session: Session, pseudonym_key: str, made: list[tuple[str, dict[str, Any]]],
                      episodes: Mapping[str, list[Any]], moves: dict[int, int | None]) -> None:  # fmt: skip
    """Provisional children for keys whose episodes no child with a person id claims any more."""
    if not made:
        return
    rows = [
        {"ref": child_ref(pseudonym_key, None, key), "person_id": None, "match_key": key,
         "needs_mash_screening": True, "needs_review": True, **names}
        for key, names in made
    ]  # fmt: skip
    ids = insert_with_ids(session, Child, rows, "ref")
    audit_many(session, [audit_entry("ingest", "child_created", "child", row["ref"],
                                     reason="not on the register: MASH to screen") for row in rows])
    for (key, _names), row in zip(made, rows, strict=True):
        for episode in episodes[key]:
            moves[episode.id] = ids[row["ref"]]


def move_episodes(session: Session, moves: Mapping[int, int | None]) -> None:
    """Give these episodes (and their actions) their new child; actions of an episode left without one go."""
    by_target: dict[int | None, list[int]] = defaultdict(list)
    for episode_id, target in sorted(moves.items()):
        by_target[target].append(episode_id)
    for target, episode_ids in by_target.items():
        for batch in key_batches(episode_ids):
            session.execute(update(Episode).where(one_of(session, Episode.id, batch)).values(child_id=target))
            if target is None:
                session.execute(delete(Action).where(one_of(session, Action.episode_id, batch)))
            else:
                session.execute(update(Action).where(one_of(session, Action.episode_id, batch)).values(child_id=target))


def flag_for_review(session: Session, child_ids: Iterable[int | None]) -> None:
    """Mark these children's rules as to be run again (only those not already marked are written)."""
    table = Child.__table__
    for batch in key_batches(child_ids):
        session.execute(
            update(table)
            .where(one_of(session, table.c.id, batch), table.c.needs_review.is_(False))
            .values(needs_review=True)
        )
