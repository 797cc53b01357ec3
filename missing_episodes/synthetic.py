"""Deterministic synthetic feeds: a child register, police notifications and case outcomes.

No real child's record can ever be shipped or used to test, so every demo, test and benchmark runs on data made
here. Two configurations share one episode-emitting core (``_Emitter``):

* ``generate_sample`` writes the bundled sample of the fictional authority *Kingsbridge*: one year shaped like the
  Wolverhampton board report (seed 002: ~280 missing episodes for ~40 children in care, about half of them with
  three or more, ~30% of return interviews declined and ~61% completed), plus the awkward cases the rules must
  meet (UASC and long-term missing, care leavers, children placed by other authorities, children not on the
  register, clock changes, open episodes at ``as_of``).
* ``generate_region`` scales the same emitter to a decade of a region for benchmarks, streaming rows to disk
  through small heaps so memory stays flat however many episodes are asked for.

Every instant is held as integer seconds since the Unix epoch (UTC) and only turned into text when a row is
written, in the mix of forms a police feed really sends: mostly naive Europe/London local time, some with an
explicit offset, some in UTC with ``Z``. A naive time is only emitted when it names exactly one instant, so the
second 01:xx of the autumn clock change is always written with its offset. Same seed, same bytes: only
``random.Random(seed)`` draws are used, no set or hash order reaches the output, and CSV lines end in ``\\n``.
"""

from __future__ import annotations

import calendar
import csv
import heapq
import json
import random
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from missing_episodes.feeds import NOTIFICATION_FIELDS  # the contract's columns, in order

__all__ = [
    "AUTHORITY",
    "CHILD_FIELDS",
    "NOTIFICATION_FIELDS",
    "OUTCOME_FIELDS",
    "ROSTER",
    "ROSTER_FIELDS",
    "SAMPLE_AS_OF",
    "format_time",
    "generate_region",
    "generate_sample",
    "sample_figures",
    "write_damaged",
    "write_roster",
]

# --------------------------------------------------------------------------------------------------------------
# Contracts
# --------------------------------------------------------------------------------------------------------------

CHILD_FIELDS = (
    "child_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "legal_status",
    "uasc",
    "responsible_authority",
    "allocated_worker",
    "team",
    "placement_distance_miles",
    "placement",
    "photo_ref",
    "contacts",
    "likely_locations",
    "phone",
    "return_address",
)
OUTCOME_FIELDS = ("event_id", "recorded_at", "child_id", "incident_ref", "event", "by", "rationale", "notes")
ROSTER_FIELDS = ("worker", "team", "capacity")

AUTHORITY = "Kingsbridge"
OTHER_AUTHORITIES = ("Northfield", "Eastbrook", "Westmere", "Southholm", "Ashcombe")
FORCE = "KBP"  # Kingsbridge & District Police: the prefix of every incident reference and message id

#: Return Interview Team: fake workers, each with how many open interviews they can hold.
ROSTER: tuple[tuple[str, str, int], ...] = (
    ("Priya Sandhu", "Return Interview Team", 8),
    ("Callum Reid", "Return Interview Team", 6),
    ("Joanne Whitfield", "Return Interview Team", 10),
    ("Marek Nowak", "Return Interview Team", 7),
    ("Grace Okafor", "Return Interview Team", 9),
)

HOUR = 3600
DAY = 86400
MIN_GAP = 2 * HOUR  # a child is back for at least this long between two episodes


def _epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, minute, 0))


def _randint(rng: random.Random, a: int, b: int) -> int:
    """``rng.randint`` at a third of the cost (millions of draws in a region); still only ``rng.random()``."""
    return a + int(rng.random() * (b - a + 1))


def _pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return options[int(rng.random() * len(options))]


#: The sample feed stops here: Monday 2 November 2026, 08:30 in London (GMT, so also 08:30 UTC).
SAMPLE_AS_OF = _epoch(2026, 11, 2, 8, 30)
PERIOD_START = _epoch(2026, 1, 1)
PERIOD_END = _epoch(2026, 11, 1)  # the sample's ten months end at the close of 31 October

# --------------------------------------------------------------------------------------------------------------
# Built-in vocabularies (fake names only; a few test escaping and Unicode)
# --------------------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aaliyah", "Aiden", "Amelia", "Archie", "Ava", "Bailey", "Brandon", "Caleb", "Chloe", "Connor", "Daisy",
    "Demi", "Ella", "Ethan", "Evie", "Freya", "Harley", "Isla", "Jamal", "Jayden", "Jessica", "Kacper", "Kai",
    "Kayden", "Keira", "Kofi", "Leah", "Leon", "Lily", "Logan", "Maisie", "Mason", "Mia", "Nathan", "Olivia",
    "Oscar", "Paige", "Precious", "Reece", "Renée", "Riley", "Ruby", "Ryan", "Shanice", "Sienna", "Siobhán",
    "Tyler", "Yasmin", "Zoë", "Łukasz", "Σοφία", "Ayşe", "Thanh", "Minh",
)  # fmt: skip
LAST_NAMES = (
    "Ashworth", "Barker", "Begum", "Bennett", "Brennan", "Carter", "Clarke", "Dawson", "Doyle", "Dunn", "Ellis",
    "Fenwick", "Fletcher", "Foster", "Gallagher", "Garside", "Hart", "Hayes", "Holt", "Hughes", "Hussain",
    "Jarvis", "Kaur", "Kowalczyk", "Lambert", "Lloyd", "Marsh", "Mensah", "Moss", "Nguyễn", "Nowak", "O'Brien",
    "O'Connor", "Okafor", "Osei", "Parry", "Pearce", "Price", "Quinn", "Reid", "Rowe", "Shaw", "Stone",
    "Thornton", "Underwood", "Vaughan", "Walsh", "Webb", "Whitaker", "Yilmaz", "Παπαδάκη",
)  # fmt: skip
UASC_FIRST = ("Dawit", "Ahmad", "Mohamed", "Rahim", "Tariq", "Amir", "Yonas", "Samir")
UASC_LAST = ("Tesfaye", "Rahimi", "Haile", "Ahmadi", "Osman", "Karimi", "Berhane")

SOCIAL_WORKERS = (
    "Sam Whitfield", "Nadia Hussain", "Gareth Lloyd", "Becky Barnes", "Olu Adeyemi", "Kirsty Fenwick",
    "Imran Malik", "Hannah Price",
)  # fmt: skip
TEAM_MANAGERS = ("Helen Brooks", "Marcus Dunn", "Ruth Ashby")
PERSONAL_ADVISERS = ("Jo Barker", "Aisha Rahman")
COORDINATOR = "Leanne Garside"
TEAMS = {
    "looked_after": ("Children in Care Team 1", "Children in Care Team 2", "Children in Care Team 3"),
    "child_in_need": ("Safeguarding & Family Support",),
    "child_protection": ("Safeguarding & Family Support",),
    "care_leaver": ("Leaving Care Service",),
    "none": ("Early Help",),
}

