"""The episode-emitting core both generators share: episode plans in, police messages and case outcomes out.

A plan says who went missing (or absent), when, and when they were found; the emitter draws the rest (delays,
risk, clothing, police updates, strategy meetings, return interviews) with the configured rates, and writes every
time in the mix of forms a police feed really sends (``clock.format_epoch``: mostly naive London local time, some
with an explicit offset, some UTC with ``Z``).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

from missing_episodes.clock import epoch_day_text, format_epoch, london_day, london_offset
from missing_episodes.synthetic.draws import pick, randint
from missing_episodes.synthetic.sinks import SortedSink
from missing_episodes.synthetic.timeline import DAY, HOUR
from missing_episodes.synthetic.vocabulary import (
    CLOTHING,
    DECLINE_RATIONALE,
    FOUND_FORMS,
    LATE_RATIONALE,
    NOT_REQUIRED_RATIONALE,
    NOTES,
    PLACES,
    RHI_NOTES,
    RISK_CUMULATIVE,
    RISK_LEVELS,
    ROSTER,
    TEAM_MANAGERS,
    UPDATE_NOTES,
)


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
    #: Case outcomes to record as well: (recorded, event, by, rationale, notes[, who, contact]).
    extra_outcomes: list[tuple[str | int, ...]] = field(default_factory=list)
    standard_outcomes: bool = True  # strategy meetings, serious notification, repeat decisions, RHI


@dataclass(frozen=True, slots=True)
class Config:
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


class Emitter:
    """Turns episode plans into police messages and case outcomes; both configurations go through here.

    Plans must arrive in start order per child (both generators feed them in global start order), because the
    repeat-missing triggers (4 missing episodes in 28 days, 6 in two calendar months) are counted as they pass.
    """

    def __init__(self, rng: random.Random, cfg: Config, notifications: SortedSink, outcomes: SortedSink) -> None:
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
        return format_epoch(ts, 0 if r < naive else 1 if r < offset else 2)

    def _recorded(self, ts: int, rng: random.Random | None = None) -> str:
        """Case systems write local time; a few exports carry offsets (drawn from ``rng``, else the emitter's)."""
        return format_epoch(ts, 0 if (rng or self.rng).random() < 0.9 else 1)

    def _place(self) -> str:
        return pick(self.rng, PLACES)

    def _identity(self, child: ChildRef) -> list[str]:
        blank = not child.registered or self.rng.random() < self.cfg.p_blank_child_id
        return ["" if blank else child.child_id, child.first_name, child.last_name, child.date_of_birth]

    def _outcome(self, ts: int, child: ChildRef, ref: str, event: str, by: str, rationale: str, notes: str,
                 who: str = "", contact: str = "", rng: random.Random | None = None) -> None:
        """One case event; ``who`` and ``contact`` name the person spoken to (Wokingham) when the step says; ``rng``
        draws its time format when the caller keeps its draws apart from the emitter's."""
        if ts <= self.cfg.as_of:
            self.outcomes.push(ts, ["", self._recorded(ts, rng), child.child_id, ref, event, by, rationale, notes,
                                    who, contact])

    # -- one episode -------------------------------------------------------------------------------------------
    def emit(self, plan: EpisodePlan) -> None:
        rng, cfg, child = self.rng, self.cfg, plan.child
        self.episodes[plan.kind] += 1
        missing = plan.kind == "missing"
        if plan.risk:
            risk = plan.risk
        elif missing:
            risk = RISK_LEVELS[bisect_right(RISK_CUMULATIVE, rng.random())]
        else:
            risk = pick(rng, ("low", "no_apparent_risk"))
        delay = randint(rng, 20, 240) if missing else randint(rng, 15, 120)
        sent = plan.start + delay * 60 + randint(rng, 0, 59)
        clothing = pick(rng, CLOTHING)
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
                plan.notes if plan.notes is not None else (pick(rng, NOTES) if rng.random() < 0.35 else ""),
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
                for _ in range(randint(rng, 1, 2) if long else 1):
                    at = randint(rng, sent + 60, horizon - 60)
                    if rng.random() < 0.5:
                        level = RISK_LEVELS.index(risk)
                        risk = RISK_LEVELS[max(0, level - 1) if rng.random() < 0.6 else min(3, level + 1)]
                        updates.append((at, risk, "", pick(rng, UPDATE_NOTES).format(place=self._place())))
                    elif rng.random() < 0.5:
                        updates.append((at, "", pick(rng, CLOTHING), "Clothing description corrected by carer"))
                    else:
                        updates.append((at, "", "", pick(rng, UPDATE_NOTES).format(place=self._place())))
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
            found_sent = max(plan.end + randint(rng, 10, 150) * 60, last_sent + randint(rng, 3, 30) * 60)
            found_sent += randint(rng, 0, 59)
        if found_sent is not None and found_sent <= cfg.as_of:
            assert plan.end is not None
            location = plan.found_location or pick(rng, FOUND_FORMS).format(place=self._place())
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

        for ts, event, by, rationale, notes, *spoken_to in plan.extra_outcomes:
            self._outcome(ts, child, plan.incident_ref, event, by, rationale, notes, *spoken_to)
        ours = child.registered and child.responsible_authority == cfg.authority and child.legal_status != "care_leaver"
        if plan.standard_outcomes and ours and missing:
            self._standard_outcomes(plan, found_sent)
            self._later_decisions(plan, high_at)
            if child.legal_status == "looked_after":
                self._told(plan)

    def _told(self, plan: EpisodePlan) -> None:
        """The carer tells a parent or guardian and the social care team (the EDT out of office hours) that the
        child is missing (Lilac Alliance s5): mostly within the hour or two, now and then late or not recorded.

        Drawn from a generator seeded by the incident, like ``_later_decisions``: no other draw moves.
        """
        rng, child, ref = random.Random(f"{plan.incident_ref}:told"), plan.child, plan.incident_ref
        if rng.random() < 0.9:
            event = "parent_informed" if rng.random() < 0.7 else "guardian_informed"
            minutes = randint(rng, 150, 400) if rng.random() < 0.1 else randint(rng, 15, 110)  # now and then late
            self._outcome(plan.start + minutes * 60, child, ref, event, "Carer (placement)", "",
                          "Told of the search, the steps taken and what to do if the child makes contact", rng=rng)
        if rng.random() < 0.92:
            at = plan.start + randint(rng, 10, 100) * 60
            local = at + london_offset(at)
            weekday, hour = (local // DAY + 3) % 7, local % DAY // HOUR  # 1 January 1970 was a Thursday
            office = weekday < 5 and 9 <= hour < 17
            self._outcome(at, child, ref, "social_care_informed" if office else "edt_informed", "Carer (placement)",
                          "", "Told the child is missing; police report made", rng=rng)

    def _later_decisions(self, plan: EpisodePlan, high_at: int | None) -> None:
        """The further meeting at 72 hours and the high-risk decision, recorded most of the time, not always.

        Drawn from a generator seeded by the incident, so adding these records leaves every other draw (and so
        the rest of the sample) as it was.
        """
        rng, child, ref = random.Random(f"{plan.incident_ref}:decisions"), plan.child, plan.incident_ref
        manager = pick(rng, TEAM_MANAGERS)
        lasted = (plan.end if plan.end is not None else self.cfg.as_of) - plan.start
        if lasted > 72 * HOUR and rng.random() < 0.85:
            self._outcome(plan.start + 72 * HOUR + randint(rng, 60, 600) * 60, child, ref, "strategy_meeting_held",
                          manager, "Still missing at 72 hours", "Further strategy meeting; police and IRO attended")
        if high_at is not None and rng.random() < 0.85:
            at = high_at + randint(rng, 60, 20 * 60) * 60
            if rng.random() < 0.7:
                self._outcome(at, child, ref, "strategy_meeting_held", manager, "Graded high risk",
                              "Strategy meeting on the high-risk grading")
            else:
                self._outcome(at, child, ref, "strategy_meeting_not_required", manager,
                              pick(rng, NOT_REQUIRED_RATIONALE), "High-risk grading considered")

    def _standard_outcomes(self, plan: EpisodePlan, found_sent: int | None) -> None:
        """Strategy meetings, serious notification and the return interview, as a case system would record them."""
        rng, child, ref = self.rng, plan.child, plan.incident_ref
        manager = pick(rng, TEAM_MANAGERS)
        lasted = (plan.end if plan.end is not None else self.cfg.as_of) - plan.start
        if lasted > 24 * HOUR:
            self._outcome(plan.start + 24 * HOUR + randint(rng, 30, 480) * 60, child, ref, "strategy_meeting_held",
                          manager, "Missing over 24 hours", "Police, placement and social worker attended")  # fmt: skip
        if lasted > 72 * HOUR:
            self._outcome(plan.start + 72 * HOUR + randint(rng, 30, 600) * 60, child, ref,
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
            at = plan.start + randint(rng, 4, 48) * HOUR
            if rng.random() < self.cfg.p_repeat_held:
                self._outcome(at, child, ref, "strategy_meeting_held", manager, reason, "Repeat missing strategy")
            else:
                self._outcome(at, child, ref, "strategy_meeting_not_required", manager,
                              pick(rng, NOT_REQUIRED_RATIONALE), reason)  # fmt: skip

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
        worker = pick(rng, self.cfg.workers)
        if rhi == "completed":
            at = found_sent + randint(rng, 6 * 60, 70 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_completed", worker, "", pick(rng, RHI_NOTES))
        elif rhi == "completed_late":
            at = found_sent + randint(rng, 74 * 60, 200 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_completed", worker, pick(rng, LATE_RATIONALE), "")
        elif rhi == "declined":
            at = found_sent + randint(rng, 2 * 60, 60 * 60) * 60
            done = self._rhi(at, child, ref, "rhi_declined", worker, pick(rng, DECLINE_RATIONALE), "")
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
    day = london_day(ts)
    index = _MONTH_INDEX.get(day)
    if index is None:
        text = epoch_day_text(day)
        index = _MONTH_INDEX[day] = int(text[:4]) * 12 + int(text[5:7])
    return index
