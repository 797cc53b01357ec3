"""Taking work N at a time: the one helper behind every chunk, batch and key lookup in the domain.

An ingest stores its rows in chunks (one transaction each), key lookups go to the database in slices of
``KEYS_PER_LOOKUP``, and the generators write rows in blocks. Each of those loops is ``batched``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

_Item = TypeVar("_Item")
_Key = TypeVar("_Key", str, int)

#: Keys in one lookup. ``store.one_of`` passes them as one parameter on either database (an array, a JSON list),
#: so no parameter limit applies; but PostgreSQL's planner turns from the index to scanning the table when one
#: lookup names a large share of it: 5,000 incidents of the 50,000-episode region's notifications took 72 ms in one
#: statement against 6 ms for each of five of 1,000.
KEYS_PER_LOOKUP = 1000


def batched(items: Iterable[_Item], size: int) -> Iterator[list[_Item]]:
    """Consecutive lists of ``size`` items (the last one shorter), read lazily from ``items``.

    Lazily, so a stream of millions of rows is never held whole; lists rather than tuples (unlike Python 3.12's
    ``itertools.batched``), because callers append to, sort or index a batch.
    """
    if size < 1:
        raise ValueError("a batch holds at least one item")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def key_batches(values: Iterable[_Key | None], size: int = KEYS_PER_LOOKUP) -> Iterator[list[_Key]]:
    """The distinct non-empty values, sorted, in slices of one lookup each (``store.one_of``).

    Sorted, so two workers asking for overlapping keys ask in the same order, and a query's text and plan are
    the same from one run to the next.
    """
    return batched(sorted({value for value in values if value}), size)
