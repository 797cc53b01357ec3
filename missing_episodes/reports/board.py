"""The Corporate Parenting Board report: figures, national comparators and the trend, as PDF and Excel.

The PDF is an HTML template (``templates/reports/board.html.j2``, editable by the authority, on the documents'
``base.html.j2``: the same marking, page numbers and running header as every PDF) printed by the documents'
``write_pdf``, with the chart embedded as a PNG data URI, so the file stands alone when mailed to board members.
The workbook carries the same tables, one sheet each, for the performance team to re-use (headers in words,
numbers as numbers in the PDF's formats, the trend as an Excel chart, marked like the PDF: see ``spreadsheets``).
Neither names a child: the board reads aggregates. Numbers follow one rule (``fmt``): counts whole, rates and
percentages to one decimal place.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from missing_episodes.clock import as_london, now
from missing_episodes.db.engine import session_scope
from missing_episodes.documents.render import write_pdf
from missing_episodes.reports.chart import trend_png
from missing_episodes.reports.comparators import comparator_table, load_comparators
from missing_episodes.reports.figures import MEASURES, BoardFigures, board_figures, measure_kind, month_label
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.periods import Period
from missing_episodes.reports.records import load_records
from missing_episodes.reports.rhi_findings import FindingCount, findings_figures, interviews_with_findings
from missing_episodes.reports.spreadsheets import Column, Sheet, write_workbook
from missing_episodes.reports.templating import report_environment

NOT_AVAILABLE = "—"


@dataclass(frozen=True)
class BoardReport:
    figures: BoardFigures
    comparators: pd.DataFrame
    as_of: datetime
    # What return home interviews found in the period (``reports.rhi_findings``), and how many recorded findings.
    findings: tuple[FindingCount, ...] = ()
    interviews_with_findings: int = 0


def board_report(database_url: str, period: Period, as_of: datetime | None = None) -> BoardReport:
    """Read the store once (statuses as of ``as_of``, default now) and compute every table."""
    as_of = as_of or now()
    with session_scope(database_url) as session:
        records = load_records(session, as_of)
        findings = tuple(findings_figures(session, period))
        with_findings = interviews_with_findings(session, period)
    figures = board_figures(records, period)
    ours = figures.summary["children_in_care"].to_dict()
    return BoardReport(figures=figures, comparators=comparator_table(load_comparators(), ours), as_of=as_of,
                       findings=findings, interviews_with_findings=with_findings)


def fmt(value: object, kind: str = "count") -> str:
    """Board-paper formatting, one rule everywhere: counts whole with thousands separators, rates (an average
    per child, per month) to one decimal place, percentages to one decimal with a % sign, a dash for nothing.
    So 7.0 episodes per child prints "7.0" beside England's "6.8", never "7"."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return NOT_AVAILABLE
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind == "rate":
        return f"{float(value):.1f}"
    return f"{round(float(value)):,}"


def comparator_kind(unit: str) -> str:
    """A national figure "per child" is a rate; "incidents" a count. Ours is shown the same way beside it."""
    return "rate" if "per" in unit.split() else "count"


def _context(report: BoardReport, chart: bytes) -> dict[str, object]:
    figures = report.figures
    summary_rows = [
        {
            "label": label,
            "in_care": fmt(figures.summary.at[key, "children_in_care"], measure_kind(key)),
            "all": fmt(figures.summary.at[key, "all_children"], measure_kind(key)),
            "section": key.split("_")[0],
        }
        for key, label in MEASURES
    ]
    monthly_rows = [
        {
            "month": month_label(row.month),
            "missing_in_care": fmt(row.missing_in_care),
            "absent_in_care": fmt(row.absent_in_care),
            "missing_all": fmt(row.missing_all),
        }
        for row in figures.monthly.itertuples()
    ]
    yearly_rows = [
        {
            "year": str(row.year),
            "months": fmt(row.months),
            "missing_in_care": fmt(row.missing_in_care),
            "per_month_in_care": fmt(row.per_month_in_care, "rate"),
            "missing_all": fmt(row.missing_all),
            "per_month_all": fmt(row.per_month_all, "rate"),
        }
        for row in figures.yearly.itertuples()
    ]
    comparator_rows = [
        {
            "measure": row.measure,
            "national": fmt(row.national, comparator_kind(row.unit)),
            "ours": fmt(row.ours, comparator_kind(row.unit)),
            "year": row.year,
            "source": row.source,
            "url": row.url,
            "note": row.note,
        }
        for row in report.comparators.itertuples()
    ]
    return {
        "period": figures.period.label(),
        "generated": as_london(report.as_of).strftime("%d %B %Y %H:%M"),
        "summary": summary_rows,
        "monthly": monthly_rows,
        "yearly": yearly_rows,
        "comparators": comparator_rows,
        # Markup: our own base64, printed whole (the documents' finalize cuts long text values).
        "chart": Markup("data:image/png;base64," + base64.b64encode(chart).decode("ascii")),
        "findings": [{"group": f.group, "label": f.label, "interviews": fmt(f.interviews),
                      "children": fmt(f.children)} for f in report.findings],
        "interviews_with_findings": fmt(report.interviews_with_findings),
    }


