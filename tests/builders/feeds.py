"""Police notification rows and the CSV files they arrive in, for the ingest, replay and worklist tests."""

from __future__ import annotations

import csv
from pathlib import Path

from missing_episodes.feeds import NOTIFICATION_FIELDS


def message(nid: str, sent: str, event: str, incident: str, **fields: str) -> dict[str, str]:
    """One notification row: every feed column present (empty unless given), as the police feed sends it."""
    row = dict.fromkeys(NOTIFICATION_FIELDS, "")
    row.update(notification_id=nid, sent_at=sent, event=event, incident_ref=incident, **fields)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], fields: list[str] | None = None) -> Path:
    """Write ``rows`` as a UTF-8 CSV with a header (the rows' own keys unless ``fields`` says otherwise)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
