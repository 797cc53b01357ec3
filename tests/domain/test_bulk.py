"""The vectorised bulk evaluator gives exactly what ``rules.evaluate_child`` gives, child by child.

On the bundled sample (through the real ingest and the database) and on random histories built to sit on the
edges: starts exactly 28 days or 2 calendar months apart, month ends, the spring gap and the autumn fold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from missing_episodes import actions, bulk
from missing_episodes.bulk.evaluate import evaluate_columns
from missing_episodes.clock import LONDON, UTC
from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import copy_sqlite, session_scope
from missing_episodes.db.models import Action, AuditEvent, Child
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.policy import Policy, load_policy, parse_policy
from missing_episodes.rules import evaluate_child

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")


def _with_high_risk_due_times() -> Policy:
    """The bundled policy with a shorter due time at high risk on two case-event rules evaluated on columns (the
    bundled policy has none there), so the random histories test that the high risk is read there too."""
    data = yaml.safe_load((DATA_DIR / "policies" / "default.yaml").read_text())
    for rule in data["rules"]:
        if rule["id"] in ("serious.media_interest", "rhi.strategy_check"):
            rule["due_if_high_risk"] = {"hours": 2}
    return parse_policy(data, "default.yaml with high-risk due times")


HORIZON = datetime(2026, 11, 10, tzinfo=UTC)


def test_bulk_equals_evaluate_child_on_the_bundled_sample(sqlite_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    context = Context(Settings(), POLICY)
    sample = DATA_DIR / "sample"
    for kind, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        ingest_path(kind, sample / f"{kind}.csv", source, context)
    with session_scope(sqlite_url) as session:
        facts = bulk.load_facts(session)
        ids = list(session.scalars(select(Child.id)))
    got = bulk.evaluate_bulk(POLICY, facts, HORIZON)
    assert set(got) == set(ids)
    # Some actions are final as the columns give them (no case event of their child closes them): a first load
    # writes those from the frame; the rest are closed by case events or evaluated per child.
    split = evaluate_columns(POLICY, facts, HORIZON)
    assert len(split.settled) > 10 and sum(map(len, split.specs.values())) > 10
    assert split.all_specs(POLICY) == got
    episodes, outcomes = bulk.episode_facts(facts), bulk.outcome_facts(facts)
    vectorised = 0
    for child_id, child in bulk.child_facts(facts).items():
        want = evaluate_child(POLICY, child, episodes.get(child_id, []), outcomes.get(child_id, []), HORIZON)
        assert got[child_id] == want, child.ref
        vectorised += bool(want)
    assert vectorised > 10



def _load_sample(url: str, monkeypatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    context = Context(Settings(), POLICY)
    for kind, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", source, context)


def test_the_bulk_paths_facts_hold_the_instants_the_column_type_reads(db_url, monkeypatch):
    """The bulk path reads instants as the driver stores them and parses a column at a time; the frames must be
    the ones the column type's own conversion, value by value, gives (SQLite's text, PostgreSQL's timestamptz)."""
    _load_sample(db_url, monkeypatch)
    with session_scope(db_url) as session:
        typed = bulk.facts.as_columns(bulk.facts.read_facts(session))
        raw = bulk.load_facts(session)
    for name in ("children", "episodes", "risks", "outcomes"):
        pd.testing.assert_frame_equal(getattr(raw, name), getattr(typed, name), obj=name)
    assert raw.episodes["started_at"].notna().sum() > 10 and raw.outcomes["recorded_at"].notna().all()


def _recompute(url: str, policy: Policy, evaluator: actions.Evaluator) -> dict[str, int]:
    with session_scope(url) as session:
        ids = list(session.scalars(select(Child.id)))
        summary = actions.recompute_children(session, ids, policy, now=HORIZON, roster_path=DATA_DIR / "roster.csv",
                                             actor="test", audit_each=False, evaluator=evaluator)
    return summary.as_dict()


