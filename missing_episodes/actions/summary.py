"""What a recomputation did, in counts only (no personal data), for the task result and the audit event."""

from __future__ import annotations

from dataclasses import dataclass

from missing_episodes.summaries import Counts


@dataclass
class RecomputeSummary(Counts):
    children: int = 0
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    removed: int = 0
    allocated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @property
    def changed(self) -> bool:
        """Whether any stored action was created, updated, withdrawn or removed."""
        return bool(self.created or self.updated or self.withdrawn or self.removed)
