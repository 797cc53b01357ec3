"""Every kind of action a policy rule may ask for: the vocabulary of the worklist, the briefing and the forms.

A module of its own, importing nothing, so the command line can offer the kinds as choices without loading the
policy schema (pydantic and every trigger type, most of a second at every start). ``policy.ActionKind`` is the
``Literal`` built from this tuple; a new kind is added here.
"""

ACTION_KINDS: tuple[str, ...] = (
    "return_home_interview",
    "strategy_meeting",
    "serious_notification",
    "police_report",
    "team_manager_notified",
    "service_manager_notified",
    "home_office_notified",
    "weekly_review",
    "return_meeting",
    "written_confirmation",
    "intervention_meeting",
    "long_term_review",
    "long_term_missing_panel",
    "nrm_referral",
    "joint_strategy_discussion",
    "social_worker_visit",
    "wellbeing_check",
    "prevention_plan",
    "management_oversight",
    "risk_assessment",
    "duty_team_notified",
    "escalation_considered",
    "daily_update_call",
    "child_protection_circulation",
    "lac_review",
    "solicitor_notified",
    "find_me_plan_update",
    "parents_informed",
)
