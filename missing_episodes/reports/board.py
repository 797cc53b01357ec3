"""The Corporate Parenting Board report: figures, national comparators and the trend, as PDF and Excel.

The PDF is an HTML template (``templates/reports/board.html.j2``, editable by the authority, on the documents'
``base.html.j2``: the same marking, page numbers and running header as every PDF) printed by the documents'
``write_pdf``, with the chart embedded as a PNG data URI, so the file stands alone when mailed to board members.
The workbook carries the same tables, one sheet each, for the performance team to re-use. Neither names a
child: the board reads aggregates.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from missing_episodes.clock import as_london, now
from missing_episodes.db.engine import session_scope
from missing_episodes.documents.render import write_pdf
from missing_episodes.reports.chart import trend_png
from missing_episodes.reports.comparators import comparator_table, load_comparators
from missing_episodes.reports.figures import MEASURES, PCT_OF, BoardFigures, board_figures, month_label
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.periods import Period
from missing_episodes.reports.records import load_records
from missing_episodes.reports.rhi_findings import FindingCount, findings_figures, interviews_with_findings
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


def fmt(value: object, percent: bool = False) -> str:
    """Board-paper formatting: whole numbers plain, percentages with one decimal, a dash for nothing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return NOT_AVAILABLE
    if percent:
        return f"{float(value):.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{int(value):,}"


def _context(report: BoardReport, chart: bytes) -> dict[str, object]:
    figures = report.figures
    summary_rows = [
        {
            "label": label,
            "in_care": fmt(figures.summary.at[key, "children_in_care"], key in PCT_OF),
            "all": fmt(figures.summary.at[key, "all_children"], key in PCT_OF),
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
            "per_month_in_care": f"{row.per_month_in_care:.1f}",
            "missing_all": fmt(row.missing_all),
            "per_month_all": f"{row.per_month_all:.1f}",
        }
        for row in figures.yearly.itertuples()
    ]
    comparator_rows = [
        {
            "measure": row.measure,
            "national": fmt(row.national),
            "ours": fmt(row.ours),
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
        "chart": "data:image/png;base64," + base64.b64encode(chart).decode("ascii"),
        "findings": [{"group": f.group, "label": f.label, "interviews": fmt(f.interviews),
                      "children": fmt(f.children)} for f in report.findings],
        "interviews_with_findings": fmt(report.interviews_with_findings),
    }


def render_board_html(report: BoardReport, chart: bytes) -> str:
    return report_environment().get_template("board.html.j2").render(**_context(report, chart))


def _excel_tables(report: BoardReport) -> dict[str, pd.DataFrame]:
    figures = report.figures
    summary = figures.summary.reset_index()
    summary = summary.rename(columns={"children_in_care": "Children in care", "all_children": "All children"})
    return {
        "Summary": summary,
        "By month": figures.monthly.assign(month=figures.monthly["month"].map(month_label)),
        "Average per month": figures.yearly,
        "National comparators": report.comparators,
    }


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
    xlsx = out_dir / f"{stem}.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        for sheet, table in _excel_tables(report).items():
            table.to_excel(writer, sheet_name=sheet, index=False)
    return ReportOutputs(paths={"pdf": pdf, "xlsx": xlsx, "chart": png}, counts=report.figures.counts())


def produce_board_report(
    database_url: str, period: Period, out_dir: Path, as_of: datetime | None = None
) -> ReportOutputs:
    """Read, compute and write: what the flow's task and the CLI both call."""
    return write_board_report(board_report(database_url, period, as_of), out_dir)
