"""The coordinators' forms as the domain sees them: the words of each choice, the checks of every field, and
what of a run's stored parameters may stay. Pure functions of the values and the policy, no database, no Prefect.

What a coordinator types into a form in the Prefect UI is stored by Prefect in clear, and Prefect lets the form's
own checks be switched off. So the forms take structured values only (ids in the authority's formats, a choice
from a list, a date), every value is checked again here against the policy (``Policy.forms``), and
``sanitised_parameters`` says what of a run's stored parameters may stay: anything that is not a well-formed
value of its field is replaced by ``REMOVED``. Every message here is written for a coordinator and never
repeats what was typed (a name typed by mistake must not travel into a state message, a log or an alert).
``missing_episodes.jobs.outcomes`` holds the jobs that look the checked values up in the database.

The outcome form's list of events and the reasons it needs are the policy's (``missing_episodes.vocabulary``), the
same the feed and ``missing-episodes record`` accept; ``check_recorded`` is the command line's check, which may
carry free text (who, the rationale, the child's views) because the command line never passes it through Prefect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from missing_episodes.clock import LONDON, UTC, TimeParseError, as_london, now, parse_time
from missing_episodes.feeds import DEFAULT_SOURCE
from missing_episodes.findings import CONCERNS, FINDINGS_EVENT, REASONS, RhiFindings
from missing_episodes.policy import Forms, Policy
from missing_episodes.vocabulary import label, labels, outcome_vocabulary, rationale_events, short_label

#: What a stored parameter that failed its check is replaced with.
REMOVED = "(removed: not a valid entry)"
#: Source name of outcomes recorded through the forms (the audit trail says who: "coordinator").
COORDINATOR_SOURCE = "coordinator"
#: Source name of outcomes recorded with ``missing-episodes record``.
CLI_SOURCE = "command-line"

CHILD_REF = re.compile(r"^CH-[0-9A-F]{12}$")
EPISODE_REF = re.compile(r"^EP-[0-9A-F]{12}$")
HOUR_MINUTE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

#: The feeds a file can belong to (the operators' ingest form).
FEED_KINDS = frozenset(DEFAULT_SOURCE)

#: The risk grading choices: "not graded" instead of an empty optional field.
RISK_LABELS: dict[str, str | None] = {
    "not graded": None, "high": "high", "medium": "medium", "low": "low", "no apparent risk": "no_apparent_risk",
}
#: Who recorded an outcome through the form (the form takes no names).
FORM_AUTHOR = "coordinator (Prefect form)"
#: The findings fields of the form, by the labels a coordinator reads (codes in ``missing_episodes.findings``).
REASON_OF_LABEL = {label: code for code, label in REASONS.items()}
CONCERN_OF_LABEL = {label: code for code, label in CONCERNS.items()}


def event_of_label(policy: Policy) -> dict[str, str]:
    """The form's choices: label -> event code, for every event the policy's vocabulary accepts."""
    return {label: code for code, label in labels(policy).items()}


def reasons_for(event: str, policy: Policy) -> list[str]:
    """The reasons the form offers for ``event`` (the policy's lists)."""
    listed = list(policy.forms.reasons.get(event, []))
    if event == "strategy_meeting_not_required":
        listed = [*policy.forms.not_required_reasons, *listed]
    return listed


def all_reasons(policy: Policy) -> list[str]:
    """Every reason of every event, once each, in the policy's order (the form's one list)."""
    return list(dict.fromkeys(r for e in sorted(rationale_events(policy)) for r in reasons_for(e, policy)))


class FormRefused(ValueError):
    """A form's values cannot be used. The message is for a coordinator and names nothing that was typed."""


@dataclass(frozen=True)
class OutcomeForm:
    """A checked outcome: the event's code, refs in the authority's formats, the moment in UTC."""

    child: str
    event: str
    incident_ref: str | None
    recorded_at: datetime
    risk_level: str | None
    reason: str | None
    # Who recorded it and why, in their words: the CLI's free text (never a form's: see the module docstring).
    by: str = FORM_AUTHOR
    rationale: str | None = None
    findings: RhiFindings | None = None
    # Who was spoken to, updated or informed, and their contact details: the CLI's free text, never a form's.
    who: str | None = None
    contact: str | None = None

    @property
    def label(self) -> str:
        return short_label(self.event)

    @property
    def heading(self) -> str:
        """The label as the start of a sentence ("RHI completed", "Strategy meeting held")."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def marked(self) -> str:
        """What the outcome made of the actions it closed, in words."""
        if self.event.endswith("declined"):
            return "marked declined"
        return "marked not required" if self.event.endswith(("not_required", "not_referred")) else "marked done"


# -- checks of single values (used to check a form and to sanitise what Prefect stored) ---------------------


def is_child(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(CHILD_REF.match(value) or re.match(forms.person_id_pattern, value))


def is_incident(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(re.match(forms.incident_ref_pattern, value))


def is_episode(value: object, forms: Forms) -> bool:
    return isinstance(value, str) and bool(EPISODE_REF.match(value) or is_incident(value, forms))


def _is_day(value: object) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_path(value: object) -> bool:
    return isinstance(value, PurePath) or (isinstance(value, str) and bool(re.fullmatch(r"[^\s]{1,500}", value)))


#: The shape of an event's label (the policy check follows: ``POLICY_CHECKS``).
LABEL_SHAPE = re.compile(r"[A-Za-z0-9 ():,'-]+")


def _all_in(value: object, choices: Mapping[str, str]) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item in choices for item in value)


def _form_reasons(forms: Forms) -> set[str]:
    return {*forms.not_required_reasons, *(r for listed in forms.reasons.values() for r in listed)}


def _one_of(choices: Callable[[Forms], object]) -> Callable[[object, Forms], bool]:
    return lambda value, forms: isinstance(value, str) and value in choices(forms)  # type: ignore[operator]


FIELD_CHECKS: dict[str, dict[str, Callable[[object, Forms], bool]]] = {
    "record-outcome": {
        "child": is_child,
        "event": lambda v, forms: isinstance(v, str) and len(v) <= 120 and bool(LABEL_SHAPE.fullmatch(v)),
        "incident_ref": lambda v, forms: v == "" or is_incident(v, forms),
        "day": lambda v, forms: _is_day(v),
        "time": lambda v, forms: v == "" or (isinstance(v, str) and bool(HOUR_MINUTE.match(v))),
        "risk_level": _one_of(lambda forms: RISK_LABELS),
        "reason": lambda v, forms: v == "" or (isinstance(v, str) and v in _form_reasons(forms)),
        "reasons": lambda v, forms: _all_in(v, REASON_OF_LABEL),
        "concerns": lambda v, forms: _all_in(v, CONCERN_OF_LABEL),
        "harm": lambda v, forms: isinstance(v, bool),
        "referral_made": lambda v, forms: isinstance(v, bool),
        "find_me_plan_update": lambda v, forms: isinstance(v, bool),
    },
    "brief-for-date": {"day": lambda v, forms: _is_day(v)},
    # The scheduled deployments' forms (dates and counts only; their other parameters are not on the forms).
    "daily-run": {"day": lambda v, forms: v is None or _is_day(v), "sample": lambda v, forms: isinstance(v, bool)},
    "weekly-list": {"week_ending": lambda v, forms: v is None or _is_day(v), "out_dir": lambda v, forms: v is None},
    "monthly-board-report": {
        "months": lambda v, forms: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 24,
        "last_month": lambda v, forms: isinstance(v, str) and bool(re.fullmatch(r"([0-9]{4}-(0[1-9]|1[0-2]))?", v)),
    },
    # The operators' form: a feed, paths on the worker's machine (no spaces: a name typed there goes), a source.
    "ingest-files": {
        "kind": lambda v, forms: isinstance(v, str) and v in FEED_KINDS,
        "paths": lambda v, forms: isinstance(v, list) and all(_is_path(p) for p in v),
        "source": lambda v, forms: v is None or (isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", v))),
        "run_rules": lambda v, forms: isinstance(v, bool),
    },
    "regenerate-serious-notification": {
        "episode": is_episode,
        "rule": lambda v, forms: v == "" or (isinstance(v, str) and bool(re.fullmatch(r"[a-z0-9_.]{1,100}", v))),
    },
}


#: Checks that need the whole policy, not only its ``forms`` section: the event's label must be one of the policy's.
POLICY_CHECKS: dict[tuple[str, str], Callable[[object, Policy], bool]] = {
    ("record-outcome", "event"): lambda v, policy: isinstance(v, str) and v in event_of_label(policy),
}


def sanitised_parameters(form: str, parameters: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """``parameters`` with every value that fails its field's check, and every unknown key, made ``REMOVED``.

    An unknown key is dropped under a neutral name, since a key typed into the JSON editor can itself be a name.
    """
    checks = FIELD_CHECKS[form]
    cleaned: dict[str, Any] = {}
    unknown = 0
    for name, value in parameters.items():
        if name in checks:
            ok = checks[name](value, policy.forms)
            extra = POLICY_CHECKS.get((form, name))
            ok = ok and (extra is None or extra(value, policy))
            cleaned[name] = (value.isoformat() if isinstance(value, date) else value) if ok else REMOVED
        else:
            unknown += 1
    if unknown:
        cleaned["unknown_fields"] = f"{unknown} removed"
    return cleaned


def check_outcome(
    child: object, event: object, day: object, incident_ref: object = "", at: object = "",
    risk_level: object = "not graded", reason: object = "", *, policy: Policy, current: datetime | None = None,
    reasons: object = (), harm: object = False, concerns: object = (), referral_made: object = False,
    find_me_plan_update: object = False,
) -> OutcomeForm:
    """The outcome form's values checked against the policy, or ``FormRefused`` saying what to fix."""
    forms = policy.forms
    checks = FIELD_CHECKS["record-outcome"]
    if not is_child(child, forms):
        raise FormRefused("Child: give the person id from the case system or the child's CH- ref, not a name.")
    choices = event_of_label(policy)
    if not isinstance(event, str) or event not in choices:
        raise FormRefused("What happened: choose one of the listed outcomes.")
    if not checks["incident_ref"](incident_ref, forms):
        raise FormRefused("Police incident: give the police incident reference exactly as the police sent it, "
                          "or leave it empty.")
    if not _is_day(day):
        raise FormRefused("Day: pick the day it happened from the calendar (or type it as YYYY-MM-DD).")
    if not checks["time"](at, forms):
        raise FormRefused("Time: type the time as HH:MM on the 24-hour clock (London time), or leave it empty.")
    if not checks["risk_level"](risk_level, forms):
        raise FormRefused("Risk: choose one of the listed gradings.")
    code = choices[event]
    if code in outcome_vocabulary(policy).needs_contact:
        raise FormRefused(f"What happened: '{short_label(code)}' must name who was spoken to and their contact "
                          "details, which this form does not take: record it through the case system or "
                          "`missing-episodes record` (--who, --contact).")
    _check_reason(code, reason, policy)
    findings = _form_findings(code, list(reasons or []), harm, list(concerns or []), referral_made,
                              find_me_plan_update)
    current = current or now()
    day_value = day if isinstance(day, date) else date.fromisoformat(str(day))
    today = as_london(current).date()
    if day_value > today:
        raise FormRefused("Day: the day it happened is in the future.")
    if at:
        local = datetime.combine(day_value, time.fromisoformat(str(at)), tzinfo=LONDON)
    elif day_value == today:
        local = as_london(current)
    else:  # a past day without a time: the end of that day, so it closes what fell due that day
        local = datetime.combine(day_value, time(23, 59), tzinfo=LONDON)
    recorded_at = local.astimezone(UTC)
    if recorded_at > current:
        raise FormRefused("Time: that time has not come yet today.")
    return OutcomeForm(
        child=str(child), event=code, incident_ref=str(incident_ref) or None, recorded_at=recorded_at,
        risk_level=RISK_LABELS[str(risk_level)], reason=str(reason) or None, rationale=str(reason) or None,
        findings=findings,
    )


def _check_reason(code: str, reason: object, policy: Policy) -> None:
    """A decline or a decision not to act needs its reason, chosen from the policy's list for that event."""
    offered = reasons_for(code, policy)
    if code in rationale_events(policy) and not reason:
        raise FormRefused(f"Reason: '{short_label(code)}' needs its reason: choose one from the list.")
    if reason and (not isinstance(reason, str) or reason not in offered):
        raise FormRefused("Reason: choose one of the listed reasons for this outcome (fuller text goes in "
                          "through the case system or the command line).")


def _form_findings(code: str, reasons: list[object], harm: object, concerns: list[object], referral_made: object,
                   find_me_plan_update: object) -> RhiFindings | None:
    """The form's findings fields as ``RhiFindings`` (labels to codes); only an interview carries them."""
    if not all(isinstance(r, str) and r in REASON_OF_LABEL for r in reasons):
        raise FormRefused("Reasons for going missing: choose from the list.")
    if not all(isinstance(c, str) and c in CONCERN_OF_LABEL for c in concerns):
        raise FormRefused("Exploitation concerns: choose from the list.")
    if not all(isinstance(flag, bool) for flag in (harm, referral_made, find_me_plan_update)):
        raise FormRefused("Findings: harm, referral made and Find Me plan update are yes or no.")
    findings = RhiFindings(
        reasons=tuple(REASON_OF_LABEL[str(r)] for r in reasons), harm=bool(harm),
        concerns=tuple(CONCERN_OF_LABEL[str(c)] for c in concerns), referral_made=bool(referral_made),
        find_me_plan_update=bool(find_me_plan_update),
    )
    if findings.empty:
        return None
    if code != FINDINGS_EVENT:
        raise FormRefused(f"Findings: only '{label(FINDINGS_EVENT)}' carries findings; clear them for this outcome.")
    return findings


def check_recorded(
    event: str, child: str, *, policy: Policy, incident_ref: str | None = None, at: str | None = None,
    by: str | None = None, rationale: str | None = None, findings: RhiFindings | None = None,
    risk_level: str | None = None, current: datetime | None = None, who: str | None = None,
    contact: str | None = None,
) -> OutcomeForm:
    """``missing-episodes record``'s values checked against the same vocabulary as the feed and the form.

    The command line may carry free text (who, the rationale, the child's views): it never passes through
    Prefect. An event that needs a reason needs a rationale in any words; the form's lists are not imposed. An
    event the policy says must name who was spoken to needs ``who`` and ``contact`` (Wokingham).
    """
    vocabulary = outcome_vocabulary(policy)
    if event not in vocabulary:
        raise FormRefused(f"EVENT: not an outcome this policy records; one of: {', '.join(sorted(vocabulary))}.")
    if not is_child(child, policy.forms):
        raise FormRefused("--child: give the person id from the case system or the child's CH- ref.")
    if incident_ref and not is_incident(incident_ref, policy.forms):
        raise FormRefused("--incident: give the police incident reference exactly as the police sent it.")
    if event in vocabulary.needs_rationale and not (rationale and rationale.strip()):
        raise FormRefused(f"--rationale: '{short_label(event)}' needs its rationale (or the reason) recorded.")
    who, contact = (who or "").strip() or None, (contact or "").strip() or None
    if event in vocabulary.needs_contact and not (who and contact):
        missing = "--who and --contact" if not (who or contact) else ("--who" if not who else "--contact")
        raise FormRefused(f"{missing}: '{short_label(event)}' must name who was spoken to and their contact "
                          "number or details (Wokingham).")
    if findings is not None and not findings.empty and event != FINDINGS_EVENT:
        raise FormRefused(f"findings belong to {FINDINGS_EVENT} only.")
    if risk_level is not None and risk_level not in RISK_LABELS.values():
        raise FormRefused("--risk: one of high, medium, low, no_apparent_risk.")
    current = current or now()
    try:
        recorded_at = parse_time(at).astimezone(UTC) if at else current.astimezone(UTC)
    except TimeParseError as exc:
        raise FormRefused(f"--at: {exc}") from None
    if recorded_at > current:
        raise FormRefused("--at: that time has not come yet.")
    return OutcomeForm(
        child=child, event=event, incident_ref=incident_ref or None, recorded_at=recorded_at, risk_level=risk_level,
        reason=None, by=(by or "").strip() or "command line", rationale=(rationale or "").strip() or None,
        findings=None if findings is None or findings.empty else findings, who=who, contact=contact,
    )


def closing_events_by_rule(policy: Policy) -> dict[str, frozenset[str]]:
    """Rule id -> the outcome events that close its actions."""
    return {rule.id: rule.closing_events for rule in policy.rules}
