"""What one ingest did: the counts a run reports (and a task returns), added up chunk by chunk."""

from __future__ import annotations

from dataclasses import dataclass

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

    def line(self) -> str:
        return (
            f"{self.feed} from {self.source}: read {self.read}, new {self.new}, duplicate {self.duplicate}, "
            f"quarantined {self.quarantined}, episodes changed {self.changed_episodes}"
        )
