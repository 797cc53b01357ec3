"""What Return Home Interviews found, counted for the board and the oversight report: how many interviews named
each reason for going missing and each exploitation concern, harm, referrals made and Find Me plans to update.

Counted from ``rhi_finding`` (one row per interview that recorded findings) for interviews recorded in the period
(London calendar days); an interview counts once per reason it names, so the reasons need not add up to the
interviews. Other authorities' children have no interviews of ours. Aggregates only: no child is named.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import london_instant
from missing_episodes.db.models import RhiFinding
from missing_episodes.findings import CONCERNS, REASONS
from missing_episodes.reports.periods import Period


@dataclass(frozen=True)
class FindingCount:
    """One line of the figures: what was found, in how many interviews, for how many children."""

    group: str  # "reason", "concern" or "finding"
    code: str
    label: str
    interviews: int
    children: int


def findings_figures(session: Session, period: Period) -> list[FindingCount]:
    """Every reason, concern and flag of the fixed lists with its counts in ``period`` (zeros included, so the
    board sees the whole list every month)."""
    rows = session.execute(
        select(RhiFinding.child_id, RhiFinding.reasons, RhiFinding.concerns, RhiFinding.harm,
               RhiFinding.referral_made, RhiFinding.find_me_plan_update)
        .where(RhiFinding.recorded_at >= london_instant(period.start), RhiFinding.recorded_at <= period.end_instant)
    ).all()
    seen: dict[tuple[str, str], list[int]] = {}
    for child_id, reasons, concerns, harm, referral, find_me in rows:
        named = [("reason", code) for code in (reasons or "").split(";") if code]
        named += [("concern", code) for code in (concerns or "").split(";") if code]
        named += [("finding", code) for code, flag in
                  (("harm", harm), ("referral_made", referral), ("find_me_plan_update", find_me)) if flag]
        for key in named:
            seen.setdefault(key, []).append(child_id)
    flags = {"harm": "Harm suffered or at risk of", "referral_made": "Referral made",
             "find_me_plan_update": "Find Me plan to update"}
    listed = ([("reason", code, label) for code, label in REASONS.items()]
              + [("concern", code, label) for code, label in CONCERNS.items()]
              + [("finding", code, label) for code, label in flags.items()])
    return [FindingCount(group, code, label, len(seen.get((group, code), [])), len(set(seen.get((group, code), []))))
            for group, code, label in listed]


def interviews_with_findings(session: Session, period: Period) -> int:
    """How many interviews in ``period`` recorded findings (the denominator the board reads the lines against)."""
    return len(session.execute(
        select(RhiFinding.id)
        .where(RhiFinding.recorded_at >= london_instant(period.start), RhiFinding.recorded_at <= period.end_instant)
    ).all())
