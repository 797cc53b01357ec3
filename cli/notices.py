"""``missing-episodes notices``: the notifications not yet delivered (read-only, no Prefect).

A send that failed is retried by the next notify run and stays here until it goes, with its error type and how
many attempts were made; a notice nobody in the staff file can receive (``unroutable``) stays until the staff
file names a holder of the role. Nothing is dropped silently.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli import checks
from cli._app import app
from cli.flows import run_flow
from cli.text import cell, console
from missing_episodes.clock import as_london
from missing_episodes.config import get_settings


@app.command()
def notices(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Notifications not yet delivered: pending, failed (retried next run), unroutable, closed before sending."""
    checks.migrated_database()
    from missing_episodes.db.engine import session_scope
    from missing_episodes.notifications.outbox import pending_or_failed

    with session_scope(get_settings().database_url) as session:
        rows = [(n.status, as_london(n.event_at), n.action_key, n.reason, n.recipient_role or "", n.recipient,
                 n.attempts, n.last_error or "") for n in pending_or_failed(session)]
    if as_json:
        for status, at, action, reason, role, recipient, attempts, error in rows:
            typer.echo(json.dumps({"status": status, "event_at": at.isoformat(), "action": action, "reason": reason,
                                   "role": role, "recipient": recipient, "attempts": attempts, "error": error}))
        return
    from rich.table import Table

    table = Table(title=f"Notifications not yet delivered ({len(rows)})")
    for column in ("status", "when", "action", "reason", "to", "tries", "error"):
        table.add_column(column, overflow="fold")
    for status, at, action, reason, role, recipient, attempts, error in rows:
        table.add_row(*(cell(value) for value in (status, f"{at:%d/%m/%Y %H:%M}", action, reason,
                                                  f"{role}: {recipient}", attempts, error)))
    console().print(table)


@app.command()
def notify() -> None:
    """Tell the people who must act now (the notify flow the schedule runs every five minutes), then say how many."""
    checks.migrated_database()
    checks.policy()
    from flows.notify import notifications_in_words
    from flows.notify import notify as notify_flow

    typer.echo(notifications_in_words(run_flow("the notifications", notify_flow)))
