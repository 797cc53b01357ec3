"""National comparators as data: figures from the DfE's published statistics, each with its source.

They live in ``data/reference/national_comparators.yaml`` rather than in code so that a new release is an edit
to a file anyone can review against the publication, and so that the board report always prints where each
number came from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict

from missing_episodes.config import DATA_DIR

COMPARATORS_PATH = DATA_DIR / "reference" / "national_comparators.yaml"


class Comparator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    measure: str
    value: float
    unit: str
    year: str
    compare_to: str | None = None
    source_title: str
    url: str
    note: str = ""


def load_comparators(path: Path | str = COMPARATORS_PATH) -> list[Comparator]:
    """Read and check the file; a comparator without a source fails here, not in front of the board."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [Comparator.model_validate(item) for item in data.get("comparators", [])]


def comparator_table(comparators: list[Comparator], ours: dict[str, object]) -> pd.DataFrame:
    """National figure beside ours (children in care) where a measure of ours matches it."""
    rows = [
        {
            "measure": c.measure,
            "national": c.value,
            "unit": c.unit,
            "year": c.year,
            "ours": ours.get(c.compare_to) if c.compare_to else None,
            "source": c.source_title,
            "url": c.url,
            "note": c.note,
        }
        for c in comparators
    ]
    columns = ["measure", "national", "unit", "year", "ours", "source", "url", "note"]
    return pd.DataFrame(rows, columns=columns)
