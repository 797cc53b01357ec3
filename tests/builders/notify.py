"""A day of actions for the notification tests (no tests here): Monday 2 November 2026, London time (GMT), with
an action for each kind of message, and the table of what each person must be told, worked out by hand from the
default policy (``hours`` 09:00-17:00; ``escalation`` ladder Team Manager, Service Manager, Head of Service; delays
per kind) and the staff and rota files in ``data/``.

The simulated day runs from Monday 08:00 to Tuesday 08:00: notifications start at the first run (08:00), so
nothing before it is told; events out of office hours go to the rota's on-call contact (Ray Morgan, 17:00-09:00)
and reach the day staff only at Tuesday 09:00, after the day ends.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from missing_episodes.clock import LONDON, UTC
from missing_episodes.db.models import Action, Child, Episode


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


DAY_START = local(11, 2, 8)
#: Every run of the simulated day: 08:00 Monday to 08:00 Tuesday in 15-minute steps (97 runs).
STEPS = [DAY_START + timedelta(minutes=15 * i) for i in range(97)]
#: When the RHI of action ``RHI-B`` changes hands (Callum Reid to Grace Okafor).
REASSIGNED_AT = local(11, 2, 13)

HELEN = "helen.marsh@kingsbridge.example"  # Team Manager, Children in Care Team 1
FIONA = "fiona.grant@kingsbridge.example"  # Team Manager, Leaving Care Service
MARTIN = "martin.hale@kingsbridge.example"  # Service Manager
RAY = "ray.morgan@kingsbridge.example"  # on call 17:00 Monday to 09:00 Tuesday
PRIYA = "priya.sandhu@kingsbridge.example"
CALLUM = "callum.reid@kingsbridge.example"
GRACE = "grace.okafor@kingsbridge.example"

#: (action key, recipient, reason) -> the run (local time) at which it must arrive. Worked out by hand:
EXPECTED = {
    # RHI due (72 h) at 10:00, overdue: the interviewer; the RHI ladder's first level (Team Manager, +0 h) too.
    # The Service Manager's turn (+24 h) is Tuesday 10:00, after the day.
    ("EP-AMY:rhi.within_72h_of_return", PRIYA, "overdue"): local(11, 2, 10),
    ("EP-AMY:rhi.within_72h_of_return", HELEN, "escalation:Team Manager"): local(11, 2, 10),
    # High-risk strategy meeting falls due at 11:00 (due within 24 h): the actor is the Team Manager, told once.
    ("EP-AMY:strategy.high_risk", HELEN, "due"): local(11, 2, 11),
    # Serious notification at 12:00 (due at once): the Team Manager, and its form; the ladder for serious
    # notifications is +0 h (the same moment: no second message), +2 h Service Manager (14:00, in hours),
    # +6 h Head of Service (18:00: out of hours, so the on-call contact).
    ("EP-AMY:serious.missing_72h", HELEN, "due"): local(11, 2, 12),
    ("EP-AMY:serious.missing_72h", HELEN, "form"): local(11, 2, 12),
    ("EP-AMY:serious.missing_72h", MARTIN, "escalation:Service Manager"): local(11, 2, 14),
    ("EP-AMY:serious.missing_72h", RAY, "escalation:Head of Service"): local(11, 2, 18),
    # An RHI allocated to Callum Reid falls due at 09:30: Callum and the child's Team Manager; at 13:00 it is
    # given to Grace Okafor, who is told it is now hers.
    ("EP-BEN:rhi.within_72h_of_return", CALLUM, "due"): local(11, 2, 9, 30),
    ("EP-BEN:rhi.within_72h_of_return", HELEN, "due"): local(11, 2, 9, 30),
    ("EP-BEN:rhi.within_72h_of_return", GRACE, "reassigned"): local(11, 2, 13),
    # A care leaver assessed missing at 19:00: the police report falls due out of hours: the on-call contact.
    ("CH-CARA:care_leaver.police_report:EV-1", RAY, "due"): local(11, 2, 19),
}


def _child(session: Session, ref: str, first: str, last: str, **extra: object) -> Child:
    values: dict[str, object] = {"legal_status": "looked_after", "date_of_birth": date(2011, 3, 14),
                                 "allocated_worker": "Kirsty Fenwick", "team": "Children in Care Team 1"}
    values.update(extra)
    child = Child(ref=ref, first_name=first, last_name=last, **values)
    session.add(child)
    session.flush()
    return child


def _episode(session: Session, ref: str, child: Child, started: datetime) -> Episode:
    episode = Episode(ref=ref, source="police", incident_ref=f"KBP-2026-{ref[-3:]}", child_id=child.id,
                      kind="missing", status="open", started_at=started, last_seen_at=started, reported_at=started,
                      risk_level="high", state_hash="x")
    session.add(episode)
    session.flush()
    return episode


def _action(session: Session, key: str, child: Child, episode: Episode | None, kind: str, rule: str,
            trigger: datetime, due: datetime, actor: str, **extra: object) -> Action:
    action = Action(key=key, child_id=child.id, episode_id=episode.id if episode else None, kind=kind, rule_id=rule,
                    policy_version="2026.11", trigger_at=trigger, due_at=due, actor=actor, **extra)
    session.add(action)
    return action


def seed_day(session: Session) -> None:
    """The actions behind ``EXPECTED`` (and some that must produce nothing)."""
    amy = _child(session, "CH-AMY", "Amy", "Ashdown-Birch")
    amy_ep = _episode(session, "EP-AMY", amy, local(10, 30, 9))
    _action(session, "EP-AMY:rhi.within_72h_of_return", amy, amy_ep, "return_home_interview",
            "rhi.within_72h_of_return", local(10, 30, 10), local(11, 2, 10), "Return Interview Team",
            assigned_to="Priya Sandhu")
    _action(session, "EP-AMY:strategy.high_risk", amy, amy_ep, "strategy_meeting", "strategy.high_risk",
            local(11, 2, 11), local(11, 3, 11), "Team Manager")
    _action(session, "EP-AMY:serious.missing_72h", amy, amy_ep, "serious_notification", "serious.missing_72h",
            local(11, 2, 12), local(11, 2, 12), "Team Manager")
    ben = _child(session, "CH-BEN", "Ben", "Carrow-Dale")
    ben_ep = _episode(session, "EP-BEN", ben, local(10, 31, 9))
    _action(session, "EP-BEN:rhi.within_72h_of_return", ben, ben_ep, "return_home_interview",
            "rhi.within_72h_of_return", local(11, 2, 9, 30), local(11, 5, 9, 30), "Return Interview Team",
            assigned_to="Callum Reid")
    cara = _child(session, "CH-CARA", "Cara", "Dunmore", legal_status="care_leaver", allocated_worker="Aisha Rahman",
                  team="Leaving Care Service", date_of_birth=date(2006, 5, 1))
    _action(session, "CH-CARA:care_leaver.police_report:EV-1", cara, None, "police_report",
            "care_leaver.police_report", local(11, 2, 19), local(11, 3, 19), "Personal Advisor")
    # Nothing from these: done before it fell due; fell due long before notifications began; falls due after the day.
    _action(session, "EP-BEN:strategy.missing_24h", ben, ben_ep, "strategy_meeting", "strategy.missing_24h",
            local(11, 2, 15), local(11, 2, 15), "Team Manager", status="done", done_at=local(11, 2, 14))
    _action(session, "EP-BEN:old", ben, ben_ep, "return_home_interview", "rhi.within_72h_of_return",
            local(9, 1, 10), local(9, 4, 10), "Return Interview Team", assigned_to="Callum Reid")
    _action(session, "EP-AMY:strategy.missing_72h", amy, amy_ep, "strategy_meeting", "strategy.missing_72h",
            local(11, 3, 9), local(11, 3, 9), "Team Manager")
    session.flush()
