"""A progress bar on a terminal for commands that take a while: counts, rate and time, never silent for long.

The domain reports what it has done through ``missing_episodes.progress.advance`` (rows stored by the ingest,
children checked by the bulk rules); a flow on Prefect's ephemeral server runs in this process, so the counts
arrive here. The bar ticks every tenth of a second whether counts come or not (the elapsed time moves while
Prefect starts its server), goes to stderr, and is drawn only when stderr is a terminal and ``CI`` is not set:
redirected output and CI logs stay plain.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from missing_episodes.progress import listening


def wanted() -> bool:
    """A bar only for a person at a terminal."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def counted(completed: float, unit: str, speed: float | None) -> str:
    """How many of each unit so far and how fast: "45,000 rows, 3,210/s"."""
    return f"{completed:,.0f} {unit}" + (f", {speed:,.0f}/s" if speed else "")


class Progress:
    """The two shapes of progress the CLI shows."""

    @staticmethod
    @contextmanager
    def files(label: str, files: Sequence[Path]) -> Iterator[None]:
        """An ingest: rows stored so far and their rate, for the files given (sizes shown up front)."""
        size = sum(path.stat().st_size for path in files if path.exists())
        with Progress.activity(f"{label}, {size / 1_000_000:,.1f} MB", unit="rows"):
            yield

    @staticmethod
    @contextmanager
    def activity(label: str, where: Path | None = None, unit: str | None = None) -> Iterator[None]:
        """Anything long: a spinner and the time so far, and counts as the domain reports them."""
        if not wanted():
            yield
            return
        # Imported here: rich.progress costs a quarter of a second, and most commands never draw a bar.
        from rich.console import Console
        from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Task) -> Text:
                if not task.completed:
                    return Text(task.fields.get("waiting", ""), style="dim")
                return Text(counted(task.completed, task.fields.get("unit") or "", task.speed))

        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=10), Rate(),
                   TimeElapsedColumn())
        description = label if where is None else f"{label} → {where}"
        with RichProgress(*columns, console=Console(file=sys.stderr), transient=True,
                          refresh_per_second=10) as bar:
            task = bar.add_task(description, total=None, unit=unit or "", waiting="working…")

            def advance(reported_unit: str, count: int) -> None:
                bar.update(task, advance=count, unit=reported_unit)

            with listening(advance):
                yield
