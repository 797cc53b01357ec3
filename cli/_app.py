"""The one Typer application every command group registers on, and the checks every command needs first.

Every user mistake (a bad option value, a missing database, a policy file that does not validate) ends the same
way: one line on stderr that names what was wrong and what to do, exit status 2, before Prefect starts and before
any file is written. Click's own usage errors are folded into that one line by ``OneLineErrors``; commands raise
``cli.checks.Mistake`` (or ``typer.BadParameter``) for theirs.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # Typer 0.2x carries its own copy of Click; earlier versions use Click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click import exceptions as click_errors  # type: ignore[no-redef]

from missing_episodes.clock import NOW_VARIABLE, TimeParseError, now
from missing_episodes.permissions import restrict_process

PROGRAM = "missing-episodes"


def one_line(message: str, limit: int = 400) -> str:
    """A message on one line (newlines and runs of spaces folded), cut with an ellipsis past ``limit``."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _usage_error_line(error: click_errors.ClickException) -> str:
    """Click's three-line usage error ("Usage: …", "Try … --help", "Error: …") as one line with its command."""
    message = one_line(error.format_message())
    context = getattr(error, "ctx", None)
    if isinstance(error, click_errors.UsageError) and context is not None:
        return f"error: {message} (see `{context.command_path} --help`)"
    return f"error: {message}"


class OneLineErrors(TyperGroup):
    """The application's root group: usage errors and ``Mistake`` print one line on stderr and exit 2.

    Click would print the usage, a hint and the error on three or more lines (Typer draws a box around them);
    a newcomer reads the first line only. ``--help`` and a bare group (``no_args_is_help``) still print help.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as error:  # a bare group: its help, as click prints it
            typer.echo(error.ctx.get_help() if error.ctx else str(error), err=True)
            sys.exit(2)
        except click_errors.ClickException as error:
            typer.echo(_usage_error_line(error), err=True)
            sys.exit(2 if isinstance(error, click_errors.UsageError) else error.exit_code)
        except typer.Abort:
            typer.echo("error: interrupted", err=True)
            sys.exit(130)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name=PROGRAM,
    cls=OneLineErrors,
    help="Statutory clocks for children missing from home and care.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # a fifth of a second: only for --version

    try:
        return version("missing-episodes")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{PROGRAM} {package_version()}")
        raise typer.Exit()


@app.callback()
def _before_every_command(
    _version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """A fixed clock or a numeric setting that cannot be read is the user's mistake: say so in one line, before
    any work or Prefect.

    Every file a command writes (database, documents, exports, archived feeds) is private: files 0600, folders
    0700 (``missing_episodes.permissions``)."""
    restrict_process()
    from missing_episodes.config import get_settings

    try:
        get_settings()
    except ValueError as exc:
        typer.echo(f"error: a MISSING_EPISODES_* setting is not a number ({one_line(str(exc), 200)}): fix or unset it",
                   err=True)
        raise typer.Exit(2) from None
    if os.environ.get(NOW_VARIABLE):
        try:
            now()
        except TimeParseError as exc:
            typer.echo(f"error: {exc} (give ISO 8601, e.g. 2026-11-02T08:30, or unset {NOW_VARIABLE})", err=True)
            raise typer.Exit(2) from None
