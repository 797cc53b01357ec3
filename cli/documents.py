"""Document commands: the daily briefing, forms, the weekly list.

``briefing``, ``form serious-notification`` and ``weekly-list`` run their Prefect flow (imported inside the
command, so the rest of the CLI never loads Prefect) and therefore file and mail the document exactly as the
scheduled deployment would. ``form rhi-record`` and ``form written-confirmation`` only render a document for a
worker to fill in or post; they never send, so they call their jobs (``missing_episodes.jobs.documents``) without
the orchestrator.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli._app import app

form_app = typer.Typer(help="Render a form for one episode or child.", no_args_is_help=True)
app.add_typer(form_app, name="form")

OutOption = Annotated[Path | None, typer.Option("--out", help="folder to write into (default: the output store)")]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    from missing_episodes.clock import TimeParseError, parse_time

    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise typer.BadParameter(f"{exc} (give YYYY-MM-DDTHH:MM, London time unless it has an offset)",
                                 param_hint=option) from None


def _report(result: dict[str, object]) -> None:
    for path in result["files"]:  # type: ignore[union-attr]
        typer.echo(path)
    typer.echo(f"delivery {result['key']}: {result['delivery']}")


@app.command("briefing")
def briefing_command(
    day: Annotated[str | None, typer.Option("--date", help="briefing day, YYYY-MM-DD (default today)")] = None,
    out: OutOption = None,
) -> None:
    """Write briefing-DATE.html and briefing-DATE.pdf (the daily missing briefing) and deliver it once."""
    parsed = _date(day, "--date")
    from flows.documents import daily_briefing

    _report(asyncio.run(daily_briefing(day=parsed, out_dir=str(out.resolve()) if out else None)))


@app.command("weekly-list")
def weekly_list_command(
    week_ending: Annotated[str | None, typer.Option("--week-ending", help="last day of the week, YYYY-MM-DD")] = None,
    out: OutOption = None,
) -> None:
    """Write the weekly list of children who are or were missing that week, and deliver it once."""
    parsed = _date(week_ending, "--week-ending")
    from flows.documents import weekly_list

    _report(asyncio.run(weekly_list(week_ending=parsed, out_dir=str(out.resolve()) if out else None)))


@form_app.command("serious-notification")
def serious_notification_command(
    episode: Annotated[str, typer.Option("--episode", help="episode ref, EP-…")],
    rule: Annotated[str | None, typer.Option("--rule", help="policy rule id (default: the one raised)")] = None,
    out: OutOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the moment the form describes, ISO time; London if no offset "
                                                 "(default: now)")
    ] = None,
) -> None:
    """Write the serious notification form (HTML, PDF, Word) and send it to the rule's recipients once."""
    moment = _time(as_of, "--as-of")
    from flows.documents import serious_notification

    _report(
        asyncio.run(
            serious_notification(
                episode_ref=episode, rule_id=rule, out_dir=str(out.resolve()) if out else None, as_of=moment
            )
        )
    )


@form_app.command("rhi-record")
def rhi_record_command(
    episode: Annotated[str, typer.Option("--episode", help="episode ref, EP-…")],
    out: OutOption = None,
) -> None:
    """Write the Return Home Interview record template for the interviewer (HTML, PDF, Word)."""
    from missing_episodes.documents import DocumentError
    from missing_episodes.jobs.documents import produce_rhi_record

    try:
        produced = produce_rhi_record(episode, out)
    except DocumentError as exc:
        raise typer.BadParameter(str(exc), param_hint="--episode") from None
    for path in produced.files:
        typer.echo(path)


@form_app.command("written-confirmation")
def written_confirmation_command(
    child: Annotated[str, typer.Option("--child", help="child ref, CH-…")],
    on: Annotated[str | None, typer.Option("--on", help="letter date, YYYY-MM-DD (default today)")] = None,
    out: OutOption = None,
) -> None:
    """Write the care leaver's written confirmation letter (HTML, PDF, Word) for the Personal Advisor to send."""
    from missing_episodes.documents import DocumentError
    from missing_episodes.jobs.documents import produce_written_confirmation

    try:
        produced = produce_written_confirmation(child, _date(on, "--on"), out)
    except DocumentError as exc:
        raise typer.BadParameter(str(exc), param_hint="--child") from None
    for path in produced.files:
        typer.echo(path)
