"""The bundled sample's cast: who is in Kingsbridge's year, and the scripted episodes the rules must meet.

Forty children in care (most missing episodes fall to a heavy few, as in the Wolverhampton report), two UASC
children (one missing long term), children in need and on protection plans, care leavers assessed missing or
not in touch, children placed by other authorities, children the register does not know, and episodes across
both clock changes and still open at the sample's end.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from missing_episodes.clock import london_epoch, utc_epoch
from missing_episodes.synthetic.draws import pick, randint
from missing_episodes.synthetic.emitter import ChildRef, EpisodePlan
from missing_episodes.synthetic.register import birth_date
from missing_episodes.synthetic.timeline import DAY, HOUR, PERIOD_START, SAMPLE_AS_OF, sequence
from missing_episodes.synthetic.vocabulary import (
    AUTHORITY,
    FIRST_NAMES,
    LAST_NAMES,
    PERSONAL_ADVISERS,
    TEAM_MANAGERS,
    UASC_FIRST,
    UASC_LAST,
)

#: Missing episodes in the ten months for the 20 frequently missing children in care (3 or more each) ...
_HEAVY_COUNTS = (41, 32, 26, 22, 18, 15, 13, 11, 10, 9, 8, 7, 6, 6, 5, 5, 4, 4, 3, 3)
#: ... and for the other 20 (12 twice, 8 once): 280 in all, like Wolverhampton's 289 for 42.
_LIGHT_COUNTS = (2,) * 12 + (1,) * 8


@dataclass(slots=True)
class Cast:
    """One sample child and how their year goes."""

    ref: ChildRef
    missing: int = 0  # generic missing episodes in the ten months
    absent: int = 0
    before: int = 0  # missing episodes in November-December 2025
    pins: list[EpisodePlan] = field(default_factory=list)  # scripted episodes (times fixed)
    window: tuple[int, int] = (PERIOD_START, utc_epoch(2026, 10, 25))
    register: dict[str, Any] = field(default_factory=dict)
    decliner: bool = False


class _Names:
    """Draws unique (first, last, dob) triples so name + date-of-birth matching is never ambiguous by accident."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[tuple[str, str, str]] = set()

    def take(self, first: str, last: str, dob: str) -> tuple[str, str, str]:
        self.used.add((first, last, dob))
        return first, last, dob

    def draw(
        self, age: int, at: int, firsts: Sequence[str] = FIRST_NAMES, lasts: Sequence[str] = LAST_NAMES
    ) -> tuple[str, str, str]:
        while True:
            key = (pick(self.rng, firsts), pick(self.rng, lasts), birth_date(self.rng, age, at))
            if key not in self.used:
                self.used.add(key)
                return key


def _segments(lo: int, hi: int, pins: Sequence[EpisodePlan]) -> list[tuple[int, int]]:
    """The parts of ``[lo, hi)`` at least a day clear of every scripted episode."""
    segs, cursor = [], lo
    for pin in sorted(pins, key=lambda p: p.start):
        end = pin.end if pin.end is not None else SAMPLE_AS_OF
        if pin.start - DAY > cursor:
            segs.append((cursor, min(hi, pin.start - DAY)))
        cursor = max(cursor, end + DAY)
    if cursor < hi:
        segs.append((cursor, hi))
    return [(a, b) for a, b in segs if b - a > 3 * DAY]


def plan_cast(rng: random.Random, member: Cast) -> list[tuple[int, int, str]]:
    kinds = ["missing"] * member.missing + ["absent"] * member.absent
    rng.shuffle(kinds)
    segs = _segments(*member.window, member.pins)
    lengths = [b - a for a, b in segs]
    share: list[list[str]] = [[] for _ in segs]
    for kind in kinds:
        share[rng.choices(range(len(segs)), lengths)[0]].append(kind)
    out = [ep for (a, b), ks in zip(segs, share, strict=True) for ep in sequence(rng, ks, a, b)]
    if member.before:
        out = sequence(rng, ["missing"] * member.before, utc_epoch(2025, 11, 3), utc_epoch(2025, 12, 28)) + out
    return out


#: Who was spoken to, and how to reach them, for the steps the policy says must name them (Wokingham). Ofcom's
#: drama numbers: the sample authority is fictional.
POLICE_MISPER = ("PC Dana Shaw, Missing Persons Unit", "01632 960 555")
HOME_OFFICE = ("Sam Okafor, Home Office regional missing persons team", "01632 960 777")


