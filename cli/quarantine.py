"""``quarantine``: the rows the ingest kept back, newest first with totals, and how a person closes each one.

* ``quarantine [--limit N] [--offset N | --page N] [--all]`` lists rows still to fix (``--all``: resolved too).
* ``quarantine show ID`` prints one row whole: where it came from, the field, the reason and the raw text.
* ``quarantine resolve ID --note TEXT`` marks it resolved (who, when, why; audited) when it needs nothing more:
  the sender re-sent a corrected row, or it was a test message.
* ``quarantine retry ID [--set FIELD=VALUE ...]`` reads the row's stored raw text again, with the corrections
  given, through the ingest's own validation and store; stored, the row is marked resolved (audited). A row
  that still fails is refused in one line with the field and reason, and nothing is written.

Everything here is read and written without Prefect; ``retry --rules`` then runs the rules for the changed child
at once (otherwise the next ingest or daily run does, as for any stored row).
"""

from __future__ import annotations

import getpass
import json
from functools import partial
from typing import Annotated, Any

import typer

from cli import checks
from cli._app import PROGRAM, app
from cli.checks import Mistake
from cli.text import cell, console, escape
from missing_episodes.clock import today

quarantine_app = typer.Typer(help="Rows kept back for a person to fix: list, show, resolve, retry.")
app.add_typer(quarantine_app, name="quarantine")

_MAX_PAGE = 1000
IdArgument = Annotated[int, typer.Argument(min=1, help="the row's id (first column of the list)")]


