"""Progress of long work, told to whoever listens: the CLI's progress bar, nobody in a Prefect worker.

The domain counts what it has done (rows stored by the ingest, children checked by the bulk rules) with
``advance``; without a listener that is one empty loop. Counts only: nothing here carries a row's content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int], None]
_listeners: list[Listener] = []


def advance(unit: str, count: int) -> None:
    """``count`` more ``unit`` (``rows``, ``children``) are done."""
    for listener in tuple(_listeners):
        listener(unit, count)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(unit, count)`` for every ``advance`` made while the block runs (in any thread)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
