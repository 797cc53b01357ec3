"""``care-leavers``: the care leavers assessed missing and those assessed not in touch (read-only, no Prefect).

Wokingham's Assistant Manager tracks and reviews "those missing on a weekly basis and keep[s] the relevant Service
Manager updated": this is their list, as of a moment, with since when, the Personal Advisor and team, the open
actions and when the next weekly review is due (``missing_episodes.reports.care_leavers``). Refs only unless
``--names`` is given, as ``actions`` does; every value from the database is shown literally (``cli.text``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli import checks
from cli._app import app
from cli.text import NARROW, cell, console, escape, write_csv
from cli.values import time_value

if TYPE_CHECKING:
    from missing_episodes.reports.care_leavers import CareLeaverEntry

CSV_HEADER = ("list", "since", "child_id", "child_ref", "personal_advisor", "team", "assessed_by",
              "next_weekly_review", "open_actions")
LISTS = {"missing": "missing", "not_in_touch": "not in touch"}


@app.command("care-leavers")
def care_leavers(
    as_of: Annotated[str | None, typer.Option("--as-of", show_default="now",
                                              help="ISO 8601 time; London time if no offset")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV (formula-safe for spreadsheets)")] = False,
    names: Annotated[bool, typer.Option("--names", help="show the young person's name (off: refs only)")] = False,
) -> None:
    """Care leavers assessed missing, then those assessed not in touch, with the next weekly review (read-only)."""
    moment = time_value(as_of, "--as-of")
    database = checks.migrated_database()

    from missing_episodes.db.engine import session_scope
    from missing_episodes.reports.care_leavers import care_leavers_list
    from missing_episodes.worklist import child_names

    with session_scope(database.url) as session:
        entries = care_leavers_list(session, moment)
        named = child_names(session, (e.child_ref for e in entries)) if names else {}
    if as_csv:
        header = (*CSV_HEADER, "name") if names else CSV_HEADER
        write_csv(header, (_csv_row(entry, named, names) for entry in entries))
        return
    _print_table(entries, moment, named, names)


def _when(moment: datetime | None) -> str:
    """London time with the year (the list spans months), or empty."""
    from missing_episodes.clock import as_london

    return "" if moment is None else f"{as_london(moment):%d %b %Y %H:%M}"


def _actions_text(entry: CareLeaverEntry) -> str:
    """The open actions, one a line: when due, the action, and "overdue" when it is."""
    return "\n".join(f"{_when(item.due_at)} {item.action.replace('_', ' ')}"
                     f"{' (overdue)' if item.status == 'overdue' else ''}" for item in entry.open_actions)


def _csv_row(entry: CareLeaverEntry, named: dict[str, str], names: bool) -> tuple[object, ...]:
    actions = "; ".join(f"{item.action} {item.status} {item.due_at.isoformat()}" for item in entry.open_actions)
    review = entry.next_weekly_review.isoformat() if entry.next_weekly_review else None
    row = (entry.status, entry.since.isoformat(), entry.person_id or entry.child_ref, entry.child_ref,
           entry.personal_advisor, entry.team, entry.assessed_by, review, actions)
    return (*row, named.get(entry.child_ref, "")) if names else row


def _print_table(entries: list[CareLeaverEntry], moment: datetime, named: dict[str, str], names: bool) -> None:
    """The wide table, or below ``NARROW`` columns the same facts stacked in four columns (as ``actions`` does)."""
    from rich import box
    from rich.table import Table

    from missing_episodes.clock import as_london

    out = console()
    narrow = out.width < NARROW
    table = Table(title=f"Care leavers as of {as_london(moment):%a %d %b %Y %H:%M} (London)",
                  box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    if narrow:
        table.add_column("list / since", overflow="fold", max_width=12)
        table.add_column("young person / PA / team", overflow="fold", ratio=1)
        table.add_column("next review", overflow="fold", max_width=11)
        table.add_column("open actions (due)", overflow="fold", ratio=2)
    else:
        columns = ["list", "since", "young person"] + (["name"] if names else [])
        columns += ["Personal Advisor / team", "next weekly review", "open actions (due)"]
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in ("since", "young person"))
    for entry in entries:
        style = "bold red" if entry.status == "missing" else ""
        who = [entry.person_id or entry.child_ref] + ([named.get(entry.child_ref) or "-"] if names else [])
        adviser = [entry.personal_advisor or "-", entry.team or "-"]
        if narrow:
            table.add_row(cell(f"{LISTS[entry.status]}\n{_when(entry.since)}", style=style),
                          cell("\n".join(who + adviser)), cell(_when(entry.next_weekly_review)),
                          cell(_actions_text(entry)))
        else:
            table.add_row(cell(LISTS[entry.status], style=style), cell(_when(entry.since)), *map(cell, who),
                          cell("\n".join(adviser)), cell(_when(entry.next_weekly_review)),
                          cell(_actions_text(entry)))
    out.print(table)
    missing = sum(1 for entry in entries if entry.status == "missing")
    out.print(escape(f"{missing} assessed missing, {len(entries) - missing} not in touch"))
