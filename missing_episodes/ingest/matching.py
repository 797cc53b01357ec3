"""Which child a message is about: the one child matcher, for episodes and outcomes alike.

A child is matched by the authority's person id when the message gives one; otherwise by the exact normalised
name and date of birth (``identity.match_key``); otherwise a new child record is made and flagged for MASH
screening. Never a guess: when two registered children share the exact name and date of birth, the message is
left without a child, for a person to decide.

Set-based, without ORM objects: a chunk names thousands of children, so lookups are two prefetch queries per
1000 keys and the new children are one executemany, because building and flushing an ORM object per child was
most of a chunk's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from missing_episodes.batching import key_batches
from missing_episodes.db.models import Child
from missing_episodes.episodes import EpisodeState
from missing_episodes.identity import child_ref, match_key
from missing_episodes.store import audit_entry, audit_many, insert_with_ids

_NO_NAMES: dict[str, Any] = {"first_name": None, "last_name": None, "date_of_birth": None}


@dataclass
class ChildRow:
    """A child as an episode or an outcome needs it; ``id`` is None until the chunk's one insert of new children."""

    ref: str
    id: int | None
    responsible_authority: str | None = None


def state_key(state: EpisodeState) -> str | None:
    """The exact-name-and-birth-date key of the child an episode's messages describe (None without a name)."""
    return match_key(state.first_name, state.last_name, state.date_of_birth)


class ChunkChildren:
    """The children a chunk names, prefetched once; new ones collected and stored with ``store``.

    Build it with every person id and match key the chunk may ask about, then ``resolve`` (an episode) or
    ``for_person`` (an outcome, which names a child by the authority's id only) each message, then ``store``.
    """

    def __init__(self, session: Session, pseudonym_key: str, person_ids: Iterable[str | None],
                 match_keys: Iterable[str | None] = ()) -> None:  # fmt: skip
        self.session, self.key = session, pseudonym_key
        self.by_person: dict[str, ChildRow] = {}
        self.new: list[tuple[ChildRow, dict[str, Any]]] = []
        self.audits: list[dict[str, Any]] = []
        for row in self._stored(Child.person_id, person_ids):
            self.by_person[row.person_id] = ChildRow(row.ref, row.id, row.responsible_authority)
        keys = set(match_keys) - {None}
        self.by_key: dict[str, list[ChildRow]] = {key: [] for key in keys}  # type: ignore[misc]
        for row in self._stored(Child.match_key, keys):
            self.by_key[row.match_key].append(ChildRow(row.ref, row.id, row.responsible_authority))

    @classmethod
    def for_states(cls, session: Session, pseudonym_key: str, states: Iterable[EpisodeState]) -> ChunkChildren:
        """Prefetched for these episodes: their person ids, and the name keys of those without one."""
        states = list(states)
        keys = (state_key(s) for s in states if not s.person_id)
        return cls(session, pseudonym_key, (s.person_id for s in states), keys)

    def _stored(self, column, values: Iterable[str | None]) -> Iterator[Any]:
        columns = (Child.id, Child.ref, Child.person_id, Child.match_key, Child.responsible_authority)
        for batch in key_batches(values):
            yield from self.session.execute(select(*columns).where(column.in_(batch)))

    def for_person(self, person_id: str, key: str | None = None, names: dict[str, Any] | None = None) -> ChildRow:
        """The child with this person id, made if new.

        The authority's own id names a real child the register has not sent yet: not a guess, so no MASH flag.
        """
        child = self.by_person.get(person_id)
        if child is None:
            child = self._add(person_id, key, False, names or _NO_NAMES, "person id first seen in a feed")
            self.by_person[person_id] = child
        return child

    def resolve(self, state: EpisodeState) -> ChildRow | None:
        """An episode's child: by person id, else by exact name and birth date, else new and flagged for MASH."""
        names = {"first_name": state.first_name, "last_name": state.last_name, "date_of_birth": state.date_of_birth}
        if state.person_id:
            return self.for_person(state.person_id, state_key(state), names)
        key = state_key(state)
        if key is None:
            return None
        matches = self.by_key[key][:2]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            return None
        child = self._add(None, key, True, names, "not on the register: MASH to screen")
        self.by_key[key] = [child]
        return child

    def _add(self, person_id: str | None, key: str | None, mash: bool, names: dict[str, Any],
             why: str) -> ChildRow:  # fmt: skip
        child = ChildRow(child_ref(self.key, person_id, None if person_id else key), None)
        values = {"ref": child.ref, "person_id": person_id, "match_key": key, "needs_mash_screening": mash}
        self.new.append((child, {**values, **names, "needs_review": True}))
        self.audits.append(audit_entry("ingest", "child_created", "child", child.ref, reason=why))
        return child

    def store(self) -> None:
        """Insert the new children in one statement, give each its id, and audit their creation."""
        if self.new:
            ids = insert_with_ids(self.session, Child, [values for _, values in self.new], "ref")
            for child, _values in self.new:
                child.id = ids[child.ref]
        audit_many(self.session, self.audits)
        self.new, self.audits = [], []


def flag_for_review(session: Session, child_ids: Iterable[int | None]) -> None:
    """Mark these children's rules as to be run again (only those not already marked are written)."""
    table = Child.__table__
    for batch in key_batches(child_ids):
        session.execute(
            update(table).where(table.c.id.in_(batch), table.c.needs_review.is_(False)).values(needs_review=True)
        )
