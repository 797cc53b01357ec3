"""Return Home Interview allocation: the same worker as last time where possible, else the lightest load.

Wakefield section 6 asks for "consistency of worker for young people who have been missing on repeated
occasions"; Wolverhampton 3.9 sends placements over 20 miles away to a virtual interview. The roster is data
(``data/roster.csv``: worker, team, capacity). An allocation is made once and kept: recomputing the rules
never moves an interview that a worker already holds.

Independent of arrival order: a recomputation allocates its interviews in one canonical order (trigger time,
then the action key, which is made of the episode's pseudonymous ref and the rule; ``actions.allocating``), and
``choose_worker`` breaks ties by load, then name. So the same stored facts allocated in one run give every
interview the same worker whichever order the feeds came in. Runs at different moments still see different
loads: an interview allocated on Monday is not moved by Tuesday's late message.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from missing_episodes.policy import Allocation


@dataclass(frozen=True)
class Worker:
    name: str
    team: str
    capacity: int


def load_roster(path: Path, team: str | None = None) -> list[Worker]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        workers = [
            Worker(row["worker"].strip(), row.get("team", "").strip(), int(row.get("capacity") or 10))
            for row in csv.DictReader(handle)
            if row.get("worker", "").strip()
        ]
    return [w for w in workers if team is None or w.team == team] or workers


def choose_worker(roster: list[Worker], loads: dict[str, int], previous: str | None,
                  prefer_previous: bool = True) -> str | None:
    """The child's previous interviewer if on the roster with room; otherwise the lightest load (then name)."""
    if not roster:
        return None
    by_name = {w.name: w for w in roster}
    if prefer_previous and previous in by_name and loads.get(previous, 0) < by_name[previous].capacity:
        return previous
    with_room = [w for w in roster if loads.get(w.name, 0) < w.capacity] or roster
    return min(with_room, key=lambda w: (loads.get(w.name, 0) / max(w.capacity, 1), loads.get(w.name, 0), w.name)).name


def placement_note(distance_miles: float | None, settings: Allocation) -> str | None:
    if distance_miles is not None and distance_miles > settings.distant_placement_miles:
        return settings.distant_placement_note
    return None
