"""Ofsted Annex A, list 8 (children in care): the missing columns, for every looked-after child.

For each child in care: episodes missing and episodes away from placement without authorisation (absent)
starting in the 12 months to the given date, and whether a return interview was offered and accepted after the
last missing episode in that time (Yes / No / Unknown; blank when the child was not missing). Inspectors read
this list beside the rest of list 8, so it is keyed by the authority's person id. It names no one, but it is
about identifiable children: it goes to the output store only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from missing_episodes.db.engine import session_scope
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.periods import twelve_months_to
from missing_episodes.reports.records import Records, load_records
from missing_episodes.reports.rhi_answers import offered_accepted, rhi_status_by_episode
from missing_episodes.reports.spreadsheets import write_csv

COLUMNS = [
    "Child Unique ID",
    "Date of birth",
    "Number of episodes the child was missing in the last 12 months",
    "Number of episodes the child was away from placement without authorisation in the last 12 months",
    "Was the child offered a return interview after the last missing episode?",
    "Did the child accept the return interview after the last missing episode?",
]


def annex_a_list8(records: Records, day: date) -> pd.DataFrame:
    period = twelve_months_to(day)
    episodes = records.episodes
    recent = episodes[episodes["start_date"].map(lambda d: d in period).astype(bool)]
    statuses = rhi_status_by_episode(records)
    children = records.children[records.children["child_id"].isin(records.looked_after_ids())]
    rows = []
    for child in children.sort_values(["person_id", "child_ref"], na_position="last").itertuples():
        mine = recent[recent["child_id"] == child.child_id]
        missing = mine[mine["kind"] == "missing"].sort_values(["started_at", "episode_id"])
        offered = accepted = ""
        if len(missing):
            last = missing.iloc[-1]
            offered, accepted = offered_accepted("missing", statuses.get(last["episode_id"]))
        rows.append(
            [
                child.person_id or child.child_ref,
                child.date_of_birth.strftime("%d/%m/%Y") if child.date_of_birth else "",
                len(missing),
                int((mine["kind"] == "absent").sum()),
                offered,
                accepted,
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def produce_annex_a(database_url: str, day: date, out_dir: Path) -> ReportOutputs:
    """Write ``annex-a-list8-missing-<date>.csv``; statuses read at the end of ``day``."""
    with session_scope(database_url) as session:
        records = load_records(session, twelve_months_to(day).end_instant)
    table = annex_a_list8(records, day)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_csv(table, out_dir / f"annex-a-list8-missing-{day:%Y%m%d}.csv")
    counts = {"children_in_care": len(table), "children_missing": int((table[COLUMNS[2]] > 0).sum())}
    return ReportOutputs(paths={"csv": path}, counts=counts)