def render_board_html(report: BoardReport, chart: bytes) -> str:
    return report_environment().get_template("board.html.j2").render(**_context(report, chart))


MONTHLY_COLUMNS = [
    Column("month", "Month"),
    Column("missing_in_care", "Missing episodes (children in care)", "count"),
    Column("absent_in_care", "Absent episodes (children in care)", "count"),
    Column("missing_all", "Missing episodes (all children)", "count"),
]


def _trend_chart(ws: object, first: int, last: int) -> None:
    """The month-by-month chart of the PDF, as an Excel chart of the sheet's own cells: missing episodes of
    children in care as bars, absent (in care) and missing (all children) as lines on the same axis."""
    from openpyxl.chart import BarChart, LineChart, Reference

    months = Reference(ws, min_col=1, min_row=first, max_row=last)
    bars = BarChart()
    bars.title = "Missing and absent episodes by month"
    bars.y_axis.title = "Episodes"
    bars.add_data(Reference(ws, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    bars.set_categories(months)
    lines = LineChart()
    lines.add_data(Reference(ws, min_col=3, max_col=4, min_row=first - 1, max_row=last), titles_from_data=True)
    lines.set_categories(months)
    bars += lines
    bars.height, bars.width = 9, 22
    ws.add_chart(bars, f"F{first - 1}")  # type: ignore[attr-defined]


def board_sheets(report: BoardReport) -> list[Sheet]:
    """The workbook's sheets: the PDF's tables with words for headers and numbers kept as numbers."""
    figures = report.figures
    period = figures.period.label()
    summary = figures.summary.reset_index()
    comparators = report.comparators
    return [
        Sheet(
            "Summary",
            f"Missing children: summary, {period}",
            summary,
            [
                Column("label", "Measure"),
                Column("children_in_care", "Children in care", "count"),
                Column("all_children", "All children", "count"),
                Column("measure", "Code"),
            ],
            row_kinds=[measure_kind(key) for key in summary["measure"]],  # type: ignore[misc]
        ),
        Sheet(
            "By month",
            f"Missing and absent episodes by month, {period}",
            figures.monthly.assign(month=figures.monthly["month"].map(month_label)),
            MONTHLY_COLUMNS,
            chart=_trend_chart,
        ),
        Sheet(
            "Average per month",
            f"Average missing episodes per month, by calendar year, {period}",
            figures.yearly,
            [
                Column("year", "Year"),
                Column("months", "Months in period", "count"),
                Column("missing_in_care", "Missing episodes (children in care)", "count"),
                Column("per_month_in_care", "Per month (children in care)", "rate"),
                Column("missing_all", "Missing episodes (all children)", "count"),
                Column("per_month_all", "Per month (all children)", "rate"),
            ],
        ),
        Sheet(
            "National comparators",
            "National comparators (England) beside ours (children in care)",
            comparators,
            [
                Column("measure", "Measure"),
                Column("national", "England", "count"),
                Column("ours", "Ours (children in care)", "count"),
                Column("unit", "Unit"),
                Column("year", "Year"),
                Column("source", "Source"),
                Column("url", "Link"),
                Column("note", "Note"),
            ],
            row_kinds=[comparator_kind(unit) for unit in comparators["unit"]],  # type: ignore[misc]
        ),
    ]


def write_board_report(report: BoardReport, out_dir: Path) -> ReportOutputs:
    """Write ``board-<start>-<end>.pdf`` / ``.xlsx`` and the chart PNG into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    period = report.figures.period
    stem = f"board-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    chart = trend_png(report.figures.monthly)
    png = out_dir / f"{stem}-trend.png"
    png.write_bytes(chart)
    pdf = out_dir / f"{stem}.pdf"
    write_pdf(render_board_html(report, chart), pdf)
    xlsx = write_workbook(
        out_dir / f"{stem}.xlsx",
        board_sheets(report),
        title=f"Missing children: report to the Corporate Parenting Board, {period.label()}",
    )
    return ReportOutputs(paths={"pdf": pdf, "xlsx": xlsx, "chart": png}, counts=report.figures.counts())


def produce_board_report(
    database_url: str, period: Period, out_dir: Path, as_of: datetime | None = None
) -> ReportOutputs:
    """Read, compute and write: what the flow's task and the CLI both call."""
    return write_board_report(board_report(database_url, period, as_of), out_dir)
