"""Core commands: database, ingest, the worklist, recomputation, the synthetic feed and the main job."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli._app import app
from missing_episodes.clock import as_london, now, parse_time
from missing_episodes.config import DATA_DIR, get_settings

console = Console()
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to MISSING_EPISODES_DATABASE_URL (a SQLite file here by default)."""
    from missing_episodes.db.engine import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    console.print(f"database at {_redacted(settings.database_url)} is up to date")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def ingest(
    kind: Annotated[str, typer.Option(help="children, notifications or outcomes")],
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="CSV, JSON or JSON Lines files")],
    source: Annotated[str | None, typer.Option(help="source name (default per feed: register, police, …)")] = None,
    rules: Annotated[bool, typer.Option(help="run the rules for changed children afterwards")] = True,
) -> None:
    """Run the ingest flow on files and print one summary line."""
    if kind not in ("children", "notifications", "outcomes"):
        raise typer.BadParameter("kind must be children, notifications or outcomes", param_hint="--kind")
    from flows.ingest import ingest_files

    result = asyncio.run(ingest_files(kind, [p.resolve() for p in paths], source, rules))  # type: ignore[arg-type]
    _print_ingest(kind, result)


@app.command("ingest-sources")
def ingest_sources_command(
    sources: Annotated[Path | None, typer.Option(help="sources file (default MISSING_EPISODES_SOURCES)")] = None,
    rules: Annotated[bool, typer.Option(help="run the rules for changed children afterwards")] = True,
) -> None:
    """Read every configured feed now (what the five-minute schedule runs): drop folders and HTTP endpoints.

    A file that cannot be used is moved to its source's failed folder and named here; the rest carry on.
    """
    from flows.ingest import ingest_sources

    result = asyncio.run(ingest_sources(sources.resolve() if sources else None, rules))
    _print_ingest("all feeds", result)


def _print_ingest(kind: str, result: dict) -> None:
    """One line per file when there are several, a warning per refused or empty file, then the total.

    Exit status 1 when a file was refused as a whole (every other file was still ingested): files named on the
    command line or dropped in a folder were meant to be read, and a person must look at the one that was not.
    """
    files = result.get("files", [])
    if len(files) > 1:
        for item in files:
            typer.echo(f"  {item['origin'] or item['source']}: {_counts_line(item)}")
    totals = result["ingest"]
    typer.echo(f"{kind}: {_counts_line(totals)}")
    _print_problems(totals)
    if totals["refused"]:
        raise typer.Exit(1)


def _counts_line(totals: dict) -> str:
    return (
        f"read {totals['read']}, new {totals['new']}, duplicate {totals['duplicate']}, "
        f"quarantined {totals['quarantined']}"
    )


def _print_problems(totals: dict) -> None:
    """Refused and empty files, on standard error: file names and reasons only."""
    for line in totals.get("problems", []):
        typer.echo(f"warning: {line}", err=True)
    if totals.get("refused"):
        typer.echo(
            f"warning: {totals['refused']} file(s) refused as a whole (a drop folder moves them to its failed "
            "folder); every other file was ingested",
            err=True,
        )


def _as_of(value: str | None) -> datetime:
    return parse_time(value) if value else now()


@app.command()
def actions(
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO time; local London time if no offset")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="only open and overdue actions")] = False,
    kind: Annotated[list[str] | None, typer.Option(help="only these action kinds")] = None,
) -> None:
    """The worklist as of a time (read-only: no Prefect). Rows are streamed: a region's is a million long."""
    from missing_episodes.db.engine import session_scope
    from missing_episodes.worklist import json_chunks, london, worklist_items

    moment = _as_of(as_of)
    with session_scope(get_settings().database_url) as session:
        items = worklist_items(session, moment, kinds=tuple(kind) if kind else None, include_closed=not open_only)
        if as_json:
            for chunk in json_chunks(items):
                typer.echo(chunk, nl=False)
            typer.echo()
            return
        table = Table(title=f"Worklist as of {as_london(moment):%a %d %b %Y %H:%M}", show_lines=False)
        for column in ("child", "incident", "action", "rule", "due (London)", "status", "who"):
            table.add_column(column)
        for item in items:
            table.add_row(item.child_id or item.child_ref, item.incident_ref or "-", item.action, item.rule,
                          f"{london(item.due_at):%d/%m %H:%M}", item.status, item.assigned_to or item.actor or "")
    console.print(table)
    console.print(f"{table.row_count} actions")


