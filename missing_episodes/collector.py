"""Python's cyclic garbage collector, held back while a job makes many objects that are not garbage.

Reference counting frees nearly everything a load makes; the cyclic collector is for the rest (reference cycles).
By default it runs a young pass every 700 net allocations and, every hundred of those, a full pass over every
object the process holds: the modules of Prefect, SQLAlchemy and pandas as well as the job's own. A load's chunk
or batch makes hundreds of thousands of objects that live until it is stored, so the passes ran thousands of times
and found almost nothing. Measured with ``gc.callbacks`` at 50,000 episodes (bench/results.md), collections were
17% of the notifications' and the case outcomes' ingest CPU time and 12% of the bulk path's; with this module,
0.1-0.2 s each. In alternated runs the case outcomes' ingest took 13% less CPU time; the notifications' and the
bulk path's gains were within this host's noise.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Net allocations between young passes while a load runs (Python's default is 700). The older generations keep
#: their thresholds, so full passes still come, seventy times less often; cycles are still collected, and the
#: loads' peak memory did not move (201-210 MiB for the three ingests of the 50,000-episode region).
LOAD_THRESHOLD = 50_000

_lock = threading.Lock()
_loads = 0
_saved = gc.get_threshold()


@contextmanager
def collecting_less() -> Iterator[None]:
    """Young passes every ``LOAD_THRESHOLD`` net allocations while the block runs; the thresholds as they were
    once the last block running (in any thread: Prefect runs tasks on threads) has left."""
    global _loads, _saved
    with _lock:
        if _loads == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(LOAD_THRESHOLD, *_saved[1:])
        _loads += 1
    try:
        yield
    finally:
        with _lock:
            _loads -= 1
            if _loads == 0:
                gc.set_threshold(*_saved)


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection while the block runs, the collector's state restored after.

    WeasyPrint keeps every page's boxes alive until the PDF is written: at a region's thousand-page briefing that
    is millions of long-lived objects, which each full collection walks again (about 15% of the render) although
    none of them is garbage yet. Reference counting still frees everything else as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
