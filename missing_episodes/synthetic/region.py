"""A region for the benchmarks: ten years, about ``episodes / 7`` children, heavy-tailed repeats, streamed to disk.

Episode times are planned per child into compact numpy arrays (about 30 bytes an episode), sorted once, then
replayed through the same ``Emitter`` as the sample; the sinks' heaps hold only episodes still running, so
memory grows with the number of children, not with the number of messages.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from missing_episodes.clock import epoch_day_text, london_day, utc_epoch
from missing_episodes.synthetic.draws import pick, randint
from missing_episodes.synthetic.emitter import ChildRef, Config, Emitter, EpisodePlan
from missing_episodes.synthetic.register import birth_date, register_row
from missing_episodes.synthetic.sinks import SortedSink, iso, write_json
from missing_episodes.synthetic.timeline import DAY, HOUR, SAMPLE_AS_OF, sequence
from missing_episodes.synthetic.vocabulary import (
    AUTHORITY,
    CHILD_FIELDS,
    FIRST_NAMES,
    FORCE,
    LAST_NAMES,
    NOTIFICATION_FIELDS,
    OTHER_AUTHORITIES,
    OUTCOME_FIELDS,
    UASC_FIRST,
    UASC_LAST,
)

REGION_START = utc_epoch(2016, 11, 1)
_REGION_STATUSES = (("looked_after", 62), ("child_in_need", 18), ("child_protection", 12), ("care_leaver", 8))


def generate_region(out_dir: Path, episodes: int, seed: int = 1) -> dict[str, Any]:
    """Write ten years of a region (about ``episodes / 7`` children, heavy-tailed repeats); return the manifest."""
    if episodes < 1:
        raise ValueError("episodes must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_children = max(1, episodes // 7)
    counts = _episode_counts(rng, episodes, n_children)
    planned = _Planned(episodes)
    with (out_dir / "children.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CHILD_FIELDS)
        writer.writerows(_children(rng, counts, planned))  # streamed: one register row at a time
    emitter, n_notifications, n_outcomes = _emit_in_start_order(rng, planned, out_dir)
    manifest = {
        "authority": AUTHORITY,
        "region": True,
        "seed": seed,
        "as_of": iso(SAMPLE_AS_OF),
        "period": {"start": iso(REGION_START)[:10], "end": "2026-10-31"},
        "counts": {
            "children": n_children,
            "children_registered": sum(1 for r in planned.refs if r.registered),
            "episodes": {**emitter.episodes, "total": episodes, "open_at_as_of": emitter.open_at_as_of},
            "max_episodes_one_child": max(counts),
            "notifications": n_notifications,
            "notifications_by_event": dict(sorted(emitter.notifications.by_event.items())),
            "outcomes": n_outcomes,
            "outcomes_by_event": dict(sorted(emitter.outcomes.by_event.items())),
        },
    }
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def _episode_counts(rng: random.Random, episodes: int, n_children: int) -> list[int]:
    """Heavy-tailed episode counts summing exactly to ``episodes``: most children once or twice, a few hundreds."""
    weights = [min(rng.paretovariate(1.1), 400.0) - 1.0 for _ in range(n_children)]
    extra = episodes - n_children
    total_w = sum(weights) or 1.0
    counts = [1 + int(extra * w / total_w) for w in weights]
    short = episodes - sum(counts)
    for i in rng.sample(range(n_children), min(short, n_children)) if short > 0 else ():
        counts[i] += 1
    short = episodes - sum(counts)
    i = 0
    while short > 0:  # tiny regions: hand out any remainder one by one
        counts[i % n_children] += 1
        short -= 1
        i += 1
    cap = 700
    overflow = sum(max(0, c - cap) for c in counts)
    counts = [min(c, cap) for c in counts]
    i = 0
    while overflow > 0:
        if counts[i % n_children] < cap:
            counts[i % n_children] += 1
            overflow -= 1
        i += 1
    return counts


@dataclass
class _Planned:
    """Every episode's start, end (0: still missing), child and kind, in compact arrays; the children's refs."""

    episodes: int
    refs: list[ChildRef] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = np.empty(self.episodes, dtype=np.int64)
        self.ends = np.empty(self.episodes, dtype=np.int64)
        self.owner = np.empty(self.episodes, dtype=np.int32)
        self.absent = np.zeros(self.episodes, dtype=np.bool_)


def _children(rng: random.Random, counts: list[int], planned: _Planned) -> Iterator[list[str]]:
    """Draw each child and lay out their episodes into ``planned``; yield the register row of each registered one.

    A generator, so the register is written as the children are drawn (the draws stay in the same order).
    """
    names: set[tuple[str, str, str]] = set()
    region_len = SAMPLE_AS_OF - HOUR - REGION_START
    statuses = [s for s, _ in _REGION_STATUSES]
    status_w = [w for _, w in _REGION_STATUSES]
    pos = 0
    for idx, n in enumerate(counts):
        span = min(region_len, max(21 * DAY, n * randint(rng, 6, 30) * DAY))
        lo = REGION_START + randint(rng, 0, region_len - span)
        status = rng.choices(statuses, status_w)[0]
        authority = AUTHORITY if rng.random() < 0.92 else pick(rng, OTHER_AUTHORITIES)
        uasc = status in ("looked_after", "care_leaver") and rng.random() < 0.05
        age = randint(rng, 18, 22) if status == "care_leaver" else randint(rng, 9, 16)
        while True:
            first = pick(rng, UASC_FIRST if uasc else FIRST_NAMES)
            last = pick(rng, UASC_LAST if uasc else LAST_NAMES)
            key = (first, last, birth_date(rng, age, lo))
            if key not in names:
                names.add(key)
                break
        registered = rng.random() > 0.01
        ref = ChildRef(f"P{idx + 1:07d}", key[0], key[1], key[2], status, uasc, authority, registered)
        planned.refs.append(ref)
        if registered:
            yield register_row(rng, ref)
        kinds = ["absent" if rng.random() < 0.12 else "missing" for _ in range(n)]
        episodes = sequence(rng, kinds, lo, lo + span)
        if lo + span > SAMPLE_AS_OF - 60 * DAY and rng.random() < 0.2:
            episodes[-1] = (episodes[-1][0], 0, episodes[-1][2])  # still missing at as_of (0: no end)
        for start, end, kind in episodes:
            planned.starts[pos], planned.ends[pos], planned.owner[pos] = start, end, idx
            planned.absent[pos] = kind == "absent"
            pos += 1


def _emit_in_start_order(rng: random.Random, planned: _Planned, out_dir: Path) -> tuple[Emitter, int, int]:
    """Replay every episode in start order through the emitter; the sinks write what can no longer change."""
    order = np.argsort(planned.starts, kind="stable")
    cfg = Config(authority=AUTHORITY, as_of=SAMPLE_AS_OF)
    notifications = SortedSink(out_dir / "notifications.csv", NOTIFICATION_FIELDS, f"{FORCE}-MSG-")
    outcomes = SortedSink(out_dir / "outcomes.csv", OUTCOME_FIELDS, "CMS-")
    emitter = Emitter(rng, cfg, notifications, outcomes)
    seq = 0
    for chunk_at in range(0, planned.episodes, 65536):  # numpy slices, turned into Python ints a block at a time
        chunk = order[chunk_at : chunk_at + 65536]
        columns = (planned.starts[chunk].tolist(), planned.ends[chunk].tolist(), planned.owner[chunk].tolist(),
                   planned.absent[chunk].tolist())  # fmt: skip
        for start, end, who, is_absent in zip(*columns, strict=True):
            seq += 1
            if seq % 512 == 0:  # nothing still to come can be earlier than this start: write what is older
                notifications.flush(start)
                outcomes.flush(start)
            ref = f"{FORCE}-{epoch_day_text(london_day(start))[:4]}-{seq:07d}"
            kind = "absent" if is_absent else "missing"
            emitter.emit(EpisodePlan(ref, planned.refs[who], kind, start, end or None))
    return emitter, notifications.close(), outcomes.close()
