"""``report`` and ``export`` command groups (registered on the shared app).

``report board`` and ``report oversight`` run their Prefect flows on the desk (``cli.desk``) when a Prefect
server is configured (``PREFECT_API_URL``), so the run is recorded there as a scheduled one would be; without one
they call the job directly, like ``export …``: a report only reads the store and writes files, and running its
flow would start a temporary Prefect server (15-20 s) only to record the run in this machine's local Prefect
database, which no running server shows. Both ways print the same paths and counts.
``export …`` commands only read the store: they call the same jobs as the flows' tasks
(``missing_episodes.jobs.reports``) and never import Prefect.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cli import checks
from cli._app import app
from cli.flows import prefect_server_configured
from cli.values import collection_year, date_value, plausible_day

report_app = typer.Typer(help="Reports for the board and for managers (Prefect flows when PREFECT_API_URL is set).",
                         no_args_is_help=True)
export_app = typer.Typer(help="Statutory returns and data-set exports (read-only, no Prefect).", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")

OutDir = Annotated[Path, typer.Option("--out", help="directory to write into (created if needed)")]


def _day(value: str, option: str) -> date:
    return plausible_day(date_value(value, option), option)


def _ready(out: Path, *, prefect: bool = False) -> Path:
    """The output folder is not a file, the database is there and migrated (and, for a flow, the policy reads: on
    the desk, when the flow runs there)."""
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    checks.migrated_database()
    if prefect:
        checks.policy(on_desk=True)
    return out.resolve()


def _print(result: dict[str, object]) -> None:
    for name, value in dict(result.get("counts", {})).items():  # type: ignore[arg-type]
        typer.echo(f"{name}: {value}")
    for name, path in dict(result.get("paths", {})).items():  # type: ignore[arg-type]
        typer.echo(f"{name}: {path}")


@report_app.command("board")
def report_board(
    date_from: Annotated[str, typer.Option("--from", help="first day of the period (YYYY-MM-DD)")],
    date_to: Annotated[str, typer.Option("--to", help="last day of the period (YYYY-MM-DD)")],
    out: OutDir,
) -> None:
    """Corporate Parenting Board report (PDF and Excel) for a period."""
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    if end < start:
        raise typer.BadParameter(f"{end.isoformat()} is before --from {start.isoformat()}", param_hint="--to")
    folder = _ready(out, prefect=True)
    if prefect_server_configured():
        from cli.desk import run_on_desk

        _print(run_on_desk("the board report", "board-report", {
            "date_from": start.isoformat(), "date_to": end.isoformat(), "out_dir": str(folder)}))
    else:
        from missing_episodes.jobs.reports import board_report

        _print(board_report(start, end, folder).to_json())


@report_app.command("oversight")
def report_oversight(
    day: Annotated[str, typer.Option("--date", help="last day of the two months (YYYY-MM-DD)")],
    out: OutDir,
) -> None:
    """Bi-monthly management-oversight list of children missing 3 or more times in the two months to DATE."""
    last_day = _day(day, "--date")
    folder = _ready(out, prefect=True)
    if prefect_server_configured():
        from cli.desk import run_on_desk

        _print(run_on_desk("the oversight report", "oversight-report", {
            "day": last_day.isoformat(), "out_dir": str(folder)}))
    else:
        from missing_episodes.jobs.reports import oversight_report

        _print(oversight_report(last_day, folder).to_json())


@export_app.command("ssda903")
def export_ssda903(
    year: Annotated[int, typer.Option("--year", help="collection year by its end: 2025 is April 2024 to March 2025")],
    out: OutDir,
    header: Annotated[
        Path | None, typer.Option("--header", exists=True, dir_okay=False, help="the authority's 903 Header CSV")
    ] = None,
    episodes: Annotated[
        Path | None, typer.Option("--episodes", exists=True, dir_okay=False, help="the authority's 903 Episodes CSV")
    ] = None,
) -> None:
    """SSDA903 Missing table (missing.csv, missing.xml) and validation.csv; exit status 1 when a rule fails."""
    collection_year(year)
    folder = _ready(out)
    from missing_episodes.jobs.reports import ssda903_missing

    result = ssda903_missing(year, folder, header, episodes)
    _print(result.to_json())
    if result.counts["failures"]:
        typer.echo(f"{result.counts['failures']} validation failure(s): see {result.paths['validation']}", err=True)
        raise typer.Exit(1)


@export_app.command("annex-a")
def export_annex_a(
    day: Annotated[str, typer.Option("--date", help="the date the 12 months run to (YYYY-MM-DD)")],
    out: OutDir,
) -> None:
    """Ofsted Annex A list 8 missing columns for every looked-after child."""
    last_day = _day(day, "--date")
    folder = _ready(out)
    from missing_episodes.jobs.reports import annex_a

    _print(annex_a(last_day, folder).to_json())


@export_app.command("ssd")
def export_ssd(out: OutDir) -> None:
    """Standard Safeguarding Dataset ssd_missing table (every episode of ours)."""
    folder = _ready(out)
    from missing_episodes.jobs.reports import ssd_missing

    _print(ssd_missing(folder).to_json())
