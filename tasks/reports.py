"""Thin Prefect tasks over ``missing_episodes.reports``: each reads the store, writes files, returns paths and counts.

The database URL comes from the settings inside the task (never a parameter), and what a task returns is paths
and counts only, because task results and their logs are Prefect metadata where personal data must not go.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task

from missing_episodes.config import get_settings
from missing_episodes.reports.annex_a import produce_annex_a
from missing_episodes.reports.board import produce_board_report
from missing_episodes.reports.oversight import produce_oversight_report
from missing_episodes.reports.periods import Period
from missing_episodes.reports.ssd import produce_ssd
from missing_episodes.reports.ssda903 import produce_ssda903


@task(name="board-report", task_run_name="board-report-{date_from}-{date_to}")
def board_report(date_from: date, date_to: date, out_dir: Path) -> dict[str, object]:
    return produce_board_report(get_settings().database_url, Period(date_from, date_to), out_dir).to_json()


@task(name="oversight-report", task_run_name="oversight-report-{day}")
def oversight_report(day: date, out_dir: Path) -> dict[str, object]:
    return produce_oversight_report(get_settings().database_url, day, out_dir).to_json()


@task(name="ssda903-missing", task_run_name="ssda903-missing-{year}")
def ssda903_missing(year: int, out_dir: Path, header: Path | None, episodes: Path | None) -> dict[str, object]:
    return produce_ssda903(
        get_settings().database_url, year, out_dir, header_path=header, episodes_path=episodes
    ).to_json()


@task(name="annex-a-list8", task_run_name="annex-a-list8-{day}")
def annex_a(day: date, out_dir: Path) -> dict[str, object]:
    return produce_annex_a(get_settings().database_url, day, out_dir).to_json()


@task(name="ssd-missing")
def ssd_missing(out_dir: Path) -> dict[str, object]:
    return produce_ssd(get_settings().database_url, out_dir).to_json()
