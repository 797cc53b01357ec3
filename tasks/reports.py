"""Tasks that write the reports and returns: one per job of ``missing_episodes.jobs.reports``.

The database URL comes from the settings inside the job (never a parameter), and what a task returns is paths and
counts only, because task results and their logs are Prefect metadata where personal data must not go.
"""

from __future__ import annotations

from datetime import date

from missing_episodes.jobs import reports as jobs
from tasks.privacy import private_task


@private_task(name="board-report", task_run_name="board-report-{date_from}-{date_to}")
def board_report(date_from: date, date_to: date, out_dir: str | None = None) -> dict[str, object]:
    return jobs.board_report(date_from, date_to, out_dir).to_json()


@private_task(name="oversight-report", task_run_name="oversight-report-{day}")
def oversight_report(day: date, out_dir: str | None = None) -> dict[str, object]:
    return jobs.oversight_report(day, out_dir).to_json()


@private_task(name="ssda903-missing", task_run_name="ssda903-missing-{year}")
def ssda903_missing(year: int, out_dir: str | None = None, header: str | None = None,
                    episodes: str | None = None) -> dict[str, object]:
    return jobs.ssda903_missing(year, out_dir, header, episodes).to_json()


@private_task(name="annex-a-list8", task_run_name="annex-a-list8-{day}")
def annex_a(day: date, out_dir: str | None = None) -> dict[str, object]:
    return jobs.annex_a(day, out_dir).to_json()


@private_task(name="ssd-missing")
def ssd_missing(out_dir: str | None = None) -> dict[str, object]:
    return jobs.ssd_missing(out_dir).to_json()
