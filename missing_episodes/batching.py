"""Taking work N at a time: the one helper behind every chunk, batch and ``IN (...)`` slice in the domain.

An ingest stores its rows in chunks (one transaction each), key lookups go to the database in slices small
enough for one ``IN (...)`` list, and the generators write rows in blocks. Each of those loops is ``batched``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

_Item = TypeVar("_Item")
_Key = TypeVar("_Key", str, int)

#: Values in one ``IN (...)`` list: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535, and big
#: enough that a chunk of thousands of keys costs a handful of round trips.
IN_LIST_SIZE = 1000


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


def key_batches(values: Iterable[_Key | None], size: int = IN_LIST_SIZE) -> Iterator[list[_Key]]:
    """The distinct non-empty values, sorted, in slices small enough for one ``IN (...)`` each.

    Sorted, so two workers asking for overlapping keys ask in the same order, and a query's text and plan are
    the same from one run to the next.
    """
    return batched(sorted({value for value in values if value}), size)
