"""The synthetic feeds: deterministic, shaped like the Wolverhampton figures, and valid against the contracts.

Everything is read back from the written CSVs with the ``csv`` module, the way an ingest would, so a test passes
only if the bytes on disk say what the manifest claims.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from missing_episodes.clock import format_epoch
from missing_episodes.config import DATA_DIR
from missing_episodes.ingest import known_outcome_events
from missing_episodes.policy import load_policy
from missing_episodes.synthetic import (
    CHILD_FIELDS,
    NOTIFICATION_FIELDS,
    OUTCOME_FIELDS,
    ROSTER_FIELDS,
    SAMPLE_AS_OF,
    generate_region,
    generate_sample,
    write_roster,
)

LONDON = ZoneInfo("Europe/London")
AS_OF = datetime.fromtimestamp(SAMPLE_AS_OF, UTC)
FILES = ("children.csv", "notifications.csv", "outcomes.csv", "damaged.csv", "manifest.json")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def parse(text: str) -> datetime:
    """ISO 8601; a naive time is London local time and must exist there (no spring-forward gap)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        local = moment.replace(tzinfo=LONDON)
        assert local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == moment, f"{text} not in London"
        return local.astimezone(UTC)
    return moment.astimezone(UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, seed=2026, roster_path=out / "roster.csv")
    return out


@pytest.fixture(scope="module")
def episodes(sample: Path) -> dict[str, list[dict[str, str]]]:
    by_ref: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read(sample / "notifications.csv"):
        by_ref[row["incident_ref"]].append(row)
    return by_ref


# --- determinism ----------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_differs(sample: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    generate_sample(again, seed=2026, roster_path=again / "roster.csv")
    generate_sample(other, seed=7)
    for name in (*FILES, "roster.csv"):
        assert (sample / name).read_bytes() == (again / name).read_bytes(), name
    for name in ("children.csv", "notifications.csv", "outcomes.csv"):
        assert (sample / name).read_bytes() != (other / name).read_bytes(), name


def test_the_bundled_sample_is_what_the_generator_writes(sample: Path) -> None:
    """``data/sample`` and ``data/roster.csv`` are the generator's output, byte for byte (regenerate both together)."""
    for name in FILES:
        assert (sample / name).read_bytes() == (DATA_DIR / "sample" / name).read_bytes(), name
    assert (sample / "roster.csv").read_bytes() == (DATA_DIR / "roster.csv").read_bytes()


#: A small region's files as the generator wrote them when this was pinned: a refactoring must not move a byte.
#: A deliberate change to the generator changes these; say so in its commit and pin the new ones.
REGION_700_SEED_3 = {
    "children.csv": "9523c13d1598413202c7957ac61152f7f8d27fe518130c90a206680bffc4026e",
    "notifications.csv": "4d6fa2846bb9c207e5b797a9b798733e12fe4476786539fec3554e4762278b92",
    "outcomes.csv": "e4b6c90fde972dfbfedddf5bc9e54dea39062f309b1d56cdf93ec9fb6530b15b",
    "manifest.json": "587f20dbd58eb72d5ae029ac793fd5b62a7c63f63e06e708936669dd6e9b8c38",
}


def test_region_is_deterministic(tmp_path: Path) -> None:
    first = generate_region(tmp_path / "a", 700, seed=3)
    second = generate_region(tmp_path / "b", 700, seed=3)
    third = generate_region(tmp_path / "c", 700, seed=4)
    assert first == second
    for name in ("children.csv", "notifications.csv", "outcomes.csv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "notifications.csv").read_bytes() != (tmp_path / "c" / "notifications.csv").read_bytes()
    for name, digest in REGION_700_SEED_3.items():
        assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).hexdigest() == digest, name
    assert third["counts"]["episodes"]["total"] == 700


# --- contracts ------------------------------------------------------------------------------------------------