def _stored(url: str) -> tuple[list[tuple], list[tuple]]:
    """Every stored action (all columns but ids and clocks) and the audit events the recomputation wrote."""
    names = ["key", "child_id", "episode_id", "kind", "rule_id", "policy_version", "trigger_at", "due_at", "status",
             "done_at", "done_by", "evidence", "detail", "actor", "recipients", "assigned_to", "assignment_note"]
    with session_scope(url) as session:
        rows = sorted(tuple(getattr(a, name) for name in names) for a in session.scalars(select(Action)))
        events = sorted((e.event, e.entity_ref or "", e.detail or "")
                        for e in session.scalars(select(AuditEvent).where(AuditEvent.actor == "test")))
    return rows, events


def test_the_bulk_path_stores_exactly_what_the_per_child_path_stores(sqlite_url, monkeypatch, tmp_path):
    _load_sample(sqlite_url, monkeypatch)
    per_child = copy_sqlite(Path(sqlite_url.removeprefix("sqlite:///")), tmp_path / "per-child.db")
    changed = Policy.model_validate(
        POLICY.model_dump() | {"version": "2099.1",
                               "rules": [r for r in POLICY.model_dump()["rules"] if r["id"] != "strategy.missing_24h"]}
    )
    # A first load (inserts, interviews allocated), a policy change (updates, withdrawals, removals), a rerun.
    summaries = []
    for policy in (POLICY, changed, changed):
        summaries.append(_recompute(sqlite_url, policy, actions.VECTORISED))
        assert summaries[-1] == _recompute(per_child, policy, actions.PER_CHILD)
        assert _stored(sqlite_url) == _stored(per_child)
    first, change, rerun = summaries
    assert first["created"] > 0 and first["allocated"] > 0
    assert change["updated"] > 0 and change["withdrawn"] > 0
    assert rerun == {"children": first["children"], "created": 0, "updated": 0, "withdrawn": 0, "removed": 0,
                     "allocated": 0}
    assert {"action_withdrawn", "rhi_allocated", "actions_recomputed"} <= {e[0] for e in _stored(sqlite_url)[1]}


# --- random histories ------------------------------------------------------------------------------------------

# Local wall-clock days near the clock changes and month ends, so windows of 28 days and 2 months hit them.
_DAYS = [date(2026, 1, 31) + timedelta(days=n) for n in range(0, 270, 1)]
_LOCAL_TIMES = [(0, 30), (1, 0), (1, 30), (2, 0), (8, 15), (23, 59)]


@st.composite
def _history(draw):
    n = draw(st.integers(1, 9))
    episodes = []
    first = draw(st.sampled_from(_DAYS))
    day = first
    for number in range(n):
        day = day + timedelta(days=draw(st.sampled_from([0, 1, 3, 7, 27, 28, 29, 30, 31, 59, 61, 62])))
        hour, minute = draw(st.sampled_from(_LOCAL_TIMES))
        local = datetime(day.year, day.month, day.day, hour, minute)
        start = local.replace(tzinfo=LONDON, fold=draw(st.integers(0, 1))).astimezone(UTC)
        length = draw(st.sampled_from([None, 1, 23.99, 24, 24.01, 71.99, 72, 80, 500]))
        found = start + timedelta(hours=length) if length is not None else None
        reported = start + timedelta(minutes=draw(st.sampled_from([0, 30, 200])))
        risks = tuple(
            (start + timedelta(hours=h), level)
            for h, level in draw(st.lists(st.tuples(st.sampled_from([0, 1, 30]),
                                                   st.sampled_from(["high", "medium", "low"])), max_size=3))
        )
        episodes.append({
            "id": number + 1, "ref": f"EP-{number:03d}", "incident_ref": draw(st.sampled_from([f"I{number}", "I0"])),
            "kind": draw(st.sampled_from(["missing", "missing", "missing", "absent", None])),
            "started_at": start, "reported_at": reported, "found_at": found,
            "return_notified_at": found + timedelta(minutes=draw(st.sampled_from([0, 45]))) if found else None,
            "other_authority": draw(st.booleans()) and draw(st.booleans()),
            "risks": sorted(set(risks)),
        })
    dob = draw(st.sampled_from([None, date(2008, 3, 1), date(2009, 2, 28), date(2012, 6, 15)]))
    status = draw(st.sampled_from(["looked_after", "child_in_need", "care_leaver"]))
    # Case events about the episodes: at, before and after their starts (equal times too), naming the incident,
    # another, an empty one or none, some graded high: which episode each is about, and the scope at its time.
    events = draw(st.lists(st.tuples(
        st.sampled_from(_EVENTS), st.integers(0, n - 1), st.sampled_from([-1, 0, 0, 1, 25, 73, 240, 2000]),
        st.sampled_from([None, "", "own", "I-elsewhere"]), st.sampled_from([None, None, "high"]),
    ), max_size=6))
    return episodes, dob, status, draw(st.booleans()) and draw(st.booleans()), events