PLACES = (
    "Kingsbridge bus station", "Riverside Park", "Market Street, outside the chicken shop", "Mill Lane",
    "Kingsbridge Retail Park", "Kingsbridge railway station", "St Anne's Academy gates", "canal towpath by Lock 7",
    "Victoria Road flats", "Westmere city centre", "Northfield skate park", "Eastbrook shopping centre",
)  # fmt: skip
FOUND_FORMS = (
    "Returned to placement of own accord",
    "Found by police at {place}",
    "Collected by carer from {place}",
    "Handed in at Kingsbridge police station",
    "Located at friend's address & returned by police",
    "Found by police at {place}; taken home",
)
CLOTHING = (
    "black puffer jacket, grey joggers, white trainers",
    "school uniform (navy blazer, grey trousers)",
    "red hoodie, blue jeans, black trainers",
    'green parka, black leggings, "Nike" bag',
    "grey tracksuit, black cap",
    "pink coat, denim skirt, white trainers",
)
NOTES = (
    "seen with friends & cousin",
    "Believed to be with older males; possible exploitation concerns",
    'Told carer she was "going to the shop", did not return',
    "Phone switched off; known to travel to Westmere",
    "Left after an argument at placement",
    "Did not return from school; last seen at the bus stop",
    "Known associates checked, no trace",
)
UPDATE_NOTES = (
    "Possible sighting at {place}",
    "Phone briefly on near {place}",
    "Enquiries continue; associates visited",
    "Seen getting into a car with older males",
    "Social media activity overnight",
    "Friend reports he is staying with a cousin & safe",
)
RHI_NOTES = (
    "Push factors: conflict with other young people at placement",
    "Pull factors: friends in Westmere; no disclosures of exploitation",
    "Spent the night at a friend's; information shared with police",
    "Discussed safety plan & Find Me plan with young person",
)
DECLINE_RATIONALE = (
    "Young person declined interview; offered again by phone & text",
    "Declined; spoke briefly with carer present",
    "Declined to engage; advocacy service offered",
)
LATE_RATIONALE = (
    "Young person not available until day 5",
    "Placement out of area; virtual interview arranged after 72 hours",
    "Young person unwell; interview rescheduled",
)
NOT_REQUIRED_RATIONALE = (
    "Strategy discussion held recently covers the current pattern; no new risk",
    "Returned within hours; MACE plan reviewed this week instead",
    "Pattern known; Find Me plan updated; team manager agreed no meeting needed",
)
STREETS = ("Elm Road", "Canal Street", "Mill Lane", "Victoria Road", "Church Walk", "Station Approach")
PLACEMENTS_NEAR = (
    "Residential: Oakfield House, Kingsbridge",
    "Foster carers, Kingsbridge",
    "Foster carers (agency), Kingsbridge",
    "Semi-independent: Canal Street Project",
)
PLACEMENTS_FAR = (
    "Residential: The Willows, Eastbrook (out of area)",
    "Foster carers (agency), Westmere (out of area)",
    "Residential: Moorside Lodge, Highcliff (out of area)",
)

RISK_LEVELS = ("high", "medium", "low", "no_apparent_risk")
_RISK_CUM = (0.10, 0.65, 0.95)  # a new missing report: 10% high, 55% medium, 30% low, 5% no apparent risk
LEGAL_STATUSES = ("looked_after", "child_in_need", "child_protection", "care_leaver", "none")

# --------------------------------------------------------------------------------------------------------------
# Europe/London, fast: the CSV writers format millions of times, so zoneinfo is read once into a transition table
# --------------------------------------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = last - (date(year, month, last).weekday() + 1) % 7
    return _epoch(year, month, day, 1, 0)  # both UK changes happen at 01:00 UTC


#: Alternating [BST starts, BST ends, ...] as UTC epochs; an odd bisect index means the instant is in BST.
_TRANSITIONS: list[int] = [t for y in range(1990, 2061) for t in (_last_sunday(y, 3), _last_sunday(y, 10))]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_TEXT: dict[int, str] = {}
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]


def _day_text(day: int) -> str:
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return text


def _london_offset(ts: int) -> int:
    return HOUR if bisect_right(_TRANSITIONS, ts) % 2 else 0


def _local_day(ts: int) -> int:
    return (ts + _london_offset(ts)) // DAY


def format_time(ts: int, style: int = 0) -> str:
    """Write an instant: 0 naive London local, 1 London local with its offset, 2 UTC with ``Z``.

    A naive time in the repeated autumn hour would be read as its first (BST) occurrence, so such an instant is
    always written with its ``+00:00`` offset instead.
    """
    if style == 2:
        return _day_text(ts // DAY) + "T" + _HMS[ts % DAY] + "Z"
    i = bisect_right(_TRANSITIONS, ts)
    offset = HOUR if i % 2 else 0
    local = ts + offset
    text = _day_text(local // DAY) + "T" + _HMS[local % DAY]
    if style == 1 or (not offset and i and ts - _TRANSITIONS[i - 1] < HOUR):
        return text + ("+01:00" if offset else "+00:00")
    return text


def _local_epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """The instant a London wall clock shows this time (first occurrence when ambiguous; never in the gap)."""
    naive = _epoch(year, month, day, hour, minute)
    guess = naive - HOUR
    return guess if _london_offset(guess) else naive


# --------------------------------------------------------------------------------------------------------------
# The episode-emitting core
# --------------------------------------------------------------------------------------------------------------


class ChildRef(NamedTuple):
    """What a police message or a case outcome needs to know about a child."""

    child_id: str
    first_name: str
    last_name: str
    date_of_birth: str
    legal_status: str
    uasc: bool
    responsible_authority: str
    registered: bool  # False: the police know the child, our register does not (name + dob only)


#: ``EpisodePlan.rhi`` value meaning "let the emitter draw it with the configured rates".
DRAW = "draw"


@dataclass(slots=True)
class EpisodePlan:
    """One episode as planned: who, which kind, when it started and (unless still open) ended, plus overrides."""

    incident_ref: str
    child: ChildRef
    kind: str  # missing | absent
    start: int
    end: int | None  # None: not found by as_of
    rhi: str | None = DRAW  # completed | completed_late | declined | None (nothing recorded) | DRAW
    risk: str | None = None
    last_seen_location: str | None = None
    notes: str | None = None
    found_location: str | None = None
    #: Explicit police updates: (sent, risk_level or "", clothing or "", notes or ""); None lets the emitter draw.
    updates: list[tuple[int, str, str, str]] | None = None
    #: Case outcomes to record as well: (recorded, event, by, rationale, notes).
    extra_outcomes: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    standard_outcomes: bool = True  # strategy meetings, serious notification, repeat decisions, RHI


@dataclass(frozen=True, slots=True)
class _Config:
    authority: str
    as_of: int
    p_blank_child_id: float = 0.10
    p_update: float = 0.12
    p_update_long: float = 0.35  # episodes over 12 hours get police updates more often
    p_rhi_completed: float = 0.61
    p_rhi_declined: float = 0.30
    p_rhi_late: float = 0.15
    p_repeat_held: float = 0.7
    p_found_repeats_last_seen: float = 0.7
    time_styles: tuple[float, float] = (0.80, 0.92)  # cumulative: naive local, then local+offset, then Z
    workers: tuple[str, ...] = tuple(w for w, _, _ in ROSTER)


#: Columns that can hold free text (commas, quotes); every other column is an id, a time, a date or an enum.
_TEXT_COLUMNS = frozenset(
    {"first_name", "last_name", "last_seen_location", "found_location", "responsible_authority", "clothing"}
    | {"notes", "by", "rationale"}
)


def _csv_field(value: str) -> str:
    """Quote exactly as ``csv.writer`` does with QUOTE_MINIMAL (checked in the tests)."""
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


class _SortedSink:
    """A CSV writer that emits rows in time order although they are produced out of order.

    Rows wait in a heap until the producer promises nothing earlier will come (``flush(upto)``), then get their
    sequential id and are written in chunks. The sample flushes once at the end; the region generator flushes as
    its episodes advance, so the heap only ever holds the messages of episodes still running.

    Lines are joined by hand rather than through ``csv.writer`` (five times faster, a third of a region's run):
    only the free-text columns can need quoting, and their values come from small vocabularies, so their quoted
    forms are cached.
    """

    def __init__(self, path: Path, fields: Sequence[str], id_prefix: str) -> None:
        self._file = path.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        self._file.write(",".join(fields) + "\n")
        self._heap: list[tuple[int, int, list[str]]] = []
        self._seq = 0
        self._written = 0
        self._prefix = id_prefix
        self.by_event: dict[str, int] = {}
        self._event_index = list(fields).index("event")
        self._text = [i for i, name in enumerate(fields) if name in _TEXT_COLUMNS]
        self._quoted: dict[str, str] = {}

    def push(self, ts: int, row: list[str]) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, row))

    def flush(self, upto: int | None = None) -> None:
        heap, out, quoted, by_event = self._heap, [], self._quoted, self.by_event
        while heap and (upto is None or heap[0][0] <= upto):
            row = heapq.heappop(heap)[2]
            self._written += 1
            row[0] = f"{self._prefix}{self._written:08d}"
            event = row[self._event_index]
            by_event[event] = by_event.get(event, 0) + 1
            for i in self._text:
                value = row[i]
                text = quoted.get(value)
                if text is None:
                    text = _csv_field(value)
                    if len(quoted) < 100_000:
                        quoted[value] = text
                row[i] = text
            out.append(",".join(row))
        if out:
            out.append("")
            self._file.write("\n".join(out))

    def close(self) -> int:
        self.flush()
        self._file.close()
        return self._written


