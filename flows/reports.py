"""A flow per report: run the task, publish an artifact with counts and paths (never a child's details).

Scheduled deployments (the board paper every six months, the oversight list every two) and the CLI's
``report`` commands run these same flows.
"""

from __future__ import annotations

from datetime import date

from prefect.artifacts import create_markdown_artifact

from missing_episodes.clock import as_london, now
from missing_episodes.reports.periods import last_month_end
from tasks import reports as report_tasks
from tasks.privacy import private_flow


def _publish(key: str, title: str, result: dict[str, object]) -> dict[str, object]:
    """A markdown artifact listing counts and file paths only."""
    counts = result.get("counts", {})
    paths = result.get("paths", {})
    lines = [f"## {title}", "", "| count | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in dict(counts).items()]
    lines += ["", "| file | path |", "| --- | --- |"]
    lines += [f"| {name} | `{path}` |" for name, path in dict(paths).items()]
    create_markdown_artifact(key=key, markdown="\n".join(lines), description=title)
    return result


@private_flow(name="board-report", flow_run_name="board-report-{date_from}-{date_to}")
def board_report_flow(date_from: date, date_to: date, out_dir: str | None = None) -> dict[str, object]:
    result = report_tasks.board_report(date_from, date_to, out_dir)
    return _publish("board-report", f"Corporate Parenting Board report {date_from} to {date_to}", result)


@private_flow(name="oversight-report", flow_run_name="oversight-report-{day}")
def oversight_report_flow(day: date, out_dir: str | None = None) -> dict[str, object]:
    result = report_tasks.oversight_report(day, out_dir)
    return _publish("oversight-report", f"Management oversight of repeat-missing children to {day}", result)


@private_flow(name="bimonthly-oversight-report")
def bimonthly_oversight_report() -> dict[str, object]:
    """The oversight list for the two calendar months to the end of last month (Wolverhampton 4.3: "a bimonthly
    report to evidence management oversight is on file for all repeated missing young people"). A schedule
    cannot compute dates, so this flow does."""
    return oversight_report_flow(last_month_end(as_london(now()).date()))


@private_flow(name="ssda903-missing", flow_run_name="ssda903-missing-{year}")
def ssda903_flow(
    year: int, out_dir: str | None = None, header: str | None = None, episodes: str | None = None
) -> dict[str, object]:
    result = report_tasks.ssda903_missing(year, out_dir, header, episodes)
    return _publish("ssda903-missing", f"SSDA903 Missing table, year ending 31 March {year}", result)


@private_flow(name="annex-a-list8", flow_run_name="annex-a-list8-{day}")
def annex_a_flow(day: date, out_dir: str | None = None) -> dict[str, object]:
    result = report_tasks.annex_a(day, out_dir)
    return _publish("annex-a-list8", f"Ofsted Annex A list 8 missing columns at {day}", result)


@private_flow(name="ssd-missing")
def ssd_flow(out_dir: str | None = None) -> dict[str, object]:
    result = report_tasks.ssd_missing(out_dir)
    return _publish("ssd-missing", "Standard Safeguarding Dataset ssd_missing", result)