def _leaver_steps(assessed: int, returned: int, advisor: str, *, former_uasc: bool) -> list[tuple]:
    """What a personal advisor records after assessing a care leaver missing (Wokingham), on time or nearly."""
    steps = [
        (assessed + 5 * HOUR, "police_reported", advisor, "", "Reported as a missing adult, photograph given",
         *POLICE_MISPER),
        (assessed + 26 * HOUR, "team_manager_notified", advisor, "", "Team manager told"),
        (assessed + 3 * DAY, "service_manager_notified", "Team Manager", "", "Service manager told"),
        (returned + 2 * DAY, "return_meeting_held", advisor, "", "Needs and placement discussed"),
    ]
    steps += [(assessed + k * 7 * DAY + 3 * HOUR, "weekly_review_held", "Assistant Manager", "", "Weekly review")
              for k in range(1, 8) if assessed + k * 7 * DAY < returned]
    if former_uasc:
        steps.append((assessed + 6 * HOUR, "home_office_notified", advisor, "", "Home Office told", *HOME_OFFICE))
    return steps


def build_cast(rng: random.Random) -> tuple[list[Cast], list[Cast]]:
    """Who is in the sample, with the scripted episodes; returns (with episodes, register-only)."""
    names = _Names(rng)
    ids = iter(range(101, 10_000))
    at = SAMPLE_AS_OF

    def child(status: str, age: int, *, name: tuple[str, str, str] | None = None, uasc: bool = False,
              authority: str = AUTHORITY, registered: bool = True) -> ChildRef:  # fmt: skip
        first, last, dob = name or (names.draw(age, at, UASC_FIRST, UASC_LAST) if uasc else names.draw(age, at))
        return ChildRef(f"P{next(ids):06d}", first, last, dob, status, uasc, authority, registered)

    heavy_counts = list(_HEAVY_COUNTS)
    light_counts = list(_LIGHT_COUNTS)
    tm, pa = TEAM_MANAGERS, PERSONAL_ADVISERS
    cast: list[Cast] = []

    # Named children in care: escaping and Unicode in the names every report and letter prints.
    special = [
        names.take("Zoë", "O'Brien", "2010-04-17"),
        names.take("Łukasz", "Kowalczyk", "2009-12-02"),
        names.take("Thanh", "Nguyễn", "2011-08-29"),
    ]
    lac: list[Cast] = []
    for i in range(38):
        name = special[i] if i < len(special) else None
        lac.append(Cast(child("looked_after", randint(rng, 12, 17), name=name)))
    # Two unaccompanied asylum-seeking children in care.
    uasc_long = Cast(child("looked_after", 16, uasc=True), register={"team": "Children in Care Team 3"})
    uasc_two = Cast(child("looked_after", 17, uasc=True), register={"team": "Children in Care Team 3"})
    lac += [uasc_long, uasc_two]

    # Counts: the heaviest go first so Zoë is one of the very frequent; the UASC children get 3 and 2.
    order = [c for c in lac if c not in (uasc_long, uasc_two)]
    heavy_counts.remove(3)
    light_counts.remove(2)
    uasc_long.missing, uasc_two.missing = 3, 2
    for member, count in zip(order, heavy_counts + light_counts, strict=True):
        member.missing = count
    for member in order[:3]:
        member.before = 3 - order.index(member)  # 3, 2, 1 episodes before January (rolling windows need history)
    for member in lac:
        if member.missing >= 10:
            member.window = (PERIOD_START, utc_epoch(2026, 10, 25))
        else:
            span = min(290 * DAY, max(35 * DAY, member.missing * randint(rng, 18, 45) * DAY))
            lo = PERIOD_START + randint(rng, 0, 295 * DAY - span) // DAY * DAY
            member.window = (lo, lo + span)
    heavy = [c for c in lac if c.missing >= 3]
    light = [c for c in lac if c.missing < 3]
    for member in rng.sample(heavy, 11) + rng.sample(light, 8):
        member.decliner = True  # Wolverhampton: 19 children declined, 11 of them missing three or more times

    def pin(member: Cast, start: int, end: int | None, **kw: Any) -> EpisodePlan:
        plan = EpisodePlan("", member.ref, kw.pop("kind", "missing"), start, end, **kw)
        member.pins.append(plan)
        if plan.kind == "missing" and member.missing:
            member.missing -= 1  # the scripted episode is one of the child's counted episodes
        return plan

    # Long-term missing UASC child: last seen mid-August, still missing at as_of (Surrey 28-day schedule).
    aug = london_epoch(2026, 8, 14, 19, 20)
    weekly = [
        (aug + d * DAY + 10 * HOUR, "", "", note)
        for d, note in (
            (1, "Enquiries continue; associates visited"),
            (3, "Possible sighting at Westmere coach station"),
            (9, "Home Office and NRM referral made; enquiries continue"),
            (16, "No trace; phone inactive since 15 August"),
            (30, "Case reviewed: long-term missing; enquiries continue"),
            (58, "Possible sighting at Eastbrook shopping centre; not confirmed"),
            (79, "Monthly review: enquiries continue"),
        )
    ]
    weekly.insert(1, (aug + 2 * DAY, "high", "", "Risk raised: concern about trafficking & exploitation"))
    surrey = [  # the long-term missing schedule's steps as the team records them (Surrey)
        (aug + 30 * HOUR, "intervention_meeting_held", "Service Manager", "", "Day 1 intervention meeting"),
        (aug + 31 * HOUR, "nrm_referral_made", "Social Worker", "", "NRM referral made"),
        (aug + 31 * HOUR, "home_office_notified", "Social Worker", "", "Home Office told", *HOME_OFFICE),
        (aug + 32 * HOUR, "serious_notification_sent", "Social Worker", "", "Cause for concern sent"),
        (aug + 7 * DAY + 4 * HOUR, "intervention_meeting_held", "Team Manager", "", "Week 1; IRO invited"),
        (aug + 14 * DAY + 4 * HOUR, "intervention_meeting_held", "Service Manager", "", "Week 2, multi-agency"),
        (aug + 28 * DAY + 4 * HOUR, "intervention_meeting_held", "Social Worker", "", "Week 4"),
        (aug + 61 * DAY + 4 * HOUR, "long_term_review_held", "Team Manager", "", "Monthly review in supervision"),
    ]
    pin(uasc_long, aug, None, risk="medium", updates=weekly, extra_outcomes=surrey,
        last_seen_location="Oakfield House, Kingsbridge",
        notes="Left placement after a phone call; has a Home Office reporting event next week")  # fmt: skip
    uasc_long.window = (PERIOD_START, utc_epoch(2026, 8, 1))
    uasc_two.window = (utc_epoch(2026, 2, 1), utc_epoch(2026, 7, 31))

    # Open > 72 hours: went missing Thursday night, risk raised on Saturday.
    thu = london_epoch(2026, 10, 29, 22, 15)
    long_open = order[5]
    raised = (london_epoch(2026, 10, 31, 11, 40), "high", "", "Seen getting into a car with older males")
    pin(long_open, thu, None, risk="medium", updates=[raised])
    long_open.window = (PERIOD_START, utc_epoch(2026, 10, 22))

    # Media interest: a long July episode.
    media = order[1]
    jul = london_epoch(2026, 7, 3, 17, 30)
    pin(media, jul, jul + 60 * HOUR, risk="high", extra_outcomes=[
        (jul + 30 * HOUR, "media_interest", tm[0], "Local paper asking about a missing teenager", "Press office told"),
        (jul + 32 * HOUR, "serious_notification_sent", tm[0], "Media interest", "")])  # fmt: skip

    # Across the clock changes (the real elapsed hours differ from the wall clock by one).
    spring = [order[20], order[21]]
    pin(spring[0], london_epoch(2026, 3, 28, 23, 10), london_epoch(2026, 3, 29, 3, 20))
    pin(spring[1], utc_epoch(2026, 3, 29, 0, 40), london_epoch(2026, 3, 29, 11, 0), risk="medium")
    autumn = [order[22], order[23]]
    # Found in the repeated hour (01:35 GMT, the second 01:35): written with its offset.
    pin(autumn[0], london_epoch(2026, 10, 24, 21, 45), utc_epoch(2026, 10, 25, 1, 35))
    # Last seen in the first 01:20 (BST), found next afternoon: over 24 hours.
    pin(autumn[1], utc_epoch(2026, 10, 25, 0, 20), london_epoch(2026, 10, 26, 15, 0), risk="medium")
    for member in spring:
        member.window = (utc_epoch(2026, 1, 5), utc_epoch(2026, 10, 20))
    for member in autumn:
        member.window = (PERIOD_START, utc_epoch(2026, 10, 22))

    # Absent, opened this morning.
    pin(order[7], london_epoch(2026, 11, 2, 6, 50), None, kind="absent", risk="no_apparent_risk",
        last_seen_location="Foster carers, Kingsbridge",
        notes="Did not come home from a friend's sleepover")  # fmt: skip
    cast += lac

    # Children in need and on child protection plans, missing from home; one high-risk open since last night.
    home = [Cast(child("child_in_need", randint(rng, 11, 16), name=names.take("Σοφία", "Παπαδάκη", "2012-05-09")))]
    home += [Cast(child("child_in_need", randint(rng, 11, 16))) for _ in range(2)]
    home += [Cast(child("child_protection", randint(rng, 12, 16))) for _ in range(2)]
    for member, count in zip(home, (3, 2, 1, 2, 1), strict=True):
        member.missing = count
        member.window = (utc_epoch(2026, 2, 1), utc_epoch(2026, 10, 20))
    sun = london_epoch(2026, 11, 1, 21, 40)
    pin(home[4], sun, None, risk="high", last_seen_location="Kingsbridge railway station",
        notes="Threatened self-harm in messages to a friend",
        updates=[(london_epoch(2026, 11, 2, 6, 10), "", "", "Phone pinged near Kingsbridge railway station")],
    )  # fmt: skip
    cast += home

    # Care leavers: missing versus not in touch (Wokingham).
    leavers = [Cast(child("care_leaver", a)) for a in (18, 20)]
    leavers.append(Cast(child("care_leaver", 19, uasc=True)))
    may = london_epoch(2026, 5, 10, 16, 0)
    pin(leavers[0], may, may + 70 * HOUR, standard_outcomes=False, extra_outcomes=[
        (may + 40 * HOUR, "assessed_missing", pa[0],
         "Not seen for two days, phone off; exploitation concerns; police report made", ""),
        (may + 74 * HOUR, "returned", pa[0], "", "Return meeting held at the flat"),
        *_leaver_steps(may + 40 * HOUR, may + 74 * HOUR, pa[0], former_uasc=False)])  # fmt: skip
    jun = london_epoch(2026, 6, 2, 11, 0)
    jul15 = london_epoch(2026, 7, 15, 9, 30)
    pin(leavers[1], jul15, jul15 + 6 * DAY, standard_outcomes=False, extra_outcomes=[
        (jun, "assessed_not_in_touch", pa[1],
         "No contact for six weeks but seen by housing officer; no safeguarding concerns; letter & texts sent", ""),
        (jul15 + 3 * HOUR, "assessed_missing", pa[1],
         "Landlord reports flat abandoned, belongings left; police report made", "Team manager informed"),
        (jul15 + 6 * DAY + 5 * HOUR, "returned", pa[1], "", "Staying with a friend in Westmere"),
        (jun + 3 * DAY, "written_confirmation_sent", pa[1], "", "Letter: support can be asked for until 25"),
        *_leaver_steps(jul15 + 3 * HOUR, jul15 + 6 * DAY + 5 * HOUR, pa[1], former_uasc=False)])  # fmt: skip
    sep = london_epoch(2026, 9, 22, 14, 0)
    pin(leavers[2], sep, sep + 11 * DAY, standard_outcomes=False, extra_outcomes=[
        (sep + 5 * DAY, "assessed_missing", pa[0],
         "Not at accommodation five days; Home Office reporting event missed; police & Home Office informed", ""),
        (sep + 11 * DAY + 4 * HOUR, "returned", pa[0], "", "Home Office informed of return"),
        *_leaver_steps(sep + 5 * DAY, sep + 11 * DAY + 4 * HOUR, pa[0], former_uasc=True)])  # fmt: skip
    for member in leavers:
        member.window = (0, 0)
    cast += leavers

    # Placed in Kingsbridge by other authorities: recorded and forwarded, not in our figures.
    placed = [
        Cast(child("looked_after", randint(rng, 13, 17), authority=a), missing=m, absent=ab)
        for a, m, ab in (("Northfield", 3, 1), ("Northfield", 2, 1), ("Eastbrook", 4, 0))
    ]
    for member in placed:
        member.window = (utc_epoch(2026, 1, 10), utc_epoch(2026, 10, 15))
        member.register = {"distance": rng.uniform(25, 45), "placement": "Residential: Oakfield House, Kingsbridge"}
    cast += placed

    # Not on our register at all: the police send name and date of birth only.
    strangers = [
        Cast(child("none", 15, name=names.take("Renée", "Doyle", "2011-01-23"), registered=False), missing=1),
        Cast(child("none", 14, authority="", registered=False), missing=1),
    ]
    strangers[0].absent = 1
    for member in strangers:
        member.window = (utc_epoch(2026, 4, 1), utc_epoch(2026, 10, 10))
    cast += strangers

    # Absent episodes: about 40 in all (one already pinned above).
    absent_pool = [c for c in lac if c.missing] + home
    for member in rng.sample(absent_pool, 18):
        member.absent += 1
    for member in rng.sample(absent_pool, 18):
        member.absent += 1

    register_only = [Cast(child("looked_after", randint(rng, 8, 17))) for _ in range(8)]
    return cast, register_only
