"""The bundled sample: a year of the fictional authority Kingsbridge, shaped like the Wolverhampton board report.

``generate_sample`` writes it (seed 2026: ~280 missing episodes for ~40 children in care, about half of them with
three or more, ~30% of return interviews declined and ~61% completed); ``sample_figures`` reads the figures back
from the written files, so the manifest states what the files hold.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from missing_episodes.clock import epoch_day_text, format_epoch, london_day, parse_time
from missing_episodes.synthetic.cast import Cast, build_cast, plan_cast
from missing_episodes.synthetic.emitter import Config, Emitter, EpisodePlan
from missing_episodes.synthetic.fixed_files import write_damaged, write_roster
from missing_episodes.synthetic.register import register_row
from missing_episodes.synthetic.sinks import SortedSink, iso, write_csv, write_json
from missing_episodes.synthetic.timeline import PERIOD_END, PERIOD_START, SAMPLE_AS_OF
from missing_episodes.synthetic.vocabulary import (
    AUTHORITY,
    CHILD_FIELDS,
    FORCE,
    NOTIFICATION_FIELDS,
    OUTCOME_FIELDS,
)


def _allocate_rhi(rng: random.Random, plans: list[EpisodePlan], cast: dict[str, Cast]) -> None:
    """Fix the interview outcomes to the report's shares: 30% declined (mostly by 19 children), 61% completed."""
    eligible = [
        p
        for p in plans
        if p.kind == "missing"
        and p.end is not None
        and p.standard_outcomes
        and p.child.legal_status == "looked_after"
        and p.child.registered
        and p.child.responsible_authority == AUTHORITY
    ]
    declines = round(0.30 * len(eligible))
    completes = round(0.61 * len(eligible))
    pool = [p for p in eligible if cast[p.child.child_id].decliner]
    rest = [p for p in eligible if not cast[p.child.child_id].decliner]
    rng.shuffle(pool)
    chosen, leftover = pool[:declines], pool[declines:]
    if len(chosen) < declines:
        need = declines - len(chosen)
        rng.shuffle(rest)
        chosen, rest = chosen + rest[:need], rest[need:]
    remaining = rest + leftover
    rng.shuffle(remaining)
    for p in chosen:
        p.rhi = "declined"
    for i, p in enumerate(remaining):
        if i < completes:
            # Late interviews mostly for children placed far away (Wolverhampton 3.9: virtual or delayed).
            p.rhi = "completed_late" if rng.random() < 0.12 else "completed"
        else:
            p.rhi = None