@quarantine_app.callback(invoke_without_command=True)
def quarantine_list(
    context: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=_MAX_PAGE, help="rows per page")] = 50,
    offset: Annotated[int | None, typer.Option(min=0, help="skip this many rows (newest first)")] = None,
    page: Annotated[int | None, typer.Option(min=1, help="page number (of --limit rows); instead of --offset")] = None,
    everything: Annotated[bool, typer.Option("--all", help="resolved rows too")] = False,
) -> None:
    """List quarantined rows, newest first, with totals (read-only)."""
    if context.invoked_subcommand is not None:
        return
    if offset is not None and page is not None:
        raise typer.BadParameter("give --offset or --page, not both", param_hint="--page")
    skip = offset if offset is not None else ((page or 1) - 1) * limit
    database = checks.migrated_database()

    from sqlalchemy import func, select

    from missing_episodes.db.engine import session_scope
    from missing_episodes.db.models import Quarantine

    with session_scope(database.url) as session:
        waiting = session.scalar(select(func.count()).where(Quarantine.resolved_at.is_(None))) or 0
        resolved = session.scalar(select(func.count()).where(Quarantine.resolved_at.is_not(None))) or 0
        query = select(Quarantine).order_by(Quarantine.received_at.desc(), Quarantine.id.desc())
        if not everything:
            query = query.where(Quarantine.resolved_at.is_(None))
        rows = session.scalars(query.offset(skip).limit(limit)).all()
    shown_total = waiting + resolved if everything else waiting
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(title="Quarantined input, newest first", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("received", no_wrap=False, max_width=11)
    table.add_column("source / where", overflow="fold", ratio=2)
    table.add_column("field", overflow="fold", ratio=1)
    table.add_column("reason", overflow="fold", ratio=3)
    if everything:
        table.add_column("resolved", overflow="fold", ratio=1)
    for row in rows:
        where = f"{row.origin} row {row.row_number}" if row.row_number is not None else (row.origin or "")
        values = [cell(row.id), cell(f"{row.received_at:%d %b %Y %H:%M}"), cell(f"{row.source}: {where}"),
                  cell(row.field), cell(row.reason)]
        if everything:
            values.append(cell(f"{row.resolved_at:%d %b %Y}" if row.resolved_at else "", style="green"))
        table.add_row(*values)
    out.print(table)
    first, last = (skip + 1, skip + len(rows)) if rows else (0, 0)
    out.print(escape(f"{waiting} to fix, {resolved} resolved; showing {first}-{last} of {shown_total}"))
    if last < shown_total:
        out.print(escape(f"next page: {PROGRAM} quarantine --limit {limit} --offset {last}"
                         + (" --all" if everything else "")))
    if waiting:
        out.print(escape(f"a row in full: {PROGRAM} quarantine show ID; when fixed: quarantine retry ID "
                         "[--set FIELD=VALUE] or quarantine resolve ID --note TEXT"))


@quarantine_app.command("show")
def quarantine_show(row_id: IdArgument) -> None:
    """One quarantined row in full: source, file and row, field, reason, raw text, resolution."""
    database = checks.migrated_database()
    from missing_episodes.db.engine import session_scope

    with session_scope(database.url) as session:
        row = _row(session, row_id)
        from rich import box
        from rich.table import Table

        out = console()
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column("", style="bold", no_wrap=True)
        table.add_column("", overflow="fold")
        for name, value in (("id", row.id), ("source", row.source), ("feed", row.feed), ("file", row.origin),
                            ("row", row.row_number), ("field", row.field), ("reason", row.reason),
                            ("received", f"{row.received_at:%d %b %Y %H:%M}"),
                            ("resolved", f"{row.resolved_at:%d %b %Y %H:%M}" if row.resolved_at else None),
                            ("resolved by", row.resolved_by), ("note", row.resolution_note), ("raw", row.raw)):
            table.add_row(cell(name), cell(value))
        out.print(table)


@quarantine_app.command("resolve")
def quarantine_resolve(
    row_id: IdArgument,
    note: Annotated[str, typer.Option("--note", help="what was done about it (kept and audited)")],
    by: Annotated[str | None, typer.Option("--by", show_default="your login name", help="who resolved it")] = None,
) -> None:
    """Mark a row resolved with a note: it leaves the list (--all still shows it); audited."""
    if not note.strip():
        raise typer.BadParameter("is empty; say what was done (e.g. 'police re-sent the row')", param_hint="--note")
    database = checks.migrated_database()
    from missing_episodes.db.engine import session_scope

    with session_scope(database.url) as session:
        row = _row(session, row_id, open_only=True)
        _mark_resolved(session, row, note.strip(), by, "quarantine_resolved")
    typer.echo(f"quarantine row {row_id} resolved")


@quarantine_app.command("retry")
def quarantine_retry(
    row_id: IdArgument,
    corrections: Annotated[list[str] | None, typer.Option(
        "--set", help="FIELD=VALUE: correct one field before the retry (repeat for more; FIELD= blanks it)")] = None,
    note: Annotated[str | None, typer.Option("--note", help="why it can go in now (kept and audited)")] = None,
    by: Annotated[str | None, typer.Option("--by", show_default="your login name", help="who fixed it")] = None,
    rules: Annotated[bool, typer.Option("--rules/--no-rules",
                                        help="run the rules for the changed child now (starts Prefect)")] = False,
) -> None:
    """Re-read a row's stored raw text (with corrections) through the ingest: stored, it is marked resolved."""
    changes = _corrections(corrections or [])
    database = checks.migrated_database()
    checks.policy()

    from missing_episodes.db.engine import session_scope
    from missing_episodes.ingest.chunks import classify
    from missing_episodes.ingest.rows import ingest_rows, known_outcome_events
    from missing_episodes.jobs.context import Context
    from missing_episodes.sources import RawRow

    context = Context.load()
    with session_scope(database.url) as session:
        row = _row(session, row_id, open_only=True)
        if row.row_number is None:
            raise Mistake(f"quarantine row {row_id} is a whole file that could not be read ({row.reason}): fix the "
                          f"file, run `{PROGRAM} ingest --kind {row.feed} FILE`, then `{PROGRAM} quarantine "
                          f"resolve {row_id} --note TEXT`")
        data = _raw_object(row.raw, row_id)
        unknown = sorted(set(changes) - set(data) - _feed_fields(row.feed))
        if unknown:
            raise Mistake(f"--set {unknown[0]}: the {row.feed} feed has no field {unknown[0]!r}; fields: "
                          f"{', '.join(sorted(_feed_fields(row.feed)))}")
        data.update(changes)
        retried = RawRow(row.origin or f"quarantine {row_id}", row.row_number, data)
        feed, source = row.feed, row.source
    checked = classify([retried], feed, source, known_outcome_events(context.policy))
    if checked.quarantine:
        problem = checked.quarantine[0]
        raise Mistake(f"quarantine row {row_id} still fails ({problem['field'] or 'row'}: {problem['reason']}): "
                      f"correct it with --set FIELD=VALUE, or `{PROGRAM} quarantine show {row_id}` to see it")
    # The ingest's own store (no Prefect): the same chunk transaction, fold and flag-for-review as a feed file.
    summary = ingest_rows(partial(session_scope, database.url), feed=feed, source=source, rows=[retried],
                          settings=context.settings, policy=context.policy)
    if summary.quarantined:
        typer.echo(f"error: quarantine row {row_id} went back to quarantine (its message id is stored with other "
                   f"content): see `{PROGRAM} quarantine`", err=True)
        raise typer.Exit(1)
    with session_scope(database.url) as session:
        row = _row(session, row_id, open_only=True)
        fields = ", ".join(sorted(changes)) or "none"
        _mark_resolved(session, row, note or f"re-ingested (fields corrected: {fields})", by, "quarantine_retried",
                       corrected=sorted(changes), new=summary.new, duplicate=summary.duplicate)
    typer.echo(f"quarantine row {row_id}: stored ({summary.new} new, {summary.duplicate} already stored); resolved")
    if rules and summary.new:
        from cli.flows import run_flow
        from flows.review import review_changed

        result = run_flow("the rules", review_changed)
        typer.echo(f"rules: {result.get('children', 0)} children checked, {result.get('created', 0)} actions "
                   f"created, {result.get('updated', 0)} updated")
    elif summary.new:
        typer.echo(f"the rules run for this child at the next ingest or `{PROGRAM} run` (or retry with --rules)")


def _row(session: Any, row_id: int, *, open_only: bool = False) -> Any:
    from missing_episodes.db.models import Quarantine

    row = session.get(Quarantine, row_id)
    if row is None:
        raise Mistake(f"no quarantine row {row_id}: `{PROGRAM} quarantine --all` lists them with their ids")
    if open_only and row.resolved_at is not None:
        raise Mistake(f"quarantine row {row_id} was resolved on {row.resolved_at:%d %b %Y}: nothing to do")
    return row


def _mark_resolved(session: Any, row: Any, note: str, by: str | None, event: str, **detail: Any) -> None:
    from missing_episodes.clock import now
    from missing_episodes.store import audit

    who = (by or _login()).strip() or "unknown"
    row.resolved_at, row.resolved_by, row.resolution_note = now(), who, note
    # The audit detail names the row, not its content: the raw text and corrections may hold personal data.
    audit(session, who, event, "quarantine", str(row.id), source=row.source, feed=row.feed,
          day=today().isoformat(), **detail)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _corrections(values: list[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name.strip():
            raise typer.BadParameter(f"{value!r} is not FIELD=VALUE (e.g. sent_at=2026-11-01T10:00)",
                                     param_hint="--set")
        changes[name.strip()] = text  # "" is a blank cell, as a CSV gives it
    return changes


def _raw_object(raw: str, row_id: int) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Mistake(f"quarantine row {row_id}'s raw text is not one row's fields: fix the file it came from and "
                      f"ingest it again, then `{PROGRAM} quarantine resolve {row_id} --note TEXT`")
    return data


def _feed_fields(feed: str) -> set[str]:
    from missing_episodes.feeds import CaseOutcome, ChildRecord, PoliceNotification

    model = {"notifications": PoliceNotification, "outcomes": CaseOutcome, "children": ChildRecord}.get(feed)
    if model is None:
        return set()
    fields = set(model.model_fields)
    fields.update(info.alias for info in model.model_fields.values() if info.alias)
    return fields