#: The case events the random histories record: the interview and its enquiry's answers, a decline, harm found
#: (a rule for under-18s only) and media interest.
_EVENTS = ["rhi_completed", "rhi_completed", "strategy_meeting_held", "strategy_meeting_not_required",
           "management_oversight_recorded", "rhi_declined", "rhi_finding_harm_or_exploitation", "media_interest"]


def _facts(histories) -> bulk.Facts:
    """Children 1, 2, ... with these histories, as the bulk path reads them."""
    children, frames, risks, outcomes = [], [], [], []
    for child_id, (episodes, dob, status, uasc, events) in enumerate(histories, start=1):
        children.append({"id": child_id, "ref": f"CH-{child_id}", "legal_status": status, "uasc": uasc,
                         "date_of_birth": dob, "has_immigration_solicitor": uasc})
        ids = {e["id"]: child_id * 100 + e["id"] for e in episodes}
        frames += [{k: v for k, v in e.items() if k != "risks"}
                   | {"id": ids[e["id"]], "ref": f"{e['ref']}-{child_id}", "child_id": child_id} for e in episodes]
        risks += [{"episode_id": ids[e["id"]], "assessed_at": at, "risk_level": level, "notification_id": n}
                  for e in episodes for n, (at, level) in enumerate(e["risks"])]
        outcomes += [
            {"child_id": child_id, "event_id": f"E{n % 3}-{n}", "event": event,
             "recorded_at": episodes[about]["started_at"] + timedelta(hours=hours),
             "incident_ref": episodes[about]["incident_ref"] if incident == "own" else incident, "by": "x",
             "rationale": None, "notes": None, "risk_level": risk}
            for n, (event, about, hours, incident, risk) in enumerate(events)
        ]
    frame = pd.DataFrame(frames)
    for name in ("started_at", "reported_at", "found_at", "return_notified_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    risks = pd.DataFrame(risks, columns=["episode_id", "assessed_at", "risk_level", "notification_id"])
    risks["assessed_at"] = pd.to_datetime(risks["assessed_at"], utc=True).astype("datetime64[us, UTC]")
    outcomes = pd.DataFrame(outcomes, columns=["child_id", "event_id", "event", "recorded_at", "incident_ref", "by",
                                               "rationale", "notes", "risk_level"])
    outcomes["recorded_at"] = pd.to_datetime(outcomes["recorded_at"], utc=True).astype("datetime64[us, UTC]")
    return bulk.Facts(pd.DataFrame(children), frame, risks, outcomes)


#: A child missing since 10:00 on 10 March (the 24-hour strategy meeting called for), interviewed at 73 hours:
#: the meeting recorded at that very instant answers the enquiry; one recorded later does not.
_INTERVIEWED_AS_THE_MEETING_IS_RECORDED = [(
    [{"id": 1, "ref": "EP-000", "incident_ref": "I0", "kind": "missing",
      "started_at": datetime(2026, 3, 10, 10, tzinfo=UTC), "reported_at": datetime(2026, 3, 10, 10, tzinfo=UTC),
      "found_at": None, "return_notified_at": None, "other_authority": False, "risks": []}],
    date(2012, 6, 15), "looked_after", False, events,
) for events in ([("rhi_completed", 0, 73, None, None), ("strategy_meeting_held", 0, 73, None, None)],
                 [("rhi_completed", 0, 73, None, None), ("strategy_meeting_held", 0, 240, None, None)])]


@pytest.mark.parametrize("policy", [POLICY, _with_high_risk_due_times()], ids=["bundled", "high-risk-due-times"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_history(), min_size=1, max_size=3))
@example(_INTERVIEWED_AS_THE_MEETING_IS_RECORDED)
def test_bulk_equals_evaluate_child_on_random_histories(policy, histories):
    facts = _facts(histories)
    got = bulk.evaluate_bulk(policy, facts, HORIZON)
    episodes, outcomes = bulk.episode_facts(facts), bulk.outcome_facts(facts)
    for child_id, child in bulk.child_facts(facts).items():
        want = evaluate_child(policy, child, episodes.get(child_id, []), outcomes.get(child_id, []), HORIZON)
        assert got[child_id] == want, child.ref


def test_london_calendar_shift_matches_the_clock_module_in_the_gap_and_the_fold():
    from missing_episodes.clock import add_days, add_months, shift_london_column

    moments = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 2, 26, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 9, 27, 0, 30, tzinfo=UTC), datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
        datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
    ]
    series = pd.Series(pd.to_datetime(moments, utc=True)).astype("datetime64[us, UTC]")
    for days in (-28, 28, 1):
        shifted = shift_london_column(series, days=days)
        assert [t.to_pydatetime() for t in shifted] == [add_days(m, days) for m in moments]
    for months in (-2, 1, 2):
        shifted = shift_london_column(series, months=months)
        assert [t.to_pydatetime() for t in shifted] == [add_months(m, months) for m in moments]


