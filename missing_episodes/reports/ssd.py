"""The Standard Safeguarding Dataset's ``ssd_missing`` table, from our episodes.

The SSD (Data to Insight's shared schema for children's services data) holds one row per missing or absent
episode: ``miss_table_id`` (our pseudonymous episode ref), ``miss_person_id`` (the authority's person id), start
and end as ISO 8601 local times, the type, and whether a return interview was offered and accepted (``Y``, ``N``,
``NA`` for an absent episode; blank while not known). Exporting it lets an authority feed the SSD-based tools
(Annex A, the 903 and CIN tools) from this product instead of re-keying.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from missing_episodes.clock import as_london, now
from missing_episodes.db.engine import session_scope
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.records import Records, load_records
from missing_episodes.reports.rhi_answers import NOT_APPLICABLE, YES, offered_accepted, rhi_status_by_episode
from missing_episodes.reports.spreadsheets import write_csv

COLUMNS = [
    "miss_table_id",
    "miss_person_id",
    "miss_missing_episode_start_date",
    "miss_missing_episode_type",
    "miss_missing_episode_end_date",
    "miss_missing_rhi_offered",
    "miss_missing_rhi_accepted",
]
TYPES = {"missing": "Missing", "absent": "Absent"}


def _yn(answer: str) -> str | None:
    if answer == NOT_APPLICABLE:
        return NOT_APPLICABLE
    if answer in (YES, "No"):
        return answer[0]
    return None


def _local(moment: datetime | None) -> str | None:
    return None if moment is None or pd.isna(moment) else as_london(moment).strftime("%Y-%m-%dT%H:%M:%S")


def ssd_missing(records: Records) -> pd.DataFrame:
    statuses = rhi_status_by_episode(records)
    person = records.children.set_index("child_id")["person_id"]
    rows = []
    for episode in records.episodes.itertuples():
        offered, accepted = offered_accepted(episode.kind, statuses.get(episode.episode_id))
        rows.append(
            [
                episode.episode_ref,
                person.get(episode.child_id),
                _local(episode.started_at),
                TYPES[episode.kind],
                _local(episode.ended_at),
                _yn(offered),
                _yn(accepted),
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def produce_ssd(database_url: str, out_dir: Path, as_of: datetime | None = None) -> ReportOutputs:
    """Write ``ssd_missing.csv`` (every episode of ours, as recorded at ``as_of``, default now)."""
    with session_scope(database_url) as session:
        records = load_records(session, as_of or now())
    table = ssd_missing(records)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_csv(table, out_dir / "ssd_missing.csv")
    return ReportOutputs(paths={"csv": path}, counts={"episodes": len(table)})
