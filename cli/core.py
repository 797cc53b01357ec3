"""Core commands: the database, ingest, recomputation, the synthetic feed and the main job.

Each checks what the user gave it (values, the database, the policy file) before it imports Prefect, so a
mistake is one line and exit 2 within a second (``cli.checks``); the flow then runs through ``cli.flows.run_flow``,
which turns a failure inside it into one line naming the cause and a log file.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli import checks
from cli._app import app
from cli.checks import Mistake
from cli.flows import prefect_server_configured, run_flow
from cli.progress import Progress
from cli.values import date_value, plausible_day
from missing_episodes.config import DATA_DIR

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class FeedKind(StrEnum):
    children = "children"
    notifications = "notifications"
    outcomes = "outcomes"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database (MISSING_EPISODES_DATABASE_URL; default var/missing_episodes.db)."""
    target = checks.writable_database()
    from missing_episodes.db.engine import upgrade

    run_flow("the database upgrade", upgrade, target.url)
    typer.echo(f"database at {target.shown} is up to date")


@app.command()
def ingest(
    kind: Annotated[FeedKind, typer.Option(help="which feed the files belong to")],
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True,
                                                help="CSV, JSON or JSON Lines files")],
    source: Annotated[str | None, typer.Option(help="source name (default per feed: register, police, …)")] = None,
    rules: Annotated[bool, typer.Option(help="run the rules for changed children afterwards")] = True,
) -> None:
    """Run the ingest flow on files and print one summary line."""
    if source is not None and not source.strip():
        raise typer.BadParameter("is empty; give a source name or leave the option out", param_hint="--source")
    checks.writable_database()
    checks.policy(on_desk=True)
    files = [p.resolve() for p in paths]
    what = f"the {kind.value} ingest"
    if prefect_server_configured():  # on the desk (``cli.desk``): this process never imports Prefect
        from cli.desk import run_on_desk

        with Progress.files(f"ingest {kind.value}", files):
            result = run_on_desk(what, "ingest-files", {"kind": kind.value, "paths": [str(f) for f in files],
                                                        "source": source, "run_rules": rules})
    else:
        from flows.ingest import ingest_files

        with Progress.files(f"ingest {kind.value}", files):
            result = run_flow(what, ingest_files, kind.value, files, source, rules)
    _print_ingest(kind.value, result)


@app.command("ingest-sources")
def ingest_sources_command(
    sources: Annotated[Path | None, typer.Option(help="sources file (default MISSING_EPISODES_SOURCES)")] = None,
    rules: Annotated[bool, typer.Option(help="run the rules for changed children afterwards")] = True,
) -> None:
    """Read every configured feed now (what the five-minute schedule runs): drop folders and HTTP endpoints.

    A file that cannot be used is moved to its source's failed folder and named here; the rest carry on.
    """
    if sources is not None and not sources.is_file():
        raise typer.BadParameter(f"{sources} is not a file", param_hint="--sources")
    checks.writable_database()
    checks.policy()
    from flows.ingest import ingest_sources

    with Progress.activity("ingest every feed"):
        result = run_flow("the feeds' ingest", ingest_sources, sources.resolve() if sources else None, rules)
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


@app.command("load-region")
def load_region_command(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, readable=True,
                                           help="folder holding children.csv, notifications.csv and outcomes.csv")],
) -> None:
    """The first load of a region: the register, notifications and outcomes, then every action in bulk.

    Ingests the three files in that order without the rules after each, then runs the rules once for every
    child in batches (the bulk path), and notifies nobody (the next notify run does). Safe to run again.
    """
    from missing_episodes.feedfiles import region_files

    try:
        region_files(folder)  # a missing file is named before the database, the policy or Prefect is touched
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="FOLDER") from None
    checks.writable_database()
    checks.policy()
    from flows.first_load import load_region

    with Progress.activity("load the region"):
        result = run_flow("the region's first load", load_region, folder.resolve())
    for kind, totals in result["ingest"].items():
        typer.echo(f"{kind}: {_counts_line(totals)}")
        _print_problems(totals)
    rules = result["rules"]
    typer.echo(f"rules: {rules['children']} children, {rules['created']} actions created, "
               f"{rules['allocated']} interviews allocated, {rules['batches']} batches")
    if deferred := result["indexes"]["deferred"]:
        typer.echo(f"indexes: {len(deferred)} built once at the end (a first load defers those it does not read)")
    if any(totals["refused"] for totals in result["ingest"].values()):
        raise typer.Exit(1)


@app.command()
def recompute(
    reason: Annotated[str, typer.Option(help="why: recorded in the audit trail")],
    everyone: Annotated[bool, typer.Option("--all", help="every child (after a policy change)")] = False,
) -> None:
    """Recompute the actions under the current policy: explicit and audited (the bulk path for --all)."""
    if not reason.strip():
        raise typer.BadParameter("is empty; say why (it goes in the audit trail)", param_hint="--reason")
    checks.migrated_database()
    checks.policy()
    from flows.recompute import recompute_actions

    with Progress.activity("recompute"):
        result = run_flow("the recomputation", recompute_actions, everyone=everyone, reason=reason)
    typer.echo(f"recomputed for {result['flagged']} children: {result['rules']}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write the feed files into")] = DATA_DIR / "sample",
    episodes: Annotated[int | None, typer.Option(min=1, help="region scale: this many episodes")] = None,
    seed: Annotated[int, typer.Option(min=0)] = 2026,
    force: Annotated[bool, typer.Option("--force", help="overwrite feed files already in --out")] = False,
) -> None:
    """Write the synthetic feed: the bundled sample, or a region-scale one for benchmarks."""
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise Mistake(f"{out} already holds files (the bundled sample, perhaps): give another --out, or --force "
                      "to overwrite them")
    from missing_episodes import synthetic

    with Progress.activity("generate", out):
        manifest = (
            synthetic.generate_region(out, episodes, seed) if episodes else synthetic.generate_sample(out, seed)
        )
    typer.echo(json.dumps(manifest, indent=2, default=str))


@app.command()
def run(
    day: Annotated[str | None, typer.Option("--date", show_default="the sample's as-of date",
                                            help="briefing date, YYYY-MM-DD")] = None,
    sample: Annotated[bool, typer.Option(help="ingest the bundled feed (else the configured sources)")] = True,
    out: Annotated[Path | None, typer.Option(help="where documents go (default MISSING_EPISODES_OUTPUT_DIR)")] = None,
) -> None:
    """The main job end to end: ingest, run every rule, write the daily briefing.

    Exits 0 when a feed file was refused (moved to its failed folder, named on standard error and in the audit
    trail): every other file was ingested and the briefing written, and a failed status would read as "no
    briefing this morning" to whoever watches the job.
    """
    briefing_day = plausible_day(date_value(day, "--date"), "--date") if day else None
    if out is not None and out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file, not a folder", param_hint="--out")
    checks.writable_database()
    checks.policy()
    if out is not None:
        os.environ["MISSING_EPISODES_OUTPUT_DIR"] = str(out.resolve())
    from flows.daily import daily_run

    with Progress.activity("the main job"):
        result = run_flow("the main job", daily_run, briefing_day, sample)
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
