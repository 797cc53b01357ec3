"""The files that are written, not drawn: the Return Interview Team roster and the damaged-rows demonstration."""

from __future__ import annotations

from pathlib import Path

from missing_episodes.synthetic.sinks import write_csv
from missing_episodes.synthetic.vocabulary import AUTHORITY, NOTIFICATION_FIELDS, ROSTER, ROSTER_FIELDS


def write_roster(path: Path) -> None:
    """The Return Interview Team roster (fixed: it is configuration, not a draw)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, ROSTER_FIELDS, ROSTER)


def write_damaged(path: Path) -> None:
    """Six police rows each broken in exactly one way, then two good rows: the quarantine demonstration."""

    def row(nid: str, sent: str, event: str, ref: str, who: tuple[str, str, str, str], **extra: str) -> list[str]:
        values = dict.fromkeys(NOTIFICATION_FIELDS, "")
        values.update(notification_id=nid, sent_at=sent, event=event, incident_ref=ref, responsible_authority=AUTHORITY)
        values.update(zip(("child_id", "first_name", "last_name", "date_of_birth"), who, strict=True))
        values.update(extra)
        return [values[f] for f in NOTIFICATION_FIELDS]

    kira = ("", "Kira", "Vaughan", "2011-06-14")
    riley = ("", "Riley", "Holt", "2010-02-03")
    nobody = ("", "", "", "")
    rows = [
        row("DMG-0001", "2026-10-30T20:15:00", "lost", "KBP-2026-900001", kira,
            last_seen_at="2026-10-30T19:30:00", last_seen_location="Riverside Park", risk_level="medium"),
        row("DMG-0002", "30/10/2026 8.15pm", "missing", "KBP-2026-900002", kira,
            last_seen_at="2026-10-30T19:30:00", last_seen_location="Riverside Park", risk_level="medium"),
        row("DMG-0003", "2026-10-31T09:00:00", "found", "KBP-2026-900003", riley,
            last_seen_at="2026-10-31T06:00:00", found_at="2026-10-30T23:00:00", found_location="Mill Lane"),
        row("DMG-0004", "2026-10-31T10:00:00", "missing", "", riley,
            last_seen_at="2026-10-31T09:10:00", last_seen_location="Mill Lane", risk_level="low"),
        row("DMG-0005", "2026-10-31T11:00:00", "missing", "KBP-2026-900005", nobody,
            last_seen_at="2026-10-31T10:20:00", last_seen_location="Kingsbridge bus station", risk_level="high"),
        row("DMG-0006", "2026-03-29T03:10:00", "missing", "KBP-2026-900006", riley,
            last_seen_at="2026-03-29T01:30:00", last_seen_location="Victoria Road flats", risk_level="medium"),
        row("DMG-0007", "2026-10-31T18:40:00", "missing", "KBP-2026-900007", riley,
            last_seen_at="2026-10-31T17:55:00", last_seen_location="Kingsbridge Retail Park", risk_level="low",
            clothing="grey tracksuit, black cap", notes="Good row: seen with friends & cousin"),
        row("DMG-0008", "2026-10-31T23:05:00+00:00", "found", "KBP-2026-900007", riley,
            last_seen_at="2026-10-31T17:55:00", found_at="2026-10-31T22:40:00",
            found_location="Returned to placement of own accord"),
    ]  # fmt: skip
    write_csv(path, NOTIFICATION_FIELDS, rows)


# --------------------------------------------------------------------------------------------------------------
# The bundled sample: Kingsbridge, shaped like the Wolverhampton report
