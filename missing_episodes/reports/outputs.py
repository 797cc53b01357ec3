"""What a report hands back to its caller (a flow, the CLI): paths and counts, never a child's details."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ReportOutputs:
    """Where a report was written and the counts safe to show in Prefect (no names, no person ids)."""

    paths: dict[str, Path]
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"paths": {k: str(v) for k, v in self.paths.items()}, "counts": dict(self.counts)}
