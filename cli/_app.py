"""The one Typer application every command group registers on, and the checks every command needs first."""

import os

import typer

from missing_episodes.clock import NOW_VARIABLE, TimeParseError, now
from missing_episodes.permissions import restrict_process

app = typer.Typer(
    name="missing-episodes",
    help="Statutory clocks for children missing from home and care.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _before_every_command() -> None:
    """A fixed clock that cannot be read is the user's mistake: say so in one line, before any work or Prefect.

    Every file a command writes (database, documents, exports, archived feeds) is private: files 0600, folders
    0700 (``missing_episodes.permissions``)."""
    restrict_process()
    if os.environ.get(NOW_VARIABLE):
        try:
            now()
        except TimeParseError as exc:
            typer.echo(f"error: {exc} (give ISO 8601, e.g. 2026-11-02T08:30, or unset {NOW_VARIABLE})", err=True)
            raise typer.Exit(2) from None
