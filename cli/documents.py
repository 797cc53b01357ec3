"""Document commands: the daily briefing, forms, the weekly list.

``briefing``, ``form serious-notification`` and ``weekly-list`` file and mail the document exactly as the
scheduled deployment would: with ``PREFECT_API_URL`` set, as a run of their flow on the desk (``cli.desk``: the
command itself never imports Prefect), else by calling their jobs. ``form rhi-record``,
``form incident-record`` and ``form written-confirmation`` only render a document for a worker to fill in, file
or post; they never send, so they call their jobs (``missing_episodes.jobs.documents``) without the orchestrator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import checks
from cli._app import app
from cli.checks import Mistake
from cli.flows import prefect_server_configured, produce_and_deliver
from cli.values import optional_date, plausible_day, time_value, week_ending
from missing_episodes.clock import last_sunday, today

form_app = typer.Typer(help="Render a form for one episode or child.", no_args_is_help=True)
app.add_typer(form_app, name="form")

OutOption = Annotated[Path | None, typer.Option("--out", help="folder to write into (default: the output store)")]


def _ready(out: Path | None, *, on_desk: bool = False) -> str | None:
    """The checks every document command makes before it renders: the output folder, the database, the policy
    (``on_desk``: the document's flow runs on the desk when a server is configured, and the desk checks it)."""
    if out is not None and out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    checks.migrated_database()
    checks.policy(on_desk=on_desk)
    return str(out.resolve()) if out else None


def _document(what: str, flow: str, job: str, *args: object) -> None:
    """Render, file and mail a document once, and print where it went: with a Prefect server configured, a run
    of its flow (``flows.documents.<flow>``) on the desk (``cli.desk``), so the run is recorded there and answers
    in seconds; else its job (``missing_episodes.jobs.documents.<job>``) and the delivery directly. Both take the
    same arguments, in the order of ``FLOW_PARAMETERS``."""
    if prefect_server_configured():
        from cli.desk import run_on_desk

        name, parameters = FLOW_PARAMETERS[flow]
        values = {key: value.isoformat() if hasattr(value, "isoformat") else value
                  for key, value in zip(parameters, args, strict=True)}
        _report(run_on_desk(what, name, values))
    else:
        from missing_episodes.jobs import documents as jobs

        _report(produce_and_deliver(what, getattr(jobs, job), *args))


#: Each document flow's Prefect name and parameters, in the order ``_document`` is given them (the flows are not
#: imported here: they import Prefect).
FLOW_PARAMETERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "daily_briefing": ("daily-briefing", ("day", "out_dir")),
    "weekly_list": ("weekly-list", ("week_ending", "out_dir")),
    "serious_notification": ("serious-notification", ("episode_ref", "rule_id", "out_dir", "as_of")),
}


#: Where a user finds an episode's ref, said after a wrong one.
EPISODE_REFS = "(episode refs are on the briefing and in `missing-episodes actions`)"


def _render_only(out: Path | None, job: str, where_refs: str, *args: object, **kwargs: object) -> None:
    """Render a document that is only written, never mailed (``missing_episodes.jobs.documents.<job>``, given
    ``args``, ``kwargs`` and the output folder), and print its files; a ref that names nothing is one line saying
    ``where_refs``."""
    folder = _ready(out)
    from missing_episodes.documents import DocumentError
    from missing_episodes.jobs import documents as jobs

    try:
        produced = getattr(jobs, job)(*args, out_dir=folder, **kwargs)
    except DocumentError as exc:
        raise Mistake(f"{exc} {where_refs}") from None
    for path in produced.files:
        typer.echo(path)


def _report(result: dict[str, object]) -> None:
    for path in result["files"]:  # type: ignore[union-attr]
        typer.echo(path)
    typer.echo(f"delivery {result['key']}: {result['delivery']}")


@app.command("briefing")
def briefing_command(
    day: Annotated[str | None, typer.Option("--date", show_default="today", help="briefing day, YYYY-MM-DD")] = None,
    out: OutOption = None,
) -> None:
    """Write briefing-DATE.html and briefing-DATE.pdf (the daily missing briefing) and deliver it once (a Prefect
    flow when PREFECT_API_URL is set, else its jobs directly)."""
    parsed = optional_date(day, "--date")
    if parsed is not None:
        plausible_day(parsed, "--date")
    folder = _ready(out, on_desk=True)
    _document("the briefing", "daily_briefing", "produce_briefing", parsed or today(), folder)


@app.command("weekly-list")
def weekly_list_command(
    week_end: Annotated[str | None, typer.Option("--week-ending", show_default="the last Sunday",
                                                 help="last day of the week (a Sunday), YYYY-MM-DD")] = None,
    out: OutOption = None,
) -> None:
    """Write the weekly list of children who are or were missing that week, and deliver it once."""
    parsed = week_ending(week_end)
    if parsed is not None:
        plausible_day(parsed, "--week-ending")
    folder = _ready(out, on_desk=True)
    _document("the weekly list", "weekly_list", "produce_weekly_list", parsed or last_sunday(), folder)


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
    moment = time_value(as_of, "--as-of") if as_of else None
    folder = _ready(out, on_desk=True)
    # The episode exists and a rule applies: checked before any run, by the desk when the form is made there.
    checks.desk_check("serious-notification", episode.strip(), rule, moment.isoformat() if moment else None,
                      hint=f" {EPISODE_REFS}")
    _document("the serious notification", "serious_notification", "produce_serious_notification", episode.strip(),
              rule, folder, moment)


@form_app.command("rhi-record")
def rhi_record_command(
    episode: Annotated[str, typer.Option("--episode", help="episode ref, EP-…")],
    out: OutOption = None,
) -> None:
    """Write the Return Home Interview record template for the interviewer (HTML, PDF, Word)."""
    _render_only(out, "produce_rhi_record", EPISODE_REFS, episode)


@form_app.command("incident-record")
def incident_record_command(
    episode: Annotated[str, typer.Option("--episode", help="episode ref, EP-…")],
    out: OutOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the moment the record describes, ISO time; London if no offset "
                                                 "(default: now)")
    ] = None,
) -> None:
    """Write the episode's incident record (HTML, PDF): who was informed, contacted and updated, the actions."""
    moment = time_value(as_of, "--as-of") if as_of else None
    _render_only(out, "produce_incident_record", EPISODE_REFS, episode.strip(), as_of=moment)


@form_app.command("written-confirmation")
def written_confirmation_command(
    child: Annotated[str, typer.Option("--child", help="child ref, CH-…")],
    on: Annotated[str | None, typer.Option("--on", show_default="today", help="letter date, YYYY-MM-DD")] = None,
    out: OutOption = None,
) -> None:
    """Write the care leaver's written confirmation letter (HTML, PDF, Word) for the Personal Advisor to send."""
    letter_day = optional_date(on, "--on")
    _render_only(out, "produce_written_confirmation", "(child refs are in `missing-episodes actions`)", child,
                 on=letter_day)