class _Emitter:
    """Turns episode plans into police messages and case outcomes; both configurations go through here.

    Plans must arrive in start order per child (both generators feed them in global start order), because the
    repeat-missing triggers (4 missing episodes in 28 days, 6 in two calendar months) are counted as they pass.
    """

    def __init__(self, rng: random.Random, cfg: _Config, notifications: _SortedSink, outcomes: _SortedSink) -> None:
        self.rng = rng
        self.cfg = cfg
        self.notifications = notifications
        self.outcomes = outcomes
        self._recent: dict[str, list[tuple[int, int]]] = {}  # child -> recent missing (start, month)
        self._last_decision: dict[str, int] = {}  # child -> when a repeat-missing decision was last recorded
        self.episodes = {"missing": 0, "absent": 0}
        self.open_at_as_of = 0
        self.rhi = {"completed": 0, "completed_late": 0, "declined": 0, "none": 0}

    # -- small draws -------------------------------------------------------------------------------------------
    def _time(self, ts: int) -> str:
        r = self.rng.random()
        naive, offset = self.cfg.time_styles
        return format_time(ts, 0 if r < naive else 1 if r < offset else 2)

    def _recorded(self, ts: int) -> str:
        """Case systems write local time; a few exports carry offsets."""
        return format_time(ts, 0 if self.rng.random() < 0.9 else 1)

    def _place(self) -> str:
        return _pick(self.rng, PLACES)

    def _identity(self, child: ChildRef) -> list[str]:
        blank = not child.registered or self.rng.random() < self.cfg.p_blank_child_id
        return ["" if blank else child.child_id, child.first_name, child.last_name, child.date_of_birth]

    def _outcome(self, ts: int, child: ChildRef, ref: str, event: str, by: str, rationale: str, notes: str) -> None:
        if ts <= self.cfg.as_of:
            self.outcomes.push(ts, ["", self._recorded(ts), child.child_id, ref, event, by, rationale, notes])

    # -- one episode -------------------------------------------------------------------------------------------
    def emit(self, plan: EpisodePlan) -> None:
        rng, cfg, child = self.rng, self.cfg, plan.child
        self.episodes[plan.kind] += 1
        missing = plan.kind == "missing"
        risk = plan.risk or (
            RISK_LEVELS[bisect_right(_RISK_CUM, rng.random())] if missing else _pick(rng, ("low", "no_apparent_risk"))
        )
        delay = _randint(rng, 20, 240) if missing else _randint(rng, 15, 120)
        sent = plan.start + delay * 60 + _randint(rng, 0, 59)
        clothing = _pick(rng, CLOTHING)
        self.notifications.push(
            sent,
            [
                "",
                self._time(sent),
                plan.kind,
                plan.incident_ref,
                *self._identity(child),
                self._time(plan.start),
                plan.last_seen_location or self._place(),
                "",
                "",
                risk,
                child.responsible_authority,
                clothing,
                plan.notes if plan.notes is not None else (_pick(rng, NOTES) if rng.random() < 0.35 else ""),
            ],
        )
        last_sent = sent
        high_at = sent if risk == "high" else None
        horizon = min(plan.end if plan.end is not None else cfg.as_of, cfg.as_of)

        updates = plan.updates
        if updates is None:
            updates = []
            long = horizon - plan.start > 12 * HOUR
            if horizon - sent > HOUR and rng.random() < (cfg.p_update_long if long else cfg.p_update):
                for _ in range(_randint(rng, 1, 2) if long else 1):
                    at = _randint(rng, sent + 60, horizon - 60)
                    if rng.random() < 0.5:
                        level = RISK_LEVELS.index(risk)
                        risk = RISK_LEVELS[max(0, level - 1) if rng.random() < 0.6 else min(3, level + 1)]
                        updates.append((at, risk, "", _pick(rng, UPDATE_NOTES).format(place=self._place())))
                    elif rng.random() < 0.5:
                        updates.append((at, "", _pick(rng, CLOTHING), "Clothing description corrected by carer"))
                    else:
                        updates.append((at, "", "", _pick(rng, UPDATE_NOTES).format(place=self._place())))
                updates.sort()
        for at, new_risk, new_clothing, note in updates:
            if at > cfg.as_of:
                continue
            risk = new_risk or risk
            if new_risk == "high" and high_at is None:
                high_at = at
            last_sent = max(last_sent, at)
            self.notifications.push(
                at,
                ["", self._time(at), "update", plan.incident_ref, *self._identity(child), "", "", "", "", new_risk,
                 child.responsible_authority, new_clothing, note],
            )  # fmt: skip

        found_sent = None
        if plan.end is not None:
            found_sent = max(plan.end + _randint(rng, 10, 150) * 60, last_sent + _randint(rng, 3, 30) * 60)
            found_sent += _randint(rng, 0, 59)
        if found_sent is not None and found_sent <= cfg.as_of:
            assert plan.end is not None
            location = plan.found_location or _pick(rng, FOUND_FORMS).format(place=self._place())
            self.notifications.push(
                found_sent,
                ["", self._time(found_sent), "found", plan.incident_ref, *self._identity(child),
                 self._time(plan.start) if rng.random() < cfg.p_found_repeats_last_seen else "", "",
                 self._time(plan.end), location, risk if rng.random() < 0.3 else "", child.responsible_authority,
                 "", "Safe and well check completed" if rng.random() < 0.2 else ""],
            )  # fmt: skip
        else:
            found_sent = None
            self.open_at_as_of += 1

        for ts, event, by, rationale, notes in plan.extra_outcomes:
            self._outcome(ts, child, plan.incident_ref, event, by, rationale, notes)
        ours = child.registered and child.responsible_authority == cfg.authority and child.legal_status != "care_leaver"
        if plan.standard_outcomes and ours and missing:
            self._standard_outcomes(plan, found_sent)
            self._later_decisions(plan, high_at)

    def _later_decisions(self, plan: EpisodePlan, high_at: int | None) -> None:
        """The further meeting at 72 hours and the high-risk decision, recorded most of the time, not always.

        Drawn from a generator seeded by the incident, so adding these records leaves every other draw (and so
        the rest of the sample) as it was.
        """
        rng, child, ref = random.Random(f"{plan.incident_ref}:decisions"), plan.child, plan.incident_ref
        manager = _pick(rng, TEAM_MANAGERS)
        lasted = (plan.end if plan.end is not None else self.cfg.as_of) - plan.start
        if lasted > 72 * HOUR and rng.random() < 0.85:
            self._outcome(plan.start + 72 * HOUR + _randint(rng, 60, 600) * 60, child, ref, "strategy_meeting_held",
                          manager, "Still missing at 72 hours", "Further strategy meeting; police and IRO attended")
        if high_at is not None and rng.random() < 0.85:
            at = high_at + _randint(rng, 60, 20 * 60) * 60
            if rng.random() < 0.7:
                self._outcome(at, child, ref, "strategy_meeting_held", manager, "Graded high risk",
                              "Strategy meeting on the high-risk grading")
            else:
                self._outcome(at, child, ref, "strategy_meeting_not_required", manager,
                              _pick(rng, NOT_REQUIRED_RATIONALE), "High-risk grading considered")

    def _standard_outcomes(self, plan: EpisodePlan, found_sent: int | None) -> None:
        """Strategy meetings, serious notification and the return interview, as a case system would record them."""
        rng, child, ref = self.rng, plan.child, plan.incident_ref
        manager = _pick(rng, TEAM_MANAGERS)
        lasted = (plan.end if plan.end is not None else self.cfg.as_of) - plan.start
        if lasted > 24 * HOUR:
            self._outcome(plan.start + 24 * HOUR + _randint(rng, 30, 480) * 60, child, ref, "strategy_meeting_held",
                          manager, "Missing over 24 hours", "Police, placement and social worker attended")  # fmt: skip
        if lasted > 72 * HOUR:
            self._outcome(plan.start + 72 * HOUR + _randint(rng, 30, 600) * 60, child, ref,
                          "serious_notification_sent", manager, "Missing over 72 hours", "")  # fmt: skip

        # Repeat missing: count this child's missing episodes as they pass.
        month = _month_index(plan.start)
        recent = self._recent.setdefault(child.child_id, [])
        recent.append((plan.start, month))
        while plan.start - recent[0][0] > 62 * DAY:
            recent.pop(0)
        in_28 = sum(1 for s, _ in recent if plan.start - s <= 28 * DAY)
        in_2_months = sum(1 for _, m in recent if m >= month - 1)
        reason = "4 missing episodes in 28 days" if in_28 >= 4 else "6 missing episodes in 2 months"
        if (in_28 >= 4 or in_2_months >= 6) and plan.start - self._last_decision.get(child.child_id, 0) > 14 * DAY:
            self._last_decision[child.child_id] = plan.start
            at = plan.start + _randint(rng, 4, 48) * HOUR
            if rng.random() < self.cfg.p_repeat_held:
                self._outcome(at, child, ref, "strategy_meeting_held", manager, reason, "Repeat missing strategy")
            else:
                self._outcome(at, child, ref, "strategy_meeting_not_required", manager,
                              _pick(rng, NOT_REQUIRED_RATIONALE), reason)  # fmt: skip

        # Return Home Interview, counted from when we were told the child was found.
        rhi = plan.rhi
        if found_sent is None:
            return
        if rhi == DRAW:
            r = rng.random()
            if r < self.cfg.p_rhi_completed:
                rhi = "completed_late" if rng.random() < self.cfg.p_rhi_late else "completed"
            elif r < self.cfg.p_rhi_completed + self.cfg.p_rhi_declined:
                rhi = "declined"
            else:
                rhi = None
        worker = _pick(rng, self.cfg.workers)
        if rhi == "completed":
            at = found_sent + _randint(rng, 6 * 60, 70 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_completed", worker, "", _pick(rng, RHI_NOTES))
        elif rhi == "completed_late":
            at = found_sent + _randint(rng, 74 * 60, 200 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_completed", worker, _pick(rng, LATE_RATIONALE), "")
        elif rhi == "declined":
            at = found_sent + _randint(rng, 2 * 60, 60 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_declined", worker, _pick(rng, DECLINE_RATIONALE), "")
        else:
            done = False
        self.rhi[rhi if done and rhi else "none"] += 1

    def _rhi(self, ts: int, child: ChildRef, ref: str, event: str, by: str, rationale: str, notes: str) -> bool:
        if ts > self.cfg.as_of:
            return False  # not recorded yet at as_of
        self._outcome(ts, child, ref, event, by, rationale, notes)
        return True


_MONTH_INDEX: dict[int, int] = {}


def _month_index(ts: int) -> int:
    day = _local_day(ts)
    index = _MONTH_INDEX.get(day)
    if index is None:
        text = _day_text(day)
        index = _MONTH_INDEX[day] = int(text[:4]) * 12 + int(text[5:7])
    return index


# --------------------------------------------------------------------------------------------------------------
# Planning episode times (shared by both configurations)
# --------------------------------------------------------------------------------------------------------------

_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 5, 8, 9, 9, 9, 8, 7, 6, 4, 3)
_CUM_HOURS = list(np.cumsum(_HOUR_WEIGHTS))


def _duration(rng: random.Random, kind: str) -> int:
    """Most episodes last hours; a tail runs past 24 and 72 hours (the strategy and serious-notification clocks)."""
    if kind == "absent":
        hours = rng.uniform(0.5, 6)
    else:
        r = rng.random()
        hours = (
            rng.uniform(1, 8)
            if r < 0.55
            else rng.uniform(8, 24)
            if r < 0.80
            else rng.uniform(24, 72)
            if r < 0.95
            else rng.uniform(72, 200)
        )
    return int(hours * HOUR) // 60 * 60


def _sequence(rng: random.Random, kinds: Sequence[str], lo: int, hi: int) -> list[tuple[int, int, str]]:
    """Lay one child's episodes out in ``[lo, hi)`` without overlap: (start, end, kind), in order.

    Gaps are exponential draws normalised to the free time, i.e. uniformly scattered episodes, so frequent
    runaways cluster by chance and the repeat-missing triggers fire as they would in life. Starts then move to an
    evening-heavy hour of the same day where that keeps the order and the gaps.
    """
    n = len(kinds)
    if n == 0:
        return []
    durations = [_duration(rng, k) for k in kinds]
    room = hi - lo - n * MIN_GAP
    busy = sum(durations)
    if busy > room * 0.5:  # crowded window: shorten episodes rather than overflow it
        durations = [max(1800, int(d * room * 0.5 / busy)) // 60 * 60 for d in durations]
        busy = sum(durations)
    gaps = [rng.expovariate(1.0) for _ in range(n + 1)]
    scale = (room - busy) / sum(gaps)
    starts, ends = [], []
    t = float(lo)
    for i in range(n):
        t += gaps[i] * scale + (MIN_GAP if i else 0)
        start = int(t) // 60 * 60
        starts.append(start)
        ends.append(start + durations[i])
        t = start + durations[i]
    for i in range(n):
        hour = bisect_right(_CUM_HOURS, rng.random() * _CUM_HOURS[-1])
        offset = _london_offset(starts[i])
        candidate = (starts[i] + offset) // DAY * DAY - offset + hour * HOUR + _randint(rng, 0, 59) * 60
        floor_ = ends[i - 1] + MIN_GAP if i else lo
        ceiling = starts[i + 1] - MIN_GAP if i + 1 < n else hi
        if floor_ <= candidate and candidate + durations[i] <= ceiling:
            starts[i], ends[i] = candidate, candidate + durations[i]
    return [(starts[i], ends[i], kinds[i]) for i in range(n)]


def _dob(rng: random.Random, age: int, at: int) -> str:
    """A date of birth making the child ``age`` at instant ``at``."""
    day = date.fromordinal(_EPOCH_ORDINAL + at // DAY)
    born = day.toordinal() - age * 365 - _randint(rng, 10, 355) - age // 4
    return date.fromordinal(born).isoformat()


def _phone(rng: random.Random) -> str:
    return f"07700 900{_randint(rng, 0, 999):03d}"  # Ofcom's range reserved for drama: never a real number


def _register_row(
    rng: random.Random,
    child: ChildRef,
    *,
    team: str | None = None,
    distance: float | None = None,
    placement: str | None = None,
) -> list[str]:
    """A full register row with a Find Me plan (Wakefield section 10)."""
    status = child.legal_status
    if distance is None:
        if status == "looked_after":
            distance = rng.uniform(21, 85) if rng.random() < 0.2 else rng.uniform(0.5, 12)
        else:
            distance = rng.uniform(0, 3)
    if placement is None:
        if status == "looked_after":
            placement = _pick(rng, PLACEMENTS_FAR if distance > 20 else PLACEMENTS_NEAR)
        elif status == "care_leaver":
            placement = "Own tenancy, Kingsbridge"
        else:
            placement = _pick(rng, ("Home with mother", "Home with parents", "Home with father & stepmother"))
    team = team or _pick(rng, TEAMS[status])
    worker = _pick(rng, PERSONAL_ADVISERS if status == "care_leaver" else SOCIAL_WORKERS)
    friend = _pick(rng, ("Jay", "Kez", "Mo", "Tash", "Lils"))
    contacts = (
        f"{_pick(rng, ('Mum', 'Dad', 'Nan', 'Aunt', 'Older brother'))} {_phone(rng)}; friend '{friend}' (no number)"
    )
    likely = "; ".join(rng.sample(PLACES, 3))
    address = (
        f"{_randint(rng, 1, 120)} {_pick(rng, STREETS)}, Kingsbridge KB{_randint(rng, 1, 9)} {_randint(rng, 1, 9)}AB"
    )
    return [
        child.child_id,
        child.first_name,
        child.last_name,
        child.date_of_birth,
        status,
        "yes" if child.uasc else "no",
        child.responsible_authority,
        worker,
        team,
        f"{distance:.1f}",
        placement,
        f"photos/{child.child_id}.jpg",
        contacts,
        likely,
        _phone(rng),
        address,
    ]


def _write_csv(path: Path, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


# --------------------------------------------------------------------------------------------------------------
# Roster and damaged rows
# --------------------------------------------------------------------------------------------------------------


def write_roster(path: Path) -> None:
    """The Return Interview Team roster (fixed: it is configuration, not a draw)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(path, ROSTER_FIELDS, ROSTER)


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
    _write_csv(path, NOTIFICATION_FIELDS, rows)


# --------------------------------------------------------------------------------------------------------------
# The bundled sample: Kingsbridge, shaped like the Wolverhampton report
# --------------------------------------------------------------------------------------------------------------

#: Missing episodes in the ten months for the 20 frequently missing children in care (3 or more each) ...
_HEAVY_COUNTS = (41, 32, 26, 22, 18, 15, 13, 11, 10, 9, 8, 7, 6, 6, 5, 5, 4, 4, 3, 3)
#: ... and for the other 20 (12 twice, 8 once): 280 in all, like Wolverhampton's 289 for 42.
_LIGHT_COUNTS = (2,) * 12 + (1,) * 8


@dataclass(slots=True)
class _Cast:
    """One sample child and how their year goes."""

    ref: ChildRef
    missing: int = 0  # generic missing episodes in the ten months
    absent: int = 0
    before: int = 0  # missing episodes in November-December 2025
    pins: list[EpisodePlan] = field(default_factory=list)  # scripted episodes (times fixed)
    window: tuple[int, int] = (PERIOD_START, _epoch(2026, 10, 25))
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
            key = (_pick(self.rng, firsts), _pick(self.rng, lasts), _dob(self.rng, age, at))
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


def _plan_cast(rng: random.Random, member: _Cast) -> list[tuple[int, int, str]]:
    kinds = ["missing"] * member.missing + ["absent"] * member.absent
    rng.shuffle(kinds)
    segs = _segments(*member.window, member.pins)
    lengths = [b - a for a, b in segs]
    share: list[list[str]] = [[] for _ in segs]
    for kind in kinds:
        share[rng.choices(range(len(segs)), lengths)[0]].append(kind)
    out = [ep for (a, b), ks in zip(segs, share, strict=True) for ep in _sequence(rng, ks, a, b)]
    if member.before:
        out = _sequence(rng, ["missing"] * member.before, _epoch(2025, 11, 3), _epoch(2025, 12, 28)) + out
    return out


def _leaver_steps(assessed: int, returned: int, advisor: str, *, former_uasc: bool) -> list[tuple]:
    """What a personal advisor records after assessing a care leaver missing (Wokingham), on time or nearly."""
    steps = [
        (assessed + 5 * HOUR, "police_reported", advisor, "", "Reported as a missing adult, photograph given"),
        (assessed + 26 * HOUR, "team_manager_notified", advisor, "", "Team manager told"),
        (assessed + 3 * DAY, "service_manager_notified", "Team Manager", "", "Service manager told"),
        (returned + 2 * DAY, "return_meeting_held", advisor, "", "Needs and placement discussed"),
    ]
    steps += [(assessed + k * 7 * DAY + 3 * HOUR, "weekly_review_held", "Assistant Manager", "", "Weekly review")
              for k in range(1, 8) if assessed + k * 7 * DAY < returned]
    if former_uasc:
        steps.append((assessed + 6 * HOUR, "home_office_notified", advisor, "", "Home Office told"))
    return steps


def _build_cast(rng: random.Random) -> tuple[list[_Cast], list[_Cast]]:
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
    cast: list[_Cast] = []

    # Named children in care: escaping and Unicode in the names every report and letter prints.
    special = [
        names.take("Zoë", "O'Brien", "2010-04-17"),
        names.take("Łukasz", "Kowalczyk", "2009-12-02"),
        names.take("Thanh", "Nguyễn", "2011-08-29"),
    ]
    lac: list[_Cast] = []
    for i in range(38):
        name = special[i] if i < len(special) else None
        lac.append(_Cast(child("looked_after", _randint(rng, 12, 17), name=name)))
    # Two unaccompanied asylum-seeking children in care.
    uasc_long = _Cast(child("looked_after", 16, uasc=True), register={"team": "Children in Care Team 3"})
    uasc_two = _Cast(child("looked_after", 17, uasc=True), register={"team": "Children in Care Team 3"})
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
            member.window = (PERIOD_START, _epoch(2026, 10, 25))
        else:
            span = min(290 * DAY, max(35 * DAY, member.missing * _randint(rng, 18, 45) * DAY))
            lo = PERIOD_START + _randint(rng, 0, 295 * DAY - span) // DAY * DAY
            member.window = (lo, lo + span)
    heavy = [c for c in lac if c.missing >= 3]
    light = [c for c in lac if c.missing < 3]
    for member in rng.sample(heavy, 11) + rng.sample(light, 8):
        member.decliner = True  # Wolverhampton: 19 children declined, 11 of them missing three or more times

    def pin(member: _Cast, start: int, end: int | None, **kw: Any) -> EpisodePlan:
        plan = EpisodePlan("", member.ref, kw.pop("kind", "missing"), start, end, **kw)
        member.pins.append(plan)
        if plan.kind == "missing" and member.missing:
            member.missing -= 1  # the scripted episode is one of the child's counted episodes
        return plan

    # Long-term missing UASC child: last seen mid-August, still missing at as_of (Surrey 28-day schedule).
    aug = _local_epoch(2026, 8, 14, 19, 20)
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
        (aug + 31 * HOUR, "home_office_notified", "Social Worker", "", "Home Office told"),
        (aug + 32 * HOUR, "serious_notification_sent", "Social Worker", "", "Cause for concern sent"),
        (aug + 7 * DAY + 4 * HOUR, "intervention_meeting_held", "Team Manager", "", "Week 1; IRO invited"),
        (aug + 14 * DAY + 4 * HOUR, "intervention_meeting_held", "Service Manager", "", "Week 2, multi-agency"),
        (aug + 28 * DAY + 4 * HOUR, "intervention_meeting_held", "Social Worker", "", "Week 4"),
        (aug + 61 * DAY + 4 * HOUR, "long_term_review_held", "Team Manager", "", "Monthly review in supervision"),
    ]
    pin(uasc_long, aug, None, risk="medium", updates=weekly, extra_outcomes=surrey,
        last_seen_location="Oakfield House, Kingsbridge",
        notes="Left placement after a phone call; has a Home Office reporting event next week")  # fmt: skip
    uasc_long.window = (PERIOD_START, _epoch(2026, 8, 1))
    uasc_two.window = (_epoch(2026, 2, 1), _epoch(2026, 7, 31))

    # Open > 72 hours: went missing Thursday night, risk raised on Saturday.
    thu = _local_epoch(2026, 10, 29, 22, 15)
    long_open = order[5]
    raised = (_local_epoch(2026, 10, 31, 11, 40), "high", "", "Seen getting into a car with older males")
    pin(long_open, thu, None, risk="medium", updates=[raised])
    long_open.window = (PERIOD_START, _epoch(2026, 10, 22))

    # Media interest: a long July episode.
    media = order[1]
    jul = _local_epoch(2026, 7, 3, 17, 30)
    pin(media, jul, jul + 60 * HOUR, risk="high", extra_outcomes=[
        (jul + 30 * HOUR, "media_interest", tm[0], "Local paper asking about a missing teenager", "Press office told"),
        (jul + 32 * HOUR, "serious_notification_sent", tm[0], "Media interest", "")])  # fmt: skip

    # Across the clock changes (the real elapsed hours differ from the wall clock by one).
    spring = [order[20], order[21]]
    pin(spring[0], _local_epoch(2026, 3, 28, 23, 10), _local_epoch(2026, 3, 29, 3, 20))
    pin(spring[1], _epoch(2026, 3, 29, 0, 40), _local_epoch(2026, 3, 29, 11, 0), risk="medium")
    autumn = [order[22], order[23]]
    # Found in the repeated hour (01:35 GMT, the second 01:35): written with its offset.
    pin(autumn[0], _local_epoch(2026, 10, 24, 21, 45), _epoch(2026, 10, 25, 1, 35))
    # Last seen in the first 01:20 (BST), found next afternoon: over 24 hours.
    pin(autumn[1], _epoch(2026, 10, 25, 0, 20), _local_epoch(2026, 10, 26, 15, 0), risk="medium")
    for member in spring:
        member.window = (_epoch(2026, 1, 5), _epoch(2026, 10, 20))
    for member in autumn:
        member.window = (PERIOD_START, _epoch(2026, 10, 22))

    # Absent, opened this morning.
    pin(order[7], _local_epoch(2026, 11, 2, 6, 50), None, kind="absent", risk="no_apparent_risk",
        last_seen_location="Foster carers, Kingsbridge",
        notes="Did not come home from a friend's sleepover")  # fmt: skip
    cast += lac

    # Children in need and on child protection plans, missing from home; one high-risk open since last night.
    home = [_Cast(child("child_in_need", _randint(rng, 11, 16), name=names.take("Σοφία", "Παπαδάκη", "2012-05-09")))]
    home += [_Cast(child("child_in_need", _randint(rng, 11, 16))) for _ in range(2)]
    home += [_Cast(child("child_protection", _randint(rng, 12, 16))) for _ in range(2)]
    for member, count in zip(home, (3, 2, 1, 2, 1), strict=True):
        member.missing = count
        member.window = (_epoch(2026, 2, 1), _epoch(2026, 10, 20))
    sun = _local_epoch(2026, 11, 1, 21, 40)
    pin(home[4], sun, None, risk="high", last_seen_location="Kingsbridge railway station",
        notes="Threatened self-harm in messages to a friend",
        updates=[(_local_epoch(2026, 11, 2, 6, 10), "", "", "Phone pinged near Kingsbridge railway station")],
    )  # fmt: skip
    cast += home

    # Care leavers: missing versus not in touch (Wokingham).
    leavers = [_Cast(child("care_leaver", a)) for a in (18, 20)]
    leavers.append(_Cast(child("care_leaver", 19, uasc=True)))
    may = _local_epoch(2026, 5, 10, 16, 0)
    pin(leavers[0], may, may + 70 * HOUR, standard_outcomes=False, extra_outcomes=[
        (may + 40 * HOUR, "assessed_missing", pa[0],
         "Not seen for two days, phone off; exploitation concerns; police report made", ""),
        (may + 74 * HOUR, "returned", pa[0], "", "Return meeting held at the flat"),
        *_leaver_steps(may + 40 * HOUR, may + 74 * HOUR, pa[0], former_uasc=False)])  # fmt: skip
    jun = _local_epoch(2026, 6, 2, 11, 0)
    jul15 = _local_epoch(2026, 7, 15, 9, 30)
    pin(leavers[1], jul15, jul15 + 6 * DAY, standard_outcomes=False, extra_outcomes=[
        (jun, "assessed_not_in_touch", pa[1],
         "No contact for six weeks but seen by housing officer; no safeguarding concerns; letter & texts sent", ""),
        (jul15 + 3 * HOUR, "assessed_missing", pa[1],
         "Landlord reports flat abandoned, belongings left; police report made", "Team manager informed"),
        (jul15 + 6 * DAY + 5 * HOUR, "returned", pa[1], "", "Staying with a friend in Westmere"),
        (jun + 3 * DAY, "written_confirmation_sent", pa[1], "", "Letter: support can be asked for until 25"),
        *_leaver_steps(jul15 + 3 * HOUR, jul15 + 6 * DAY + 5 * HOUR, pa[1], former_uasc=False)])  # fmt: skip
    sep = _local_epoch(2026, 9, 22, 14, 0)
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
        _Cast(child("looked_after", _randint(rng, 13, 17), authority=a), missing=m, absent=ab)
        for a, m, ab in (("Northfield", 3, 1), ("Northfield", 2, 1), ("Eastbrook", 4, 0))
    ]
    for member in placed:
        member.window = (_epoch(2026, 1, 10), _epoch(2026, 10, 15))
        member.register = {"distance": rng.uniform(25, 45), "placement": "Residential: Oakfield House, Kingsbridge"}
    cast += placed

    # Not on our register at all: the police send name and date of birth only.
    strangers = [
        _Cast(child("none", 15, name=names.take("Renée", "Doyle", "2011-01-23"), registered=False), missing=1),
        _Cast(child("none", 14, authority="", registered=False), missing=1),
    ]
    strangers[0].absent = 1
    for member in strangers:
        member.window = (_epoch(2026, 4, 1), _epoch(2026, 10, 10))
    cast += strangers

    # Absent episodes: about 40 in all (one already pinned above).
    absent_pool = [c for c in lac if c.missing] + home
    for member in rng.sample(absent_pool, 18):
        member.absent += 1
    for member in rng.sample(absent_pool, 18):
        member.absent += 1

    register_only = [_Cast(child("looked_after", _randint(rng, 8, 17))) for _ in range(8)]
    return cast, register_only


def _allocate_rhi(rng: random.Random, plans: list[EpisodePlan], cast: dict[str, _Cast]) -> None:
    """Fix the interview outcomes to the report's shares: 30% declined (mostly by 19 children), 61% completed."""
    eligible = [
        p
        for p in plans
        if p.kind == "missing"
        and p.end is not None
        and p.standard_outcomes
        and p.child.legal_status == "looked_after"
        and p.child.registered
        and p.child.responsible_authority == AUTHORITY
    ]
    declines = round(0.30 * len(eligible))
    completes = round(0.61 * len(eligible))
    pool = [p for p in eligible if cast[p.child.child_id].decliner]
    rest = [p for p in eligible if not cast[p.child.child_id].decliner]
    rng.shuffle(pool)
    chosen, leftover = pool[:declines], pool[declines:]
    if len(chosen) < declines:
        need = declines - len(chosen)
        rng.shuffle(rest)
        chosen, rest = chosen + rest[:need], rest[need:]
    remaining = rest + leftover
    rng.shuffle(remaining)
    for p in chosen:
        p.rhi = "declined"
    for i, p in enumerate(remaining):
        if i < completes:
            # Late interviews mostly for children placed far away (Wolverhampton 3.9: virtual or delayed).
            p.rhi = "completed_late" if rng.random() < 0.12 else "completed"
        else:
            p.rhi = None


def generate_sample(out_dir: Path, seed: int = 2026, *, roster_path: Path | None = None) -> dict[str, Any]:
    """Write the Kingsbridge sample (children, notifications, outcomes, damaged rows, manifest); return the manifest.

    ``roster_path`` also writes the Return Interview Team roster (the bundled one lives at ``data/roster.csv``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cast_list, register_only = _build_cast(rng)
    cast = {c.ref.child_id: c for c in cast_list}

    plans: list[EpisodePlan] = []
    for member in cast_list:
        plans += member.pins
        for start, end, kind in _plan_cast(rng, member):
            plans.append(EpisodePlan("", member.ref, kind, start, end))
    plans.sort(key=lambda p: (p.start, p.child.child_id))
    for seq, plan in enumerate(plans, 1):
        plan.incident_ref = f"{FORCE}-{_day_text(_local_day(plan.start))[:4]}-{seq:06d}"
    _allocate_rhi(rng, plans, cast)

    register = []
    for member in cast_list + register_only:
        if member.ref.registered:
            register.append(_register_row(rng, member.ref, **member.register))
    register.sort(key=lambda r: r[0])
    _write_csv(out_dir / "children.csv", CHILD_FIELDS, register)

    cfg = _Config(authority=AUTHORITY, as_of=SAMPLE_AS_OF)
    notifications = _SortedSink(out_dir / "notifications.csv", NOTIFICATION_FIELDS, f"{FORCE}-MSG-")
    outcomes = _SortedSink(out_dir / "outcomes.csv", OUTCOME_FIELDS, "CMS-")
    emitter = _Emitter(rng, cfg, notifications, outcomes)
    for plan in plans:
        emitter.emit(plan)
    n_notifications, n_outcomes = notifications.close(), outcomes.close()
    write_damaged(out_dir / "damaged.csv")
    if roster_path is not None:
        write_roster(Path(roster_path))

    manifest = {
        "authority": AUTHORITY,
        "seed": seed,
        "as_of": _iso(SAMPLE_AS_OF),
        "as_of_local": format_time(SAMPLE_AS_OF),
        "period": {"start": "2026-01-01", "end": "2026-10-31"},
        "counts": {
            "children_registered": len(register),
            "children_with_episodes": len({p.child.child_id for p in plans}),
            "children_not_registered": sum(1 for c in cast_list if not c.ref.registered),
            "episodes": {**emitter.episodes, "total": len(plans), "open_at_as_of": emitter.open_at_as_of},
            "notifications": n_notifications,
            "notifications_by_event": dict(sorted(notifications.by_event.items())),
            "outcomes": n_outcomes,
            "outcomes_by_event": dict(sorted(outcomes.by_event.items())),
            "damaged_rows": 8,
        },
        "figures": sample_figures(out_dir, SAMPLE_AS_OF),
    }
    _write_json(out_dir / "manifest.json", manifest)
    return manifest


def sample_figures(directory: Path, as_of: int = SAMPLE_AS_OF) -> dict[str, Any]:
    """The board-report figures recomputed from the written CSVs (so the manifest states what the files hold).

    Counts children in care of our authority, missing (not absent) episodes last seen in the ten-month period.
    """
    from missing_episodes.clock import parse_time  # local import: the clock module pulls in ``holidays``

    with (directory / "children.csv").open(encoding="utf-8", newline="") as fh:
        children = {r["child_id"]: r for r in csv.DictReader(fh)}
    by_key = {(r["first_name"], r["last_name"], r["date_of_birth"]): cid for cid, r in children.items()}
    episodes: dict[str, dict[str, Any]] = {}
    with (directory / "notifications.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            ep = episodes.setdefault(r["incident_ref"], {"found": False})
            ep["found"] |= r["event"] == "found"
            if r["event"] in ("missing", "absent"):
                ep["kind"] = r["event"]
                ep["start"] = parse_time(r["last_seen_at"])
                ep["child"] = r["child_id"] or by_key.get((r["first_name"], r["last_name"], r["date_of_birth"]))
    rhi: dict[str, str] = {}
    with (directory / "outcomes.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["event"] in ("rhi_completed", "rhi_declined"):
                rhi[r["incident_ref"]] = r["event"]
    lo = datetime.fromtimestamp(PERIOD_START, UTC)
    hi = datetime.fromtimestamp(PERIOD_END, UTC)
    in_care = {
        ref: ep
        for ref, ep in episodes.items()
        if ep.get("kind") == "missing"
        and ep.get("child") in children
        and children[ep["child"]]["legal_status"] == "looked_after"
        and children[ep["child"]]["responsible_authority"] == AUTHORITY
        and lo <= ep["start"] < hi
    }
    per_child: dict[str, int] = {}
    for ep in in_care.values():
        per_child[ep["child"]] = per_child.get(ep["child"], 0) + 1
    closed = [ref for ref, ep in in_care.items() if ep["found"]]
    declined = sum(1 for ref in closed if rhi.get(ref) == "rhi_declined")
    completed = sum(1 for ref in closed if rhi.get(ref) == "rhi_completed")
    return {
        "in_care_missing_episodes": len(in_care),
        "in_care_children": len(per_child),
        "in_care_children_3_plus": sum(1 for n in per_child.values() if n >= 3),
        "max_episodes_one_child": max(per_child.values(), default=0),
        "absent_episodes": sum(1 for ep in episodes.values() if ep.get("kind") == "absent"),
        "open_at_as_of": sum(1 for ep in episodes.values() if not ep["found"]),
        "rhi_declined_pct": round(100 * declined / len(closed), 1) if closed else 0.0,
        "rhi_completed_pct": round(100 * completed / len(closed), 1) if closed else 0.0,
    }


# --------------------------------------------------------------------------------------------------------------
# A region, for benchmarks
# --------------------------------------------------------------------------------------------------------------

REGION_START = _epoch(2016, 11, 1)
_REGION_STATUSES = (("looked_after", 62), ("child_in_need", 18), ("child_protection", 12), ("care_leaver", 8))


def generate_region(out_dir: Path, episodes: int, seed: int = 1) -> dict[str, Any]:
    """Write ten years of a region (about ``episodes / 7`` children, heavy-tailed repeats), streaming to disk.

    Episode times are planned per child into compact numpy arrays (about 30 bytes an episode), sorted once, then
    replayed through the same ``_Emitter`` as the sample; the sinks' heaps hold only episodes still running, so
    memory grows with the number of children, not with the number of messages.
    """
    if episodes < 1:
        raise ValueError("episodes must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    as_of = SAMPLE_AS_OF
    n_children = max(1, episodes // 7)

    # Heavy-tailed episode counts summing exactly to ``episodes``: most children once or twice, a few hundreds.
    weights = [min(rng.paretovariate(1.1), 400.0) - 1.0 for _ in range(n_children)]
    extra = episodes - n_children
    total_w = sum(weights) or 1.0
    counts = [1 + int(extra * w / total_w) for w in weights]
    short = episodes - sum(counts)
    for i in rng.sample(range(n_children), min(short, n_children)) if short > 0 else ():
        counts[i] += 1
    short = episodes - sum(counts)
    i = 0
    while short > 0:  # tiny regions: hand out any remainder one by one
        counts[i % n_children] += 1
        short -= 1
        i += 1
    cap = 700
    overflow = sum(max(0, c - cap) for c in counts)
    counts = [min(c, cap) for c in counts]
    i = 0
    while overflow > 0:
        if counts[i % n_children] < cap:
            counts[i % n_children] += 1
            overflow -= 1
        i += 1

    starts = np.empty(episodes, dtype=np.int64)
    ends = np.empty(episodes, dtype=np.int64)
    owner = np.empty(episodes, dtype=np.int32)
    absent = np.zeros(episodes, dtype=np.bool_)
    refs: list[ChildRef] = []
    names: set[tuple[str, str, str]] = set()
    region_len = as_of - HOUR - REGION_START
    statuses = [s for s, _ in _REGION_STATUSES]
    status_w = [w for _, w in _REGION_STATUSES]
    pos = 0
    with (out_dir / "children.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CHILD_FIELDS)
        batch: list[list[str]] = []
        for idx, n in enumerate(counts):
            span = min(region_len, max(21 * DAY, n * _randint(rng, 6, 30) * DAY))
            lo = REGION_START + _randint(rng, 0, region_len - span)
            status = rng.choices(statuses, status_w)[0]
            authority = AUTHORITY if rng.random() < 0.92 else _pick(rng, OTHER_AUTHORITIES)
            uasc = status in ("looked_after", "care_leaver") and rng.random() < 0.05
            age = _randint(rng, 18, 22) if status == "care_leaver" else _randint(rng, 9, 16)
            while True:
                first = _pick(rng, UASC_FIRST if uasc else FIRST_NAMES)
                last = _pick(rng, UASC_LAST if uasc else LAST_NAMES)
                key = (first, last, _dob(rng, age, lo))
                if key not in names:
                    names.add(key)
                    break
            registered = rng.random() > 0.01
            ref = ChildRef(f"P{idx + 1:07d}", key[0], key[1], key[2], status, uasc, authority, registered)
            refs.append(ref)
            if registered:
                batch.append(_register_row(rng, ref))
                if len(batch) >= 20000:
                    writer.writerows(batch)
                    batch.clear()
            kinds = ["absent" if rng.random() < 0.12 else "missing" for _ in range(n)]
            planned = _sequence(rng, kinds, lo, lo + span)
            if lo + span > as_of - 60 * DAY and rng.random() < 0.2:
                planned[-1] = (planned[-1][0], 0, planned[-1][2])  # still missing at as_of (0: no end)
            for start, end, kind in planned:
                starts[pos], ends[pos], owner[pos], absent[pos] = start, end, idx, kind == "absent"
                pos += 1
        writer.writerows(batch)
    del names

    order = np.argsort(starts, kind="stable")
    cfg = _Config(authority=AUTHORITY, as_of=as_of)
    notifications = _SortedSink(out_dir / "notifications.csv", NOTIFICATION_FIELDS, f"{FORCE}-MSG-")
    outcomes = _SortedSink(out_dir / "outcomes.csv", OUTCOME_FIELDS, "CMS-")
    emitter = _Emitter(rng, cfg, notifications, outcomes)
    seq = 0
    for chunk_at in range(0, episodes, 65536):
        chunk = order[chunk_at : chunk_at + 65536]
        columns = (starts[chunk].tolist(), ends[chunk].tolist(), owner[chunk].tolist(), absent[chunk].tolist())
        rows = zip(*columns, strict=True)
        for start, end, who, is_absent in rows:
            seq += 1
            if seq % 512 == 0:  # nothing still to come can be earlier than this start: write what is older
                notifications.flush(start)
                outcomes.flush(start)
            ref = f"{FORCE}-{_day_text(_local_day(start))[:4]}-{seq:07d}"
            emitter.emit(EpisodePlan(ref, refs[who], "absent" if is_absent else "missing", start, end or None))
    n_notifications, n_outcomes = notifications.close(), outcomes.close()

    manifest = {
        "authority": AUTHORITY,
        "region": True,
        "seed": seed,
        "as_of": _iso(as_of),
        "period": {"start": _iso(REGION_START)[:10], "end": "2026-10-31"},
        "counts": {
            "children": n_children,
            "children_registered": sum(1 for r in refs if r.registered),
            "episodes": {**emitter.episodes, "total": episodes, "open_at_as_of": emitter.open_at_as_of},
            "max_episodes_one_child": max(counts),
            "notifications": n_notifications,
            "notifications_by_event": dict(sorted(notifications.by_event.items())),
            "outcomes": n_outcomes,
            "outcomes_by_event": dict(sorted(outcomes.by_event.items())),
        },
    }
    _write_json(out_dir / "manifest.json", manifest)
    return manifest