def test_working_days_on_a_column_are_the_clock_modules_working_days():
    """``add_working_days_column`` (numpy's business days) gives ``add_working_days``'s instant for every moment:
    Friday afternoons before a bank-holiday Monday, weekends, Christmas into the new year, the clock changes
    (the wall-clock time is kept across them), a missing time."""
    from missing_episodes.clock import add_working_days, add_working_days_column

    edges = [
        datetime(2026, 5, 22, 15, 0, tzinfo=UTC),  # Friday 16:00 BST before the spring bank holiday (25 May)
        datetime(2026, 5, 23, 10, 0, tzinfo=UTC),  # a Saturday: the first working day after it is day 1
        datetime(2026, 5, 25, 8, 0, tzinfo=UTC),  # the bank holiday itself
        datetime(2026, 12, 24, 17, 0, tzinfo=UTC),  # Christmas Eve: 25, 26 (28 in lieu), 1 January closed
        datetime(2026, 3, 27, 0, 30, tzinfo=UTC),  # Friday 00:30 GMT; Monday is summer time
        datetime(2026, 10, 23, 23, 30, tzinfo=UTC),  # Saturday 00:30 BST; Monday is winter time
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # Sunday 01:30 BST, the ambiguous hour
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Sunday, just after the spring change
        datetime(2027, 12, 31, 23, 59, tzinfo=UTC),  # a year's last minute
    ]
    sweep = [datetime(2025, 12, 1, 7, 45, tzinfo=UTC) + timedelta(hours=13 * n) for n in range(900)]
    moments = edges + sweep
    series = pd.Series(pd.to_datetime([*moments, None], utc=True)).astype("datetime64[us, UTC]")
    for days in (0, 1, 2, 3, 5, 10, 30):
        column = add_working_days_column(series, days)
        assert [t.to_pydatetime() for t in column[:-1]] == [add_working_days(m, days) for m in moments], days
        assert pd.isna(column.iloc[-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.one_of(st.none(), st.text("ab\u00e9Z", max_size=3))),
                max_size=40))
def test_rows_sorted_with_texts_ranked_only_among_ties_are_in_pandas_order(rows):
    """``sorted_rows`` gives exactly ``sort_values``'s stable order: rows tied on the numbers and the instant are
    ordered by their text (code point order; a missing text last), equal texts keep their order."""
    from missing_episodes.triggers.base import sorted_rows

    frame = pd.DataFrame(rows, columns=["child_id", "hour", "event_id"]).astype({"event_id": "str"})
    frame.loc[frame["event_id"] == "None", "event_id"] = None
    frame["recorded_at"] = pd.to_datetime(frame["hour"], unit="h", utc=True)
    want = frame.sort_values(["child_id", "recorded_at", "event_id"], kind="stable")
    got = sorted_rows(frame, ["child_id", "recorded_at"], "event_id")
    assert got.index.tolist() == want.index.tolist()
    assert got.columns.tolist() == frame.columns.tolist()
