"""Transitional: the three names ``flows/operations.py`` still imports from here, until that module's inline tasks
become tasks over ``missing_episodes.jobs`` (then this module is deleted). Nothing else may import it.
"""

from __future__ import annotations

from dataclasses import asdict

from missing_episodes.ingest import IngestSummary
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.context import Context

__all__ = ["Context", "ingest_records", "summary_dict"]


def summary_dict(summary: IngestSummary) -> dict[str, object]:
    return asdict(summary)