def test_headers_are_the_contract(sample: Path) -> None:
    assert header(sample / "children.csv") == list(CHILD_FIELDS)
    assert header(sample / "notifications.csv") == list(NOTIFICATION_FIELDS)
    assert header(sample / "damaged.csv") == list(NOTIFICATION_FIELDS)
    assert header(sample / "outcomes.csv") == list(OUTCOME_FIELDS)
    assert header(sample / "roster.csv") == list(ROSTER_FIELDS)
    roster = read(sample / "roster.csv")
    assert 4 <= len(roster) <= 5
    assert all(r["team"] == "Return Interview Team" and 6 <= int(r["capacity"]) <= 10 for r in roster)


def test_every_message_carries_what_its_event_needs(sample: Path) -> None:
    rows = read(sample / "notifications.csv")
    assert len({r["notification_id"] for r in rows}) == len(rows)
    assert {r["event"] for r in rows} == {"missing", "absent", "found", "update"}
    for r in rows:
        assert r["incident_ref"] and r["sent_at"]
        assert r["risk_level"] in ("", "high", "medium", "low", "no_apparent_risk")
        if r["event"] in ("missing", "absent"):
            assert r["child_id"] or (r["first_name"] and r["last_name"] and r["date_of_birth"]), r
            assert r["last_seen_at"], r
        if r["event"] == "found":
            assert r["found_at"] and r["found_location"], r
    blank = sum(1 for r in rows if not r["child_id"]) / len(rows)
    assert 0.06 <= blank <= 0.16  # name + date-of-birth matching gets exercised


