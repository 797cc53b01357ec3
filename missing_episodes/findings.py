"""What a Return Home Interview found, as data: the fixed lists, the check of a row's findings columns, and the
follow-up each finding asks for.

Wakefield s5: "The purpose of the Return Interview is to understand and address the reasons for the missing
episode, identify and understand any harm the child has suffered"; s6 asks whether there are "safeguarding or
child protection concerns ... e.g. risk of abuse or child exploitation" and that the child is "listened to and
their views and opinions recorded"; "The information gained should be included within the Find me Plan". An
``rhi_completed`` outcome may carry these findings as extra columns of the case-outcomes feed (or options of the
CLI, or structured fields of the Prefect form, which never takes the child's views: free text stays out of
Prefect). A finding that names a concern becomes a *follow-up event* recorded with the interview; the policy's
rules trigger on those events (``trigger: {type: outcome, event: rhi_finding_...}``), so each follow-up is an
action naming the rule that asked for it, closed like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The event that may carry findings.
FINDINGS_EVENT = "rhi_completed"
#: The findings columns of the case-outcomes feed (lists are separated by ``;``).
FINDINGS_COLUMNS = ("reasons", "harm", "concerns", "child_views", "referral_made", "find_me_plan_update")

#: Reasons for going missing (Wakefield s6's "underlying issues"), by code: the fixed list every channel uses.
REASONS: dict[str, str] = {
    "relationships_home_or_placement": "Difficulties in relationships at home or in the placement",
    "abuse_or_neglect": "Abuse or neglect",
    "bullying": "Bullying",
    "peer_group": "Friends or peer group",
    "adult_of_concern": "Relationship with an adult of concern",
    "family_contact": "Wanting to see family",
    "drugs_or_alcohol": "Drugs or alcohol",
    "emotional_wellbeing": "Mental health or emotional wellbeing",
    "education": "School or education",
    "rules_and_boundaries": "Rules or boundaries at home or in the placement",
    "other": "Other (details through the case system)",
}
#: Exploitation concerns (Wakefield s6: "Child Sexual Exploitation and or criminal exploitation and trafficking").
CONCERNS: dict[str, str] = {
    "cse": "Child sexual exploitation (CSE)",
    "cce": "Child criminal exploitation (CCE)",
    "trafficking": "Trafficking or modern slavery",
}

#: The follow-up events a finding raises (the policy's rules trigger on them; the feed cannot send them).
HARM_OR_EXPLOITATION = "rhi_finding_harm_or_exploitation"
EXPLOITATION = "rhi_finding_exploitation"
FIND_ME_UPDATE = "rhi_finding_find_me_plan_update"
FOLLOW_UP_EVENTS = (HARM_OR_EXPLOITATION, EXPLOITATION, FIND_ME_UPDATE)

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})


@dataclass(frozen=True)
class RhiFindings:
    """The structured findings of one interview (codes from ``REASONS`` and ``CONCERNS``)."""

    reasons: tuple[str, ...] = ()
    harm: bool = False
    concerns: tuple[str, ...] = ()
    child_views: str | None = None
    referral_made: bool = False
    find_me_plan_update: bool = False

    @property
    def empty(self) -> bool:
        return self == RhiFindings()

    def follow_up_events(self) -> tuple[str, ...]:
        """The follow-ups these findings ask for, in a fixed order (their event ids derive from it)."""
        events = []
        if self.harm or self.concerns:
            events.append(HARM_OR_EXPLOITATION)
        if self.concerns:
            events.append(EXPLOITATION)
        if self.find_me_plan_update:
            events.append(FIND_ME_UPDATE)
        return tuple(events)

    def as_columns(self) -> dict[str, str]:
        """The findings as the feed's columns (how the CLI and the form hand them to the one ingest)."""
        return {
            "reasons": ";".join(self.reasons), "harm": _yes_no(self.harm), "concerns": ";".join(self.concerns),
            "child_views": self.child_views or "", "referral_made": _yes_no(self.referral_made),
            "find_me_plan_update": _yes_no(self.find_me_plan_update),
        }


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _codes(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    return tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))


def _flag(value: object) -> bool | None:
    """yes/no as a bool; None when the value is neither."""
    if value is None or isinstance(value, bool):
        return bool(value)
    lowered = str(value).strip().lower()
    return True if lowered in _YES else False if lowered in _NO else None


def findings_problem(event: str, extra: Mapping[str, Any]) -> tuple[str, str] | None:
    """(column, reason) of the first findings column that cannot be read, or None. Findings belong to
    ``rhi_completed`` only; an unknown code is refused (the lists are fixed so the figures add up)."""
    present = [name for name in FINDINGS_COLUMNS if _given(extra.get(name))]
    if not present:
        return None
    if event != FINDINGS_EVENT:
        return present[0], f"findings belong to {FINDINGS_EVENT} only, not {event}"
    for name, known in (("reasons", REASONS), ("concerns", CONCERNS)):
        unknown = [code for code in _codes(extra.get(name)) if code not in known]
        if unknown:
            return name, f"unknown {name[:-1]} {unknown[0]!r} (known: {', '.join(known)})"
    for name in ("harm", "referral_made", "find_me_plan_update"):
        if _flag(extra.get(name)) is None:
            return name, f"{name} must be yes or no"
    return None


def _given(value: object) -> bool:
    return value is not None and value != "" and value != [] and not (isinstance(value, str) and not value.strip())


def parse_findings(event: str, extra: Mapping[str, Any]) -> RhiFindings | None:
    """The findings a checked row carries (``findings_problem`` passed), or None when it carries none."""
    if event != FINDINGS_EVENT or not any(_given(extra.get(name)) for name in FINDINGS_COLUMNS):
        return None
    views = extra.get("child_views")
    return RhiFindings(
        reasons=_codes(extra.get("reasons")),
        harm=bool(_flag(extra.get("harm"))),
        concerns=_codes(extra.get("concerns")),
        child_views=str(views).strip() if _given(views) else None,
        referral_made=bool(_flag(extra.get("referral_made"))),
        find_me_plan_update=bool(_flag(extra.get("find_me_plan_update"))),
    )