@app.command()
def recompute(
    reason: Annotated[str, typer.Option(help="why: recorded in the audit trail")],
    everyone: Annotated[bool, typer.Option("--all", help="every child (after a policy change)")] = False,
) -> None:
    """Recompute the actions under the current policy: explicit and audited (the bulk path for --all)."""
    from flows.recompute import recompute_actions

    result = asyncio.run(recompute_actions(everyone=everyone, reason=reason))
    typer.echo(f"recomputed for {result['flagged']} children: {result['rules']}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write the feed files into")] = DATA_DIR / "sample",
    episodes: Annotated[int | None, typer.Option(help="region scale: this many episodes")] = None,
    seed: Annotated[int, typer.Option()] = 2026,
) -> None:
    """Write the synthetic feed: the bundled sample, or a region-scale one for benchmarks."""
    from missing_episodes import synthetic

    manifest = (
        synthetic.generate_region(out, episodes, seed) if episodes else synthetic.generate_sample(out, seed)
    )
    typer.echo(json.dumps(manifest, indent=2, default=str))


@app.command()
def run(
    day: Annotated[str | None, typer.Option("--date", help="briefing date (default: the sample's as-of date)")] = None,
    sample: Annotated[bool, typer.Option(help="ingest the bundled feed (else the configured sources)")] = True,
    out: Annotated[Path | None, typer.Option(help="where documents go (default MISSING_EPISODES_OUTPUT_DIR)")] = None,
) -> None:
    """The main job end to end: ingest, run every rule, write the daily briefing.

    Exits 0 when a feed file was refused (moved to its failed folder, named on standard error and in the audit
    trail): every other file was ingested and the briefing written, and a failed status would read as "no
    briefing this morning" to whoever watches the job.
    """
    import os

    if out is not None:
        os.environ["MISSING_EPISODES_OUTPUT_DIR"] = str(out.resolve())
    from flows.daily import daily_run

    briefing_day = date.fromisoformat(day) if day else None
    result = asyncio.run(daily_run(briefing_day, sample))
    ingested = result["ingest"]
    for kind, totals in (ingested.items() if sample else [("all feeds", ingested)]):
        typer.echo(f"ingest {kind}: {_counts_line(totals)}")
        _print_problems(totals)
    rules = result["rules"]
    typer.echo(
        f"rules: {rules.get('children', 0)} children checked, {rules.get('created', 0)} actions created, "
        f"{rules.get('updated', 0)} updated, {rules.get('allocated', 0)} interviews allocated "
        f"({rules.get('subflows', 0)} per-child subflows, {rules.get('batches', 0)} bulk batches)"
    )
    briefing = result["briefing"]
    counts = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in briefing["counts"].items())
    typer.echo(f"briefing {result['day']}: {counts}")
    for path in briefing["files"]:
        typer.echo(f"  {path}")


@app.command()
def quarantine(limit: Annotated[int, typer.Option(help="rows to show")] = 50) -> None:
    """Rows kept back for a person to fix: source, row, field and reason (read-only)."""
    from sqlalchemy import select

    from missing_episodes.db.engine import session_scope
    from missing_episodes.db.models import Quarantine

    with session_scope(get_settings().database_url) as session:
        rows = session.scalars(select(Quarantine).order_by(Quarantine.id).limit(limit)).all()
        table = Table(title="Quarantined input")
        for column in ("source", "where", "field", "reason"):
            table.add_column(column)
        for row in rows:
            where = f"{row.origin} row {row.row_number}" if row.row_number is not None else row.origin or ""
            table.add_row(row.source, where, row.field or "-", row.reason)
    console.print(table)
