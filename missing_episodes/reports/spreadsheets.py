"""Every CSV and Excel file the product writes goes through here: formula cells neutralised, Excel files marked.

**Formula injection** (issue 16.17; OWASP, "CSV Injection"). A feed's ``child_id`` of ``=HYPERLINK("http://…",
"Click")`` written raw into ``ssd_missing.csv`` becomes a live formula when an analyst opens the file in Excel or
LibreOffice: a link that sends the sheet's data away, or worse. ``neutralise`` prefixes every *text* cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (and their full-width forms, which
some spreadsheet programs read the same way) with a single quote, so it is shown as the text it is. Numbers are
left alone: a genuinely negative count is a number, not a formula. ``write_csv`` and ``write_workbook`` apply it to
every cell, so no writer can forget it; a test feeds ``=HYPERLINK(...)`` through every export.

**Excel files** carry the protective marking three ways, because a workbook is printed, forwarded and copied
into other workbooks: the first row of every sheet says OFFICIAL-SENSITIVE, every printed page has it in its
header and footer, and the file's properties carry it as its classification. Headers are words a reader uses,
columns are sized to their content, numbers keep one format per kind (whole counts, rates to one decimal,
percentages to one decimal), and the head of each table stays in view as it scrolls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from missing_episodes.formula_cells import FORMULA_TRIGGERS, neutralise

MARKING = "OFFICIAL-SENSITIVE"

Kind = Literal["text", "count", "rate", "percent", "date"]
EXCEL_FORMATS: dict[str, str] = {
    "count": "#,##0",
    "rate": "0.0",
    "percent": '0.0"%"',  # the figures are already percentages (61.9), not fractions
    "date": "dd mmm yyyy",
}
MARKING_ROW, TITLE_ROW, HEADER_ROW = 1, 2, 3
MIN_WIDTH, MAX_WIDTH = 8, 60


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised; numeric, boolean and datetime columns untouched."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if (
            pd.api.types.is_numeric_dtype(column)
            or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_datetime64_any_dtype(column)
        ):
            continue
        if column.map(lambda value: isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)).any():
            out[name] = column.map(neutralise)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV (no index), every text cell neutralised. The one CSV writer of the exports."""
    neutralise_frame(frame).to_csv(path, index=False)
    return path


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the frame's column, the header a reader sees, and how its numbers are shown."""

    key: str
    header: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Sheet:
    """One sheet: a title under the marking, then a table.

    ``row_kinds`` gives each row's number kind where the kind varies by row (the board summary mixes counts and
    percentages); it applies to the columns of kind ``count``. ``chart`` may add a chart after the table is
    written; it is given the worksheet and the table's first and last data rows.
    """

    name: str
    title: str
    frame: pd.DataFrame
    columns: list[Column]
    row_kinds: Sequence[Kind] | None = None
    chart: Callable[[object, int, int], None] | None = field(default=None, compare=False)


def _cell_value(value: object) -> object:
    """A frame's value as an openpyxl cell value: blanks as None, numpy and pandas scalars as Python ones, text
    without the control characters an .xlsx cannot hold (openpyxl refuses them) and neutralised."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, date, datetime)):
        return value.item()  # numpy scalar -> Python
    return value


def _shown_length(value: object, kind: Kind) -> int:
    """About how many characters Excel shows for the value, for the column width."""
    if value is None:
        return 0
    if isinstance(value, (int, float)) and kind in ("count", "rate", "percent"):
        return len(f"{value:,.1f}") + (1 if kind == "percent" else 0)
    if isinstance(value, (date, datetime)):
        return 11
    return max((len(line) for line in str(value).splitlines()), default=0)


def _write_sheet(workbook: object, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = workbook.create_sheet(sheet.name[:31])  # type: ignore[attr-defined]
    ws.cell(MARKING_ROW, 1, MARKING).font = Font(bold=True, color="8A1C1C")
    ws.cell(TITLE_ROW, 1, neutralise(sheet.title)).font = Font(bold=True, size=12)
    header_fill = PatternFill("solid", fgColor="E8EEF5")
    widths: list[int] = []
    for number, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(HEADER_ROW, number, column.header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths.append(max(len(word) for word in column.header.split()) + 2)
    frame = sheet.frame.reset_index(drop=True)
    for index, row in enumerate(frame.itertuples(index=False)):
        values = dict(zip(frame.columns, row, strict=True))
        row_kind = sheet.row_kinds[index] if sheet.row_kinds is not None else None
        for number, column in enumerate(sheet.columns, start=1):
            kind: Kind = row_kind if row_kind is not None and column.kind == "count" else column.kind
            value = _cell_value(values[column.key])
            cell = ws.cell(HEADER_ROW + 1 + index, number, value)
            if kind in EXCEL_FORMATS and value is not None and not isinstance(value, str):
                cell.number_format = EXCEL_FORMATS[kind]
            if isinstance(value, str) and len(value) > MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[number - 1] = max(widths[number - 1], _shown_length(value, kind) + 2)
    for number, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(number)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    last_row = HEADER_ROW + len(frame)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    if len(frame):
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(sheet.columns))}{last_row}"
    ws.print_title_rows = f"{MARKING_ROW}:{HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.right.text = MARKING
    ws.oddHeader.right.font = "Arial,Bold"
    ws.oddHeader.right.color = "8A1C1C"
    ws.oddFooter.left.text = MARKING
    ws.oddFooter.left.font = "Arial,Bold"
    ws.oddFooter.left.color = "8A1C1C"
    ws.oddFooter.right.text = "Page &P of &N"
    if sheet.chart is not None and len(frame):
        sheet.chart(ws, HEADER_ROW + 1, last_row)


def write_workbook(path: Path, sheets: Sequence[Sheet], *, title: str) -> Path:
    """Write ``sheets`` to an .xlsx at ``path``: marked, sized, formatted, every text cell neutralised."""
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    workbook.properties.title = str(neutralise(title))
    workbook.properties.category = MARKING
    workbook.properties.keywords = MARKING
    workbook.custom_doc_props.append(StringProperty(name="Classification", value=MARKING))
    workbook.save(path)
    return path
