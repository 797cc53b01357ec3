"""What one ingest did: the counts a run reports (and a task returns), added up chunk by chunk.

For every file ``read == new + duplicate + quarantined``: ``read`` is the true number of rows (a line that is not
UTF-8 or not JSON is a row, quarantined), and a refused file (``refused``) or one with no rows (``empty``) is
counted apart, with a line in ``problems`` naming the file and why (file names and reasons only, never a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from missing_episodes.summaries import Counts


@dataclass
class IngestSummary(Counts):
    source: str
    feed: str
    read: int = 0
    new: int = 0
    duplicate: int = 0
    quarantined: int = 0
    changed_episodes: int = 0
    refused: int = 0  # files refused as a whole (a drop folder moves them to its failed folder)
    empty: int = 0  # files with no rows (zero bytes, or a header only)
    problems: list[str] = field(default_factory=list)  # "file: why" for each refused or empty file
    origin: str | None = None  # the file's name, for one file's summary

    def add(self, other: Self) -> None:
        super().add(other)
        self.problems.extend(other.problems)

    def line(self) -> str:
        refused = f", files refused {self.refused}" if self.refused else ""
        empty = f", empty files {self.empty}" if self.empty else ""
        return (
            f"{self.feed} from {self.source}: read {self.read}, new {self.new}, duplicate {self.duplicate}, "
            f"quarantined {self.quarantined}, episodes changed {self.changed_episodes}{refused}{empty}"
        )
