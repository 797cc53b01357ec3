"""``actions``: the worklist as of a moment, as a table a coordinator reads at 80 columns, as JSON or as CSV.

Read-only and without Prefect: it answers in about a second. The table shows the episode ref (the forms need it)
and dates with their year, overdue first and then what falls due soonest, closed actions last; a narrow terminal
gets a narrow layout (refs stacked in one column, the rule id left to the wide table, ``--csv`` and ``--json``)
rather than a table cut off on the right. ``--json`` keeps the
stored order (by due time) and streams, so a region's million rows never sit in memory; the table and CSV sort.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import typer

from cli import checks
from cli._app import app
from cli.text import NARROW, cell, console, escape, write_csv
from cli.values import time_value
from missing_episodes.action_kinds import ACTION_KINDS

KINDS = ACTION_KINDS
ActionKind = Enum("ActionKind", {kind: kind for kind in KINDS}, type=str)  # type: ignore[misc]

#: Below this width the table stacks the refs in one column (80-column terminals, split panes).
CSV_HEADER = ("due_at", "status", "action", "rule", "child_id", "child_ref", "episode_ref", "incident_ref",
              "assigned_to", "trigger_at", "done_at")


@app.command()
def actions(
    as_of: Annotated[str | None, typer.Option("--as-of", show_default="now",
                                              help="ISO 8601 time; London time if no offset")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array (stored order, streamed)")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV (formula-safe for spreadsheets)")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="only open and overdue actions")] = False,
    kind: Annotated[list[ActionKind] | None, typer.Option(help="only these action kinds (repeat for more)")] = None,
    worker: Annotated[str | None, typer.Option(help="assigned to this person, or their allocated children")] = None,
    team: Annotated[str | None, typer.Option(help="children of this team")] = None,
    child: Annotated[str | None, typer.Option(help="one child: person id (P000101) or CH- ref")] = None,
    due_before: Annotated[str | None, typer.Option("--due-before", help="only actions due before this time")] = None,
    names: Annotated[bool, typer.Option("--names", help="show the child's name (off: refs only)")] = False,
) -> None:
    """The worklist as of a time (read-only: no Prefect), overdue first, then due soonest."""
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--csv")
    if names and as_json:
        raise typer.BadParameter("--names is for the table and --csv; the JSON never carries names",
                                 param_hint="--names")
    for value, option in ((worker, "--worker"), (team, "--team"), (child, "--child")):
        if value is not None and not value.strip():
            raise typer.BadParameter("is empty; give a value or leave the option out", param_hint=option)
    moment = time_value(as_of, "--as-of")
    before = time_value(due_before, "--due-before") if due_before is not None else None
    database = checks.migrated_database()

    from missing_episodes.db.engine import session_scope
    from missing_episodes.worklist import Filters, child_names, json_chunks, worklist_items

    filters = Filters(worker=worker, team=team, child=child, due_before=before)
    kinds = tuple(k.value for k in kind) if kind else None
    with session_scope(database.url) as session:
        items = worklist_items(session, moment, kinds=kinds, include_closed=not open_only, filters=filters)
        if as_json:
            for chunk in json_chunks(items):
                typer.echo(chunk, nl=False)
            typer.echo()
            return
        rows = sorted(items, key=_urgency)
        named = child_names(session, (item.child_ref for item in rows)) if names else {}
    if as_csv:
        header = (*CSV_HEADER, "name") if names else CSV_HEADER
        write_csv(header, (_csv_row(item, named) for item in rows))
        return
    _print_table(rows, moment, named, names)


def _urgency(item) -> tuple[int, datetime, str]:
    """Overdue, then open (each by due time, so the most overdue first), then closed."""
    rank = {"overdue": 0, "open": 1}.get(item.status, 2)
    return rank, item.due_at, item.episode_ref or ""


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%d %b %Y %H:%M}"


def _csv_row(item, named: dict[str, str]) -> tuple[object, ...]:
    row = (item.due_at.isoformat(), item.status, item.action, item.rule, item.child_id or item.child_ref,
           item.child_ref, item.episode_ref, item.incident_ref, item.assigned_to or item.actor,
           item.trigger_at.isoformat(), item.done_at.isoformat() if item.done_at else None)
    return (*row, named.get(item.child_ref, "")) if named else row


def _print_table(rows: list, moment: datetime, named: dict[str, str], names: bool) -> None:
    from rich import box
    from rich.table import Table

    from missing_episodes.clock import as_london

    out = console()
    narrow = out.width < NARROW
    table = Table(title=f"Worklist as of {as_london(moment):%a %d %b %Y %H:%M} (London)",
                  box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD, pad_edge=False, expand=False)
    status_style = {"overdue": "bold red", "open": "", "done": "green"}
    if narrow:
        table.add_column("due", no_wrap=False, max_width=11)
        table.add_column("status", no_wrap=True)
        table.add_column("action", overflow="fold", min_width=11, ratio=2)
        table.add_column("child / episode / incident", overflow="fold", min_width=15, ratio=2)
        table.add_column("who", overflow="fold", ratio=1)
        for item in rows:
            refs = [item.child_id or item.child_ref, item.episode_ref or "-", item.incident_ref or "-"]
            if names:
                refs.insert(1, named.get(item.child_ref) or "-")
            what = cell(item.action.replace("_", " "))  # the rule id is in the wide table, --csv and --json
            table.add_row(cell(f"{item.due_at:%d %b %Y} {item.due_at:%H:%M}"),
                          cell(item.status, style=status_style.get(item.status, "")), what,
                          cell("\n".join(refs)), cell(item.assigned_to or item.actor))
    else:
        columns = ["due (London)", "status", "action", "child"] + (["name"] if names else [])
        columns += ["episode", "incident", "rule", "who"]
        for column in columns:
            table.add_column(column, no_wrap=column in ("due (London)", "episode", "incident", "child"),
                             overflow="fold")
        for item in rows:
            values = [cell(_when(item.due_at)), cell(item.status, style=status_style.get(item.status, "")),
                      cell(item.action), cell(item.child_id or item.child_ref)]
            if names:
                values.append(cell(named.get(item.child_ref)))
            values += [cell(item.episode_ref), cell(item.incident_ref), cell(item.rule),
                       cell(item.assigned_to or item.actor)]
            table.add_row(*values)
    out.print(table)
    overdue = sum(1 for item in rows if item.status == "overdue")
    out.print(escape(f"{len(rows)} actions, {overdue} overdue"))
