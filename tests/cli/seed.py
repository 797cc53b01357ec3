"""A small worklist and quarantine for the command-line tests (no tests here), stored with the ORM, no Prefect.

Three children in two teams, one episode each, five actions due at known London times around AS_OF, one of them
closed; feed values carry rich markup (``[/bold]``, ``[/x]``) and a spreadsheet formula, as hostile feeds do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from missing_episodes.clock import LONDON, UTC
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Child, Episode, Quarantine

AS_OF = "2026-11-02T08:30"
MARKUP_INCIDENT = "[/bold]"
FORMULA_CHILD = "=HYPERLINK(\"http://x\")"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time in November 2026 as an aware UTC instant."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def seed(url: str) -> None:
    with session_scope(url) as session:
        children = [
            Child(ref="CH-AAAAAAAAAAAA", person_id="P000101", first_name="Zoë", last_name="[bold]Okafor[/bold]",
                  date_of_birth=date(2011, 3, 14), allocated_worker="Sam Patel", team="Team North"),
            Child(ref="CH-BBBBBBBBBBBB", person_id=FORMULA_CHILD, first_name="Amir", last_name="Shah",
                  date_of_birth=date(2010, 5, 1), allocated_worker="Jo Lee", team="Team South"),
            Child(ref="CH-CCCCCCCCCCCC", person_id="P000303", first_name="Ella", last_name="Ward",
                  date_of_birth=date(2012, 1, 9), allocated_worker="Sam Patel", team="Team North"),
        ]
        session.add_all(children)
        session.flush()
        incidents = (MARKUP_INCIDENT, "KBP-2026-000002", "KBP-2026-000003")
        episodes = []
        for number, (child, incident) in enumerate(zip(children, incidents, strict=True), start=1):
            episode = Episode(ref=f"EP-00000000000{number}", source="police", incident_ref=incident,
                              child_id=child.id, kind="missing", status="returned", started_at=at(1, 9),
                              last_seen_at=at(1, 9), found_at=at(1, 20), state_hash="x")
            session.add(episode)
            episodes.append(episode)
        session.flush()
        rows = [  # episode, kind, due, status, assigned_to
            (0, "return_home_interview", at(1, 12), "open", "Rhi Worker"),  # overdue, due earliest
            (1, "strategy_meeting", at(2, 7), "open", None),  # overdue, due later
            (2, "return_home_interview", at(4, 20), "open", "Sam Patel"),  # open, due on the 4th
            (0, "strategy_meeting", at(3, 9), "open", None),  # open, due on the 3rd
            (1, "return_home_interview", at(1, 10), "done", "Jo Lee"),  # closed before as_of
        ]
        for number, (index, kind, due, status, assigned) in enumerate(rows):
            episode = episodes[index]
            session.add(Action(
                key=f"{episode.ref}:{kind}:{number}", child_id=episode.child_id, episode_id=episode.id, kind=kind,
                rule_id=f"rule-{kind}", policy_version="test", trigger_at=at(1, 9), due_at=due, status=status,
                done_at=at(1, 11) if status == "done" else None, assigned_to=assigned, actor="Team Manager"))
        for number in range(1, 8):  # oldest first: row 7 is the newest
            session.add(Quarantine(
                source="police", feed="notifications", origin="notifications.csv", row_number=number,
                field="sent_at", reason=f"[/x] is not a time (row {number})",
                raw=f'{{"sent_at": "[/x]", "message_id": "M{number}"}}',
                raw_hash=f"hash-{number}", received_at=at(1, 9) + timedelta(minutes=number)))
