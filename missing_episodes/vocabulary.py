"""The one vocabulary of outcome events, derived from the policy: what the feed, the Prefect form and the CLI accept.

The events that close actions are the ones the policy's rules declare (``done_by``, ``declined_by``,
``not_required_by``); the events every authority records besides (an assessment, media interest, the contact
log, oversight) are ``feeds.OUTCOME_EVENTS``. An event that declines or finds an action not required needs its
reason recorded (Wakefield s6: "their attempts and reason for the refusal is clearly recorded"; s8 and Surrey:
the rationale for not holding a meeting or not referring "must be clearly recorded"). Each event has one label,
the words a coordinator reads on the form; an authority's own event without a label here is shown by its code
in words. The three channels read this module only, so they cannot drift apart (``tests/domain/test_vocabulary``).
"""

from __future__ import annotations

from missing_episodes.feeds import OUTCOME_EVENTS, OutcomeVocabulary
from missing_episodes.policy import Policy

#: Each event's label on the form (the first fourteen as they have always read: saved runs keep their meaning).
LABELS: dict[str, str] = {
    "rhi_completed": "Return home interview completed",
    "rhi_declined": "Return home interview declined by the child",
    "strategy_meeting_held": "Strategy meeting held",
    "strategy_meeting_not_required": "Strategy meeting not required (choose the reason)",
    "serious_notification_sent": "Serious notification sent",
    "assessed_missing": "Care leaver assessed as missing",
    "assessed_not_in_touch": "Care leaver assessed as not in touch",
    "media_interest": "Media interest in the episode",
    "returned": "Returned (confirmed by the service)",
    "contact_made": "Contact made with the young person",
    "update_given": "Update given to the police",
    "management_oversight_recorded": "Management oversight recorded",
    "risk_assessment_recorded": "Risk assessment recorded",
    "safety_plan_recorded": "Safety plan recorded",
    "police_reported": "Reported to the police as a missing adult",
    "team_manager_notified": "Team manager told",
    "service_manager_notified": "Service manager told",
    "home_office_notified": "Home Office notified",
    "weekly_review_held": "Weekly review held",
    "return_meeting_held": "Return meeting held with the young person",
    "written_confirmation_sent": "Written confirmation sent",
    "intervention_meeting_held": "Intervention meeting held",
    "nrm_referral_made": "National Referral Mechanism referral made",
    "nrm_not_referred": "NRM: decided not to refer (choose the reason)",
    "long_term_review_held": "Long-term missing review held",
    "find_me_plan_updated": "Find Me plan updated",
    "hidden_missing": "Hidden missing: missing, not reported to the police",
    "hidden_missing_reported": "Hidden missing child reported to the police",
    "whereabouts_established": "Whereabouts established: no police report needed (say where)",
    "trafficking_risk_identified": "At risk of trafficking",
    "parent_informed": "Parent told the child is missing",
    "guardian_informed": "Guardian told the child is missing",
    "social_care_informed": "Social care team told the child is missing",
    "edt_informed": "Emergency Duty Team told the child is missing (out of hours)",
}
#: Short forms for run names and artifacts ("RHI completed").
SHORT_LABELS: dict[str, str] = {
    "rhi_completed": "RHI completed", "rhi_declined": "RHI declined",
    "strategy_meeting_held": "strategy meeting held", "strategy_meeting_not_required": "meeting not required",
    "nrm_not_referred": "NRM not referred",
}


def closing_events(policy: Policy) -> frozenset[str]:
    """Every event the policy's rules declare as closing an action (done, declined or not required)."""
    return frozenset(e for r in policy.rules for e in r.closing_events)


def rationale_events(policy: Policy) -> frozenset[str]:
    """Events that need a rationale or reason: every ``declined_by`` and ``not_required_by`` of the policy."""
    return frozenset(e for r in policy.rules for e in (*r.declined_by, *r.not_required_by))


def contact_events(policy: Policy) -> frozenset[str]:
    """Events whose record must name who was spoken to and their contact details: every closing event of a rule
    with ``record_contact`` (Wokingham: "These actions should be recorded clearly with the relevant name and
    contact number/details of those spoken to")."""
    return frozenset(e for r in policy.rules if r.record_contact for e in r.closing_events)


def outcome_vocabulary(policy: Policy) -> OutcomeVocabulary:
    """What the feed accepts (and the form and the CLI offer): the standard events and every closing event."""
    return OutcomeVocabulary(OUTCOME_EVENTS | closing_events(policy), rationale_events(policy),
                             contact_events(policy))


def label(event: str) -> str:
    """The event's words on the form: its label, or its code in words for an authority's own event."""
    return LABELS.get(event) or event.replace("_", " ").capitalize()


def short_label(event: str) -> str:
    return SHORT_LABELS.get(event) or label(event).removesuffix(" (choose the reason)")


def labels(policy: Policy) -> dict[str, str]:
    """Event -> label for every recordable event, in a stable order (the labelled ones first, as listed)."""
    events = outcome_vocabulary(policy)
    ordered = [e for e in LABELS if e in events] + sorted(events - LABELS.keys())
    return {event: label(event) for event in ordered}
