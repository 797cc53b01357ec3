"""The one Typer application every command group registers on."""

import typer

app = typer.Typer(
    name="missing-episodes",
    help="Statutory clocks for children missing from home and care.",
    no_args_is_help=True,
    add_completion=False,
)