def test_outcomes_reference_registered_children(sample: Path) -> None:
    children = {r["child_id"] for r in read(sample / "children.csv")}
    # Every event the ingest accepts: the standard ones and those the default policy closes its rules with.
    allowed = known_outcome_events(load_policy(DATA_DIR / "policies" / "default.yaml"))
    rows = read(sample / "outcomes.csv")
    assert len({r["event_id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["child_id"] in children and r["event"] in allowed and r["by"]
        if r["event"] == "strategy_meeting_not_required":
            assert r["rationale"]
        assert parse(r["recorded_at"]) <= AS_OF
    events = Counter(r["event"] for r in rows)
    assert events["media_interest"] == 1
    assert events["assessed_missing"] == 3 and events["assessed_not_in_touch"] == 1
    assert events["strategy_meeting_held"] and events["strategy_meeting_not_required"]
    assert events["serious_notification_sent"]


def test_times_parse_exist_in_london_and_are_in_order(sample: Path, episodes: dict) -> None:
    rows = read(sample / "notifications.csv")
    sent = [parse(r["sent_at"]) for r in rows]
    assert sent == sorted(sent), "the bundled file is in sent_at order"
    assert max(sent) <= AS_OF
    styles = Counter(("Z" if t.endswith("Z") else "offset" if "+" in t[10:] else "naive") for t in
                     (r[f] for r in rows for f in ("sent_at", "last_seen_at", "found_at") if r[f]))  # fmt: skip
    assert styles["naive"] > styles["offset"] > 0 and styles["Z"] > 0
    for msgs in episodes.values():
        opening = [m for m in msgs if m["event"] in ("missing", "absent")]
        assert len(opening) == 1
        start = parse(opening[0]["last_seen_at"])
        assert parse(opening[0]["sent_at"]) > start
        for found in (m for m in msgs if m["event"] == "found"):
            assert parse(found["found_at"]) > start
            assert parse(found["sent_at"]) > parse(opening[0]["sent_at"])
            if found["last_seen_at"]:
                assert parse(found["last_seen_at"]) == start


def test_format_epoch_matches_zoneinfo_around_the_clock_changes() -> None:
    for day in ((2026, 3, 29), (2026, 10, 25), (2025, 10, 26)):
        base = int(datetime(*day, tzinfo=UTC).timestamp()) - 3 * 3600
        for ts in range(base, base + 8 * 3600, 600):
            # Compare in UTC: PEP 495 makes an ambiguous London time unequal to every other zone's.
            expected = datetime.fromtimestamp(ts, UTC)
            for style in (0, 1, 2):
                assert parse(format_epoch(ts, style)) == expected, (ts, style)
            if expected.astimezone(LONDON).fold:  # the repeated autumn hour is never written naive
                assert format_epoch(ts).endswith("+00:00")


# --- the shape of the sample ----------------------------------------------------------------------------------


def test_sample_looks_like_the_wolverhampton_report(sample: Path, episodes: dict) -> None:
    children = {r["child_id"]: r for r in read(sample / "children.csv")}
    by_key = {(r["first_name"], r["last_name"], r["date_of_birth"]): cid for cid, r in children.items()}
    outcomes = read(sample / "outcomes.csv")
    rhi = {o["incident_ref"]: o["event"] for o in outcomes if o["event"].startswith("rhi_")}
    lo, hi = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)

    per_child: Counter[str] = Counter()
    closed = declined = completed = on_time = 0
    kinds: Counter[str] = Counter()
    open_refs = []
    for ref, msgs in episodes.items():
        opening = next(m for m in msgs if m["event"] in ("missing", "absent"))
        kinds[opening["event"]] += 1
        found = [m for m in msgs if m["event"] == "found"]
        if not found:
            open_refs.append(ref)
        cid = opening["child_id"] or by_key.get((opening["first_name"], opening["last_name"], opening["date_of_birth"]))
        child = children.get(cid or "")
        in_care = child and child["legal_status"] == "looked_after" and child["responsible_authority"] == "Kingsbridge"
        if opening["event"] != "missing" or not in_care or not lo <= parse(opening["last_seen_at"]) < hi:
            continue
        per_child[cid] += 1
        if found:
            closed += 1
            declined += rhi.get(ref) == "rhi_declined"
            if rhi.get(ref) == "rhi_completed":
                completed += 1
                done = next(o for o in outcomes if o["incident_ref"] == ref and o["event"] == "rhi_completed")
                on_time += (parse(done["recorded_at"]) - parse(found[0]["sent_at"])).total_seconds() <= 72 * 3600

    assert 250 <= sum(per_child.values()) <= 310
    assert 36 <= len(per_child) <= 45
    assert 18 <= sum(1 for n in per_child.values() if n >= 3) <= 24
    assert max(per_child.values()) >= 25  # the 4-in-28-days and 6-in-2-months triggers fire
    assert 0.26 <= declined / closed <= 0.34
    assert 0.56 <= completed / closed <= 0.66
    assert on_time / completed >= 0.75
    assert 35 <= kinds["absent"] <= 45
    assert 3 <= len(open_refs) <= 4

    opening = {ref: next(m for m in msgs if m["event"] in ("missing", "absent")) for ref, msgs in episodes.items()}
    open_starts = [parse(opening[r]["last_seen_at"]) for r in open_refs]
    assert any((AS_OF - s).days > 28 for s in open_starts)  # long-term missing (UASC)
    assert any((AS_OF - s).total_seconds() > 72 * 3600 for s in open_starts)
    assert any(m["risk_level"] == "high" for r in open_refs for m in episodes[r])  # a high-risk child missing right now

    statuses = Counter(r["legal_status"] for r in children.values())
    assert statuses["care_leaver"] == 3 and statuses["child_in_need"] + statuses["child_protection"] >= 4
    assert sum(1 for r in children.values() if r["legal_status"] == "looked_after" and r["uasc"] == "yes") == 2
    assert sum(1 for r in children.values() if r["legal_status"] == "care_leaver" and r["uasc"] == "yes") == 1
    assert {r["responsible_authority"] for r in children.values()} >= {"Kingsbridge", "Northfield", "Eastbrook"}
    assert sum(1 for r in children.values() if float(r["placement_distance_miles"]) > 20) >= 3
    unknown = {
        (m["first_name"], m["last_name"], m["date_of_birth"])
        for m in opening.values()
        if not m["child_id"] and (m["first_name"], m["last_name"], m["date_of_birth"]) not in by_key
    }
    assert len(unknown) == 2  # two children the register does not know


def test_sample_has_the_awkward_cases(sample: Path) -> None:
    text = (sample / "notifications.csv").read_text(encoding="utf-8")
    register = (sample / "children.csv").read_text(encoding="utf-8")
    for name in ("O'Brien", "Zoë", "Łukasz", "Nguyễn", "Σοφία"):
        assert name in register
    assert "friends & cousin" in text and '""' in text  # an ampersand, and an escaped double quote
    rows = read(sample / "notifications.csv")
    assert any(r["found_at"].startswith("2026-10-25T01:") and r["found_at"].endswith("+00:00") for r in rows)
    assert any(r["last_seen_at"].startswith("2026-03-2") and r["found_at"] == "" for r in rows)
    crossing = [r for r in rows if r["event"] == "found" and r["found_at"][:10] in ("2026-03-29", "2026-10-25")]
    assert len(crossing) >= 2
    assert any(r["event"] == "update" and r["risk_level"] for r in rows)


def test_damaged_rows_are_broken_one_way_each(sample: Path) -> None:
    rows = read(sample / "damaged.csv")
    assert len(rows) == 8
    assert rows[0]["event"] == "lost"
    with pytest.raises(ValueError):
        datetime.fromisoformat(rows[1]["sent_at"])
    assert parse(rows[2]["found_at"]) < parse(rows[2]["last_seen_at"])
    assert rows[3]["incident_ref"] == ""
    assert not any(rows[4][f] for f in ("child_id", "first_name", "last_name", "date_of_birth"))
    with pytest.raises(AssertionError):
        parse(rows[5]["last_seen_at"])  # 01:30 on 29 March 2026 never happened in London
    assert rows[6]["incident_ref"] == rows[7]["incident_ref"] and rows[7]["event"] == "found"


def test_manifest_matches_the_files(sample: Path) -> None:
    manifest = json.loads((sample / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["authority"] == "Kingsbridge" and manifest["seed"] == 2026
    assert parse(manifest["as_of"]) == AS_OF
    counts = manifest["counts"]
    notifications = read(sample / "notifications.csv")
    assert counts["notifications"] == len(notifications)
    assert counts["notifications_by_event"] == dict(sorted(Counter(r["event"] for r in notifications).items()))
    assert counts["outcomes"] == len(read(sample / "outcomes.csv"))
    assert counts["children_registered"] == len(read(sample / "children.csv"))
    assert counts["episodes"]["total"] == len({r["incident_ref"] for r in notifications})


def test_write_roster(tmp_path: Path) -> None:
    write_roster(tmp_path / "data" / "roster.csv")
    assert header(tmp_path / "data" / "roster.csv") == list(ROSTER_FIELDS)


# --- the region -----------------------------------------------------------------------------------------------


def test_region_at_a_tiny_size_is_consistent(tmp_path: Path) -> None:
    manifest = generate_region(tmp_path, 2000, seed=1)
    children = {r["child_id"]: r for r in read(tmp_path / "children.csv")}
    notifications = read(tmp_path / "notifications.csv")
    outcomes = read(tmp_path / "outcomes.csv")
    assert header(tmp_path / "children.csv") == list(CHILD_FIELDS)
    assert manifest["counts"]["episodes"]["total"] == 2000
    assert manifest["counts"]["notifications"] == len(notifications)
    assert manifest["counts"]["outcomes"] == len(outcomes)
    assert 250 <= len(children) <= 2000 // 7

    openings: dict[str, dict[str, str]] = {}
    found: dict[str, dict[str, str]] = {}
    previous = None
    for r in notifications:
        sent = parse(r["sent_at"])
        assert previous is None or sent >= previous
        previous = sent
        if r["event"] in ("missing", "absent"):
            assert r["incident_ref"] not in openings
            openings[r["incident_ref"]] = r
        elif r["event"] == "found":
            found[r["incident_ref"]] = r
    assert len(openings) == 2000
    assert set(found) <= set(openings)
    for ref, f in found.items():
        assert parse(f["found_at"]) > parse(openings[ref]["last_seen_at"])
    per_child = Counter(r["child_id"] for r in openings.values() if r["child_id"])
    assert max(per_child.values()) >= 10  # heavy-tailed repeats
    assert all(o["child_id"] in children for o in outcomes)
    assert {o["event"] for o in outcomes} >= {"rhi_completed", "rhi_declined", "strategy_meeting_held"}


def test_region_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_region(tmp_path, 0)
