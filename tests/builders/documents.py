"""Known data for the document tests (no tests here): a Monday briefing straddling the October clock change.

The briefing is Monday 26 October 2026 at 08:30 GMT; clocks went back at 02:00 BST on Sunday 25 October, and
the last briefing was Friday 23 October at 08:30 BST. Names carry the characters the escaping test needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from missing_episodes.clock import LONDON, UTC
from missing_episodes.db.models import Action, Child, ContactLog, Episode

BRIEFING_DAY = date(2026, 10, 26)
AS_OF = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # 08:30 GMT
HOSTILE_LAST = "O'Brien & <script>alert(1)</script>"
HOSTILE_NAME = f"Zoë {HOSTILE_LAST}"
HOSTILE_PLACE = 'Bus station "Stand 4" & <b>car park</b>'
GREEK = "Σοφία Παπαδοπούλου"
VIETNAMESE = "Nguyễn Văn An"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Europe/London wall-clock time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@dataclass
class Seeded:
    refs: dict[str, str]


def _child(session: Session, ref: str, first: str, last: str, **extra: object) -> Child:
    defaults: dict[str, object] = {
        "legal_status": "looked_after",
        "date_of_birth": date(2011, 3, 14),
        "allocated_worker": "Sam Patel",
        "team": "Children in Care Team 2",
        "placement": "Larch House children's home",
    }
    defaults.update(extra)
    child = Child(ref=ref, first_name=first, last_name=last, **defaults)
    session.add(child)
    session.flush()
    return child


def _episode(session: Session, ref: str, child: Child, started: datetime, **extra: object) -> Episode:
    found = extra.get("found_at")
    values: dict[str, object] = {
        "source": "police",
        "incident_ref": f"WYP-{ref}",
        "kind": "missing",
        "status": "returned" if found else "open",
        "last_seen_at": started,
        "reported_at": started + timedelta(hours=1),
        "risk_level": "medium",
        "state_hash": "x",
    }
    values.update(extra)
    episode = Episode(ref=ref, child_id=child.id, started_at=started, **values)
    session.add(episode)
    session.flush()
    return episode


def _action(
    session: Session, episode: Episode, rule: str, kind: str, trigger: datetime, due: datetime, **extra: object
) -> Action:
    action = Action(
        key=f"{episode.ref}:{rule}",
        child_id=episode.child_id,
        episode_id=episode.id,
        kind=kind,
        rule_id=rule,
        policy_version="2026.11",
        trigger_at=trigger,
        due_at=due,
        **extra,
    )
    session.add(action)
    return action


def seed_briefing(session: Session) -> None:
    """Seven children, each landing in known sections of the 26 October 2026 briefing."""
    # 1. Missing now across the clock change: last seen Sat 24 Oct 20:00 BST -> 37 h 30 min real time at 08:30 GMT.
    zoe = _child(
        session,
        "CH-ZOE",
        "Zoë",
        HOSTILE_LAST,
        photo_ref="photo://CH-ZOE/2026-09",
        phone="07700 900123",
        contacts="Aunt Mary & Uncle Joe\nFriend: Kai",
        likely_locations=f"{HOSTILE_PLACE}\nLeeds city centre",
        return_address="Larch House, 1 Larch Road, WF1 1AA",
    )
    zoe_ep = _episode(
        session,
        "EP-ZOE",
        zoe,
        local(2026, 10, 24, 20),
        risk_level="high",
        last_seen_location=HOSTILE_PLACE,
        clothing="Black hoodie & white trainers",
    )
    _action(
        session,
        zoe_ep,
        "strategy.missing_24h",
        "strategy_meeting",
        local(2026, 10, 25, 19, 0),
        local(2026, 10, 25, 19, 0),
        actor="Team Manager",
    )
    session.add(
        ContactLog(
            key="c1",
            episode_id=zoe_ep.id,
            child_id=zoe.id,
            at=local(2026, 10, 24, 21, 30),
            direction="contacted",
            who="Aunt Mary <mary@example.org>",
            shared="Not seen her & worried",
        )
    )

    # 2. Returned Fri 23 Oct, notified Thu 22 Oct 23:00 BST: RHI due 72 h later (Sun 22:00 GMT), overdue by Monday.
    sofia = _child(session, "CH-SOFIA", "Σοφία", "Παπαδοπούλου", allocated_worker="Dana Kowalski")
    sofia_ep = _episode(
        session,
        "EP-SOFIA",
        sofia,
        local(2026, 10, 22, 18),
        found_at=local(2026, 10, 22, 22, 30),
        return_notified_at=local(2026, 10, 22, 23),
    )
    _action(
        session,
        sofia_ep,
        "rhi.within_72h_of_return",
        "return_home_interview",
        local(2026, 10, 22, 23),
        local(2026, 10, 25, 22),
        assigned_to="Jo Reed",
        actor="Return Interview Team",
    )

    # 3. Reported since Friday, found Sunday: RHI open (due Wed); 4 missing in 28 days (+1 absent, not counted).
    an = _child(session, "CH-AN", "Nguyễn", "Văn An", allocated_worker="Priya Shah")
    for number, day in enumerate((2, 9, 16), start=1):
        _episode(session, f"EP-AN-{number}", an, local(2026, 10, day, 19), found_at=local(2026, 10, day, 23))
    _episode(session, "EP-AN-ABS", an, local(2026, 10, 20, 19), kind="absent", found_at=local(2026, 10, 20, 21))
    an_ep = _episode(
        session,
        "EP-AN-4",
        an,
        local(2026, 10, 24, 16),
        found_at=local(2026, 10, 25, 15),
        return_notified_at=local(2026, 10, 25, 15),
    )
    _action(
        session,
        an_ep,
        "rhi.within_72h_of_return",
        "return_home_interview",
        local(2026, 10, 25, 15),
        local(2026, 10, 28, 15),
        assigned_to="Jo Reed",
    )
    _action(
        session,
        an_ep,
        "strategy.four_in_28_days",
        "strategy_meeting",
        local(2026, 10, 24, 16),
        local(2026, 10, 24, 16),
        actor="Team Manager",
    )

    # 4. Placed here by Leeds: missing now, only in the forwarding section (even with an action on it).
    liam = _child(session, "CH-LIAM", "Liam", "Leeds-Placed", responsible_authority="Leeds City Council")
    liam_ep = _episode(
        session,
        "EP-LIAM",
        liam,
        local(2026, 10, 25, 12),
        other_authority=True,
        responsible_authority="Leeds City Council",
        last_seen_location="Wakefield Westgate station",
    )
    for number, day in enumerate((5, 12, 19), start=1):
        _episode(
            session,
            f"EP-LIAM-{number}",
            liam,
            local(2026, 10, day, 19),
            other_authority=True,
            found_at=local(2026, 10, day, 22),
        )
    _action(
        session, liam_ep, "strategy.missing_24h", "strategy_meeting", local(2026, 10, 26, 12), local(2026, 10, 26, 12)
    )
    _action(
        session, liam_ep, "strategy.high_risk", "strategy_meeting", local(2026, 10, 25, 13), local(2026, 10, 26, 13)
    )

    # 5. Three missing episodes in 28 days: repeat, no strategy threshold.
    ava = _child(session, "CH-AVA", "Ava", "Brown")
    for number, day in enumerate((3, 10, 17), start=1):
        _episode(session, f"EP-AVA-{number}", ava, local(2026, 10, day, 20), found_at=local(2026, 10, day, 23))

    # 6. Missing since Wed 21 Oct: serious notification and 72-hour strategy meeting due.
    tom = _child(session, "CH-TOM", "Tom", "Green", team="Children in Care Team 1")
    tom_ep = _episode(session, "EP-TOM", tom, local(2026, 10, 21, 10), reported_at=local(2026, 10, 21, 12))
    _action(
        session,
        tom_ep,
        "serious.missing_72h",
        "serious_notification",
        local(2026, 10, 24, 10),
        local(2026, 10, 24, 10),
        actor="Team Manager",
        recipients="Relevant Heads of Service; Service Director; Director of Children's Services",
    )
    _action(
        session,
        tom_ep,
        "strategy.missing_72h",
        "strategy_meeting",
        local(2026, 10, 24, 10),
        local(2026, 10, 24, 10),
        status="done",
        done_at=local(2026, 10, 24, 15),
        done_by="TM",
    )

    # 7. Found long before the last briefing, RHI done: in no section.
    old = _child(session, "CH-OLD", "Olive", "Done")
    old_ep = _episode(session, "EP-OLD", old, local(2026, 9, 1, 10), found_at=local(2026, 9, 2, 10))
    _action(
        session,
        old_ep,
        "rhi.within_72h_of_return",
        "return_home_interview",
        local(2026, 9, 2, 10),
        local(2026, 9, 5, 10),
        status="done",
        done_at=local(2026, 9, 4, 10),
    )

    # A care leaver who said they want no service (the Wokingham letter).
    _child(
        session,
        "CH-LEAVER",
        "Σοφία",
        "O'Brien & <Nguyễn>",
        legal_status="care_leaver",
        date_of_birth=date(2006, 2, 28),
        allocated_worker="Chris Ng (PA)",
        return_address="Flat 2 & 3\n9 Rose St",
    )
    session.flush()
