"""The SSDA903 Missing table for a collection year, checked against the DfE's rules before it is written.

The DfE layout is ``CHILD, DOB, MISSING, MIS_START, MIS_END``: one row per period a looked-after child was
missing (``M``: whereabouts unknown) or away from placement without authorisation (``A``: our ``absent``), dates
DD/MM/YYYY, ``MIS_END`` blank while the period is open. The return is a picture at 31 March, so a period still
open then (even if the child has since come back) is returned open, and periods that ended before 1 April are
not returned. CHILD is the authority's person id: a child without one cannot be returned and is listed in
``validation.csv`` instead of being dropped silently.

``validation.csv`` lists every rule: ``fail`` rows name the child and the rule code, ``passed`` and
``not_checked`` rows say what was tested. Nothing is ever fixed here: the data is corrected at source.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from missing_episodes.clock import now
from missing_episodes.db.engine import session_scope
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.periods import Period, collection_year
from missing_episodes.reports.records import Records, load_records
from missing_episodes.reports.ssda903_rules import MISSING_COLUMNS, VALIDATION_COLUMNS, Tables, failures, validate

DATE_FORMAT = "%d/%m/%Y"
KIND_CODES = {"missing": "M", "absent": "A"}
NO_PERSON_ID = "LOCAL01"


def dmy(day: date | None) -> str:
    return "" if day is None or pd.isna(day) else day.strftime(DATE_FORMAT)


@dataclass(frozen=True)
class Return903:
    """A collection year's Missing table and the checks run on it."""

    year: int
    period: Period
    missing: pd.DataFrame  # MISSING_COLUMNS, text
    validation: pd.DataFrame  # VALIDATION_COLUMNS

    @property
    def failures(self) -> pd.DataFrame:
        return failures(self.validation)


def missing_table(records: Records, period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for the episodes that began while the child was looked after and overlap ``period``, as at its last day.

    Returns the table and the children left out for want of a person id (rule ``LOCAL01`` rows).
    """
    children = records.children.set_index("child_id")
    episodes = records.episodes
    chosen = episodes[
        records.in_care_episodes()
        & (episodes["start_date"] <= period.end)
        & (episodes["end_date"].isna() | (episodes["end_date"] >= period.start))
    ]
    rows, unreturnable = [], []
    for episode in chosen.itertuples():
        child = children.loc[episode.child_id]
        end = episode.end_date if episode.end_date is not None and not pd.isna(episode.end_date) else None
        if end is not None and end > period.end:
            end = None  # still open at 31 March: returned open, as the DfE's picture of the year
        if not child["person_id"]:
            unreturnable.append(
                {
                    "rule": NO_PERSON_ID,
                    "status": "fail",
                    "CHILD": child["child_ref"],
                    "MIS_START": dmy(episode.start_date),
                    "message": "The child has no person id, so this period cannot be returned; record the "
                    "authority's person id for the child (shown here by its pseudonymous ref).",
                }
            )
            continue
        rows.append(
            {
                "CHILD": child["person_id"],
                "DOB": dmy(child["date_of_birth"]),
                "MISSING": KIND_CODES[episode.kind],
                "MIS_START": dmy(episode.start_date),
                "MIS_END": dmy(end),
                "_sort": (child["person_id"], episode.start_date, episode.episode_id),
            }
        )
    rows.sort(key=lambda row: row.pop("_sort"))
    return pd.DataFrame(rows, columns=MISSING_COLUMNS), pd.DataFrame(unreturnable, columns=VALIDATION_COLUMNS)


def read_table(path: Path | str) -> pd.DataFrame:
    """An authority's 903 CSV (Header, Episodes) as text, blanks kept as empty strings."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def build_return(
    records: Records,
    year: int,
    *,
    header: pd.DataFrame | None = None,
    episodes: pd.DataFrame | None = None,
    missing_last: pd.DataFrame | None = None,
) -> Return903:
    """The Missing table for collection year ``year`` (ending 31 March ``year``), validated.

    Without ``missing_last``, last year's table is rebuilt from our own records, so rule 576 checks that a
    period open at last year's end is carried into this year.
    """
    period = collection_year(year)
    table, unreturnable = missing_table(records, period)
    if missing_last is None:
        missing_last, _ = missing_table(records, collection_year(year - 1))
    tables = Tables(
        missing=table,
        collection_start=period.start,
        collection_end=period.end,
        header=header,
        episodes=episodes,
        missing_last=missing_last,
    )
    checked = validate(tables)
    validation = pd.concat([df for df in (unreturnable, checked) if not df.empty], ignore_index=True)
    return Return903(year=year, period=period, missing=table, validation=validation)


def to_xml(table: pd.DataFrame) -> bytes:
    """The 903 XML fragment: one ``<Child>`` per child with its ``<AMISSING>`` periods (empty MIS_END while open)."""
    root = ET.Element("Children")
    for child, rows in table.groupby("CHILD", sort=False):
        node = ET.SubElement(root, "Child")
        header = ET.SubElement(node, "HEADER")
        ET.SubElement(header, "CHILDID").text = str(child)
        ET.SubElement(header, "DOB").text = rows["DOB"].iloc[0] or None
        for row in rows.itertuples():
            period = ET.SubElement(node, "AMISSING")
            ET.SubElement(period, "MISSING").text = row.MISSING
            ET.SubElement(period, "MIS_START").text = row.MIS_START
            ET.SubElement(period, "MIS_END").text = row.MIS_END or None
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_return(result: Return903, out_dir: Path) -> ReportOutputs:
    """``missing.csv``, ``missing.xml`` and ``validation.csv`` in ``out_dir``; validation is run before writing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv, xml, validation = out_dir / "missing.csv", out_dir / "missing.xml", out_dir / "validation.csv"
    result.validation.to_csv(validation, index=False)
    result.missing.to_csv(csv, index=False)
    xml.write_bytes(to_xml(result.missing))
    status = result.validation["status"]
    counts = {
        "rows": len(result.missing),
        "children": int(result.missing["CHILD"].nunique()),
        "failures": int((status == "fail").sum()),
        "rules_not_checked": int((status == "not_checked").sum()),
    }
    return ReportOutputs(paths={"csv": csv, "xml": xml, "validation": validation}, counts=counts)


def produce_ssda903(
    database_url: str,
    year: int,
    out_dir: Path,
    *,
    header_path: Path | str | None = None,
    episodes_path: Path | str | None = None,
    as_of: datetime | None = None,
) -> ReportOutputs:
    """Read the store, build and validate the year's table, write it; what the CLI and the flow call."""
    with session_scope(database_url) as session:
        records = load_records(session, as_of or now())
    result = build_return(
        records,
        year,
        header=read_table(header_path) if header_path else None,
        episodes=read_table(episodes_path) if episodes_path else None,
    )
    return write_return(result, out_dir)
