"""Report jobs: read the store, write the files, return paths and counts; each called by one task in
``tasks/reports.py`` (the CLI's ``export`` commands call the same jobs without Prefect).

``out_dir`` defaults to ``<output dir>/reports/<report>``. A ``ReportOutputs`` holds paths and counts only (no
names, no person ids), which is all that may reach Prefect.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from missing_episodes.jobs.context import Context
from missing_episodes.reports.annex_a import produce_annex_a
from missing_episodes.reports.board import produce_board_report
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.oversight import produce_oversight_report
from missing_episodes.reports.periods import Period
from missing_episodes.reports.ssd import produce_ssd
from missing_episodes.reports.ssda903 import produce_ssda903

OutDir = Path | str | None


def _out(context: Context, report: str, out_dir: OutDir) -> Path:
    return Path(out_dir) if out_dir else context.output_dir("reports") / report


def board_report(date_from: date, date_to: date, out_dir: OutDir = None,
                 context: Context | None = None) -> ReportOutputs:
    """The Corporate Parenting Board report (PDF, Excel, chart) for the days ``date_from`` to ``date_to``."""
    context = context or Context.load()
    return produce_board_report(context.settings.database_url, Period(date_from, date_to),
                                _out(context, "board", out_dir))


def oversight_report(day: date, out_dir: OutDir = None, context: Context | None = None) -> ReportOutputs:
    """The bi-monthly list of children missing three or more times in the two months to ``day``."""
    context = context or Context.load()
    return produce_oversight_report(context.settings.database_url, day, _out(context, "oversight", out_dir))


def ssda903_missing(year: int, out_dir: OutDir = None, header: Path | str | None = None,
                    episodes: Path | str | None = None, context: Context | None = None) -> ReportOutputs:
    """The SSDA903 Missing table for the year ending 31 March ``year``, validated (against the authority's 903
    Header and Episodes files when given)."""
    context = context or Context.load()
    return produce_ssda903(context.settings.database_url, year, _out(context, f"ssda903-{year}", out_dir),
                           header_path=header, episodes_path=episodes)


def annex_a(day: date, out_dir: OutDir = None, context: Context | None = None) -> ReportOutputs:
    """Ofsted Annex A list 8's missing columns for every looked-after child, for the 12 months to ``day``."""
    context = context or Context.load()
    return produce_annex_a(context.settings.database_url, day, _out(context, "annex-a", out_dir))


def ssd_missing(out_dir: OutDir = None, context: Context | None = None) -> ReportOutputs:
    """The Standard Safeguarding Dataset's ``ssd_missing`` table (every episode of ours)."""
    context = context or Context.load()
    return produce_ssd(context.settings.database_url, _out(context, "ssd", out_dir))