def generate_sample(out_dir: Path, seed: int = 2026, *, roster_path: Path | None = None) -> dict[str, Any]:
    """Write the Kingsbridge sample (children, notifications, outcomes, damaged rows, manifest); return the manifest.

    ``roster_path`` also writes the Return Interview Team roster (the bundled one lives at ``data/roster.csv``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cast_list, register_only = build_cast(rng)
    cast = {c.ref.child_id: c for c in cast_list}

    plans: list[EpisodePlan] = []
    for member in cast_list:
        plans += member.pins
        for start, end, kind in plan_cast(rng, member):
            plans.append(EpisodePlan("", member.ref, kind, start, end))
    plans.sort(key=lambda p: (p.start, p.child.child_id))
    for seq, plan in enumerate(plans, 1):
        plan.incident_ref = f"{FORCE}-{epoch_day_text(london_day(plan.start))[:4]}-{seq:06d}"
    _allocate_rhi(rng, plans, cast)

    register = []
    for member in cast_list + register_only:
        if member.ref.registered:
            register.append(register_row(rng, member.ref, **member.register))
    register.sort(key=lambda r: r[0])
    write_csv(out_dir / "children.csv", CHILD_FIELDS, register)

    cfg = Config(authority=AUTHORITY, as_of=SAMPLE_AS_OF)
    notifications = SortedSink(out_dir / "notifications.csv", NOTIFICATION_FIELDS, f"{FORCE}-MSG-")
    outcomes = SortedSink(out_dir / "outcomes.csv", OUTCOME_FIELDS, "CMS-")
    emitter = Emitter(rng, cfg, notifications, outcomes)
    for plan in plans:
        emitter.emit(plan)
    n_notifications, n_outcomes = notifications.close(), outcomes.close()
    write_damaged(out_dir / "damaged.csv")
    if roster_path is not None:
        write_roster(Path(roster_path))

    manifest = {
        "authority": AUTHORITY,
        "seed": seed,
        "as_of": iso(SAMPLE_AS_OF),
        "as_of_local": format_epoch(SAMPLE_AS_OF),
        "period": {"start": "2026-01-01", "end": "2026-10-31"},
        "counts": {
            "children_registered": len(register),
            "children_with_episodes": len({p.child.child_id for p in plans}),
            "children_not_registered": sum(1 for c in cast_list if not c.ref.registered),
            "episodes": {**emitter.episodes, "total": len(plans), "open_at_as_of": emitter.open_at_as_of},
            "notifications": n_notifications,
            "notifications_by_event": dict(sorted(notifications.by_event.items())),
            "outcomes": n_outcomes,
            "outcomes_by_event": dict(sorted(outcomes.by_event.items())),
            "damaged_rows": 8,
        },
        "figures": sample_figures(out_dir, SAMPLE_AS_OF),
    }
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def sample_figures(directory: Path, as_of: int = SAMPLE_AS_OF) -> dict[str, Any]:
    """The board-report figures recomputed from the written CSVs (so the manifest states what the files hold).

    Counts children in care of our authority, missing (not absent) episodes last seen in the ten-month period.
    """
    with (directory / "children.csv").open(encoding="utf-8", newline="") as fh:
        children = {r["child_id"]: r for r in csv.DictReader(fh)}
    by_key = {(r["first_name"], r["last_name"], r["date_of_birth"]): cid for cid, r in children.items()}
    episodes: dict[str, dict[str, Any]] = {}
    with (directory / "notifications.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            ep = episodes.setdefault(r["incident_ref"], {"found": False})
            ep["found"] |= r["event"] == "found"
            if r["event"] in ("missing", "absent"):
                ep["kind"] = r["event"]
                ep["start"] = parse_time(r["last_seen_at"])
                ep["child"] = r["child_id"] or by_key.get((r["first_name"], r["last_name"], r["date_of_birth"]))
    rhi: dict[str, str] = {}
    with (directory / "outcomes.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["event"] in ("rhi_completed", "rhi_declined"):
                rhi[r["incident_ref"]] = r["event"]
    lo = datetime.fromtimestamp(PERIOD_START, UTC)
    hi = datetime.fromtimestamp(PERIOD_END, UTC)
    in_care = {
        ref: ep
        for ref, ep in episodes.items()
        if ep.get("kind") == "missing"
        and ep.get("child") in children
        and children[ep["child"]]["legal_status"] == "looked_after"
        and children[ep["child"]]["responsible_authority"] == AUTHORITY
        and lo <= ep["start"] < hi
    }
    per_child: dict[str, int] = {}
    for ep in in_care.values():
        per_child[ep["child"]] = per_child.get(ep["child"], 0) + 1
    closed = [ref for ref, ep in in_care.items() if ep["found"]]
    declined = sum(1 for ref in closed if rhi.get(ref) == "rhi_declined")
    completed = sum(1 for ref in closed if rhi.get(ref) == "rhi_completed")
    return {
        "in_care_missing_episodes": len(in_care),
        "in_care_children": len(per_child),
        "in_care_children_3_plus": sum(1 for n in per_child.values() if n >= 3),
        "max_episodes_one_child": max(per_child.values(), default=0),
        "absent_episodes": sum(1 for ep in episodes.values() if ep.get("kind") == "absent"),
        "open_at_as_of": sum(1 for ep in episodes.values() if not ep["found"]),
        "rhi_declined_pct": round(100 * declined / len(closed), 1) if closed else 0.0,
        "rhi_completed_pct": round(100 * completed / len(closed), 1) if closed else 0.0,
    }


# --------------------------------------------------------------------------------------------------------------
# A region, for benchmarks
