"""Feed values are data, never markup or formulas.

Rich reads ``[bold]`` and ``[/x]`` in a string as markup: a feed's ``sent_at="[/x]"`` made ``quarantine`` crash
("closing tag '[/x]' doesn't match any open tag") and ``incident_ref="[/bold]"`` made ``actions --open`` crash.
Every value the CLI shows from the database goes through ``cell`` (a ``rich.text.Text``, never parsed), and every
line that mixes words with data through ``escape``. A CSV opened in a spreadsheet runs a cell that begins with
``=``, ``+``, ``-`` or ``@`` as a formula (OWASP, "CSV Injection"): ``csv_safe`` neutralises it.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from missing_episodes.formula_cells import neutralise

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Rich is imported by the functions that draw (a tenth of a second of CPU): a command that prints no table, such as
# one that runs on the desk, never pays for it.

__all__ = ["NARROW", "cell", "console", "csv_safe", "escape", "write_csv"]

#: Below this width a command's table stacks its facts in fewer columns (80-column terminals, split panes).
NARROW = 120


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout/stderr (made per command, so a test's captured streams are used);
    highlighting off, so refs and numbers in data are not coloured as if they meant something."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False)


def cell(value: object, *, style: str = "") -> Text:
    """A table cell showing ``value`` literally (None as a dash)."""
    from rich.text import Text

    return Text("-" if value is None or value == "" else str(value), style=style)


def escape(markup: str) -> str:
    """``rich.markup.escape``: ``[`` in data printed as itself, not read as a style tag."""
    from rich.markup import escape as rich_escape

    return rich_escape(markup)


def csv_safe(value: object) -> str:
    """A cell's text with a leading formula character neutralised by a quote, as OWASP recommends."""
    return str(neutralise("" if value is None else str(value)))


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Formula-safe CSV on stdout."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
