"""Policy as data: one YAML file per authority holds every timescale, validated on load.

An authority changes a threshold by editing its file, with no release. Each rule has a stable ``id`` and the
policy a ``version``; both are stored on every action a rule creates, so an auditor can say which rule, in which
version, made a worker do what. The trigger *types* are code (``missing_episodes.triggers``); the rules are data:
a new rule of a known type (a 48-hour meeting, say) is a new entry in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from missing_episodes.offsets import Offset
from missing_episodes.schema import EpisodeKind
from missing_episodes.schema import Strict as _Strict
from missing_episodes.triggers.registry import trigger_union

ActionKind = Literal[
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
    "nrm_referral",
]
ACTION_KINDS: tuple[str, ...] = get_args(ActionKind)
LegalStatus = Literal["looked_after", "child_in_need", "child_protection", "care_leaver", "none"]


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the key."""


# Triggers: the moment an obligation arises. Each type is a class in its own module of missing_episodes.triggers
# (schema and evaluation together); the union a rule's ``trigger`` validates as is built from their registry.
Trigger = trigger_union()


class AppliesTo(_Strict):
    """Which children and episodes a rule is for. Empty lists mean no restriction."""

    episode_kinds: list[EpisodeKind] = ["missing"]
    legal_status: list[LegalStatus] = []
    uasc: bool | None = None
    # "uasc_or_care_leaver": the Surrey long-term schedule's population.
    uasc_or_care_leaver: bool = False
    under_18: bool | None = None


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    action: ActionKind
    title: str
    seed: str  # where the rule comes from: the sentence in shared/seeds it implements
    trigger: Trigger
    applies_to: AppliesTo = AppliesTo()
    due: Offset = Offset()
    # Shorter timescale when the police grading or the assessment is high risk (Wokingham).
    due_if_high_risk: Offset | None = None
    actor: str
    recipients: list[str] = []
    done_by: list[str] = []
    declined_by: list[str] = []
    not_required_by: list[str] = []
    on_declined: str | None = None
    # Stop the schedule at the child's 18th birthday (Surrey: closed to the looked-after service at 18).
    until_age: int | None = None
    enabled: bool = True


class Allocation(_Strict):
    """Return Home Interview allocation (Wakefield section 6, Wolverhampton 3.9)."""

    team: str = "Return Interview Team"
    prefer_previous_worker: bool = True
    distant_placement_miles: float = 20
    distant_placement_note: str = (
        "Placement over 20 miles away: offer a virtual interview or arrange it with the host authority"
    )


class Briefing(_Strict):
    """What the daily missing briefing lists row by row (Wakefield s4: the actions that need agreeing now).

    Overdue actions that fell due within ``overdue_window_days`` before the briefing are listed; older ones
    (years of unrecorded interviews in a region's history) are summarised in one line per kind, with the count
    and the oldest due date, and left to the worklist and the oversight report, so the pack stays readable and
    its cost does not grow with the history while nothing is hidden.
    """

    overdue_window_days: int = Field(default=28, ge=1)


class Forms(_Strict):
    """What the coordinators' forms in the Prefect UI accept: the authority's id formats and the fixed reasons.

    A form's fields are stored by Prefect in clear, so they take structured values only (issue 17: free text
    comes by the case-management feed or the CLI). The formats are the authority's: its case system's person ids
    and its police force's incident references. A reason for not holding a meeting is chosen from this list
    (Wakefield s8 asks for the rationale to be recorded); a fuller rationale goes in through the feed.
    """

    person_id_pattern: str = r"^[A-Za-z0-9]{4,20}$"
    incident_ref_pattern: str = r"^[A-Z]{2,6}-[0-9]{4}-[0-9]{4,8}$"
    not_required_reasons: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        default_factory=lambda: ["Risk reviewed by the team manager: below the threshold for a meeting"]
    )

    @model_validator(mode="after")
    def _patterns_compile(self) -> Forms:
        for name in ("person_id_pattern", "incident_ref_pattern"):
            pattern = getattr(self, name)
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{name} is not a regular expression: {exc}") from exc
            if compiled.fullmatch("") or not (pattern.startswith("^") and pattern.endswith("$")):
                raise ValueError(f"{name} must be anchored (^...$) and must not match an empty value")
            if compiled.fullmatch("Zoe OBrien") or compiled.fullmatch("O'Brien"):
                raise ValueError(f"{name} must not accept a name")
        return self


class Hours(_Strict):
    """Office hours (London time) on working days: outside them, and on weekends and England and Wales bank
    holidays (the working-day calendar of ``missing_episodes.clock``), the on-call/EDT contact of the rota file is
    told instead of the day staff, who hear at the first run in office hours if the action is still open."""

    start: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(default="17:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    @model_validator(mode="after")
    def _start_before_end(self) -> Hours:
        if self.start >= self.end:
            raise ValueError(f"office hours start ({self.start}) must be before they end ({self.end})")
        return self


class Escalation(_Strict):
    """Who is told when an action is overdue, and after how long (Surrey: Team Manager, then Service Manager, then
    Director; Wolverhampton's escalation of strategy discussions).

    ``ladder`` lists the roles from the first level up; ``after`` gives, per action kind (or ``default``), how long
    after the due time each level is told, one offset per level. ``worker_roles`` are the rules' actors that mean
    "the child's allocated worker" (found in the register). ``lookback`` bounds how far back a run looks for a due
    time or escalation it has not yet acted on (the scheduler being down for days, say).
    """

    ladder: list[Annotated[str, Field(min_length=2, max_length=100)]] = Field(
        default_factory=lambda: ["Team Manager", "Service Manager", "Head of Service"], min_length=1
    )
    after: dict[str, list[Offset]] = Field(
        default_factory=lambda: {"default": [Offset(), Offset(hours=24), Offset(hours=72)]}
    )
    worker_roles: list[str] = Field(default_factory=lambda: ["Social Worker", "Personal Advisor"])
    lookback: Offset = Offset(days=7)

    @model_validator(mode="after")
    def _one_delay_per_level(self) -> Escalation:
        if "default" not in self.after:
            raise ValueError("escalation.after needs a 'default' entry")
        for kind, delays in self.after.items():
            if kind != "default" and kind not in ACTION_KINDS:
                raise ValueError(f"escalation.after.{kind}: not an action kind ({', '.join(ACTION_KINDS)})")
            if len(delays) != len(self.ladder):
                raise ValueError(f"escalation.after.{kind}: give one delay per level of the ladder "
                                 f"({len(self.ladder)})")
        return self

    def delays(self, kind: str) -> list[Offset]:
        """The delay after the due time at which each level of the ladder is told, for an action kind."""
        return self.after.get(kind, self.after["default"])


class Mail(_Strict):
    """What notification e-mails may carry. ``secure: true`` says the authority's mail channel is approved for
    personal data (a secure government mail route): then the body names the child and documents are attached.
    Otherwise the body carries refs and the action only, and documents stay in the output store."""

    secure: bool = False
    # London time of the morning digest, on working days, for the people whose staff row asks for one.
    digest_at: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class Policy(_Strict):
    authority: str
    version: str
    description: str = ""
    # How far ahead recurring schedules are kept in the store (the daily review flow rolls it forward).
    schedule_horizon_days: int = Field(default=8, ge=1)
    allocation: Allocation = Allocation()
    briefing: Briefing = Briefing()
    forms: Forms = Forms()
    rules: list[Rule]
    # Notifications (issue 17): office hours, the escalation ladder, what mail may carry.
    hours: Hours = Hours()
    escalation: Escalation = Escalation()
    mail: Mail = Mail()

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> Policy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice; rule ids must be unique and stable")
            seen.add(rule.id)
        return self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def active_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]


def parse_policy(data: object, origin: str = "<policy>") -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise PolicyError(f"{origin}: invalid policy: {problems}") from exc


def load_policy(path: Path | str) -> Policy:
    """Read and validate a policy file; a wrong file fails here with the file and key named."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy file not found") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    return parse_policy(data, str(path))


def rebuild_trigger_schema() -> None:
    """Rebuild ``Rule`` and ``Policy`` from the trigger registry as it is now.

    The schema is built from the registry when this module is imported, which is all the product needs (every
    type is a module of ``missing_episodes.triggers``, imported by the registry). A test that defines a type of
    its own calls this after defining it, and again after restoring the registry.
    """
    global Trigger
    Trigger = trigger_union()
    # The field's annotation was resolved when the class was made; give it the new union, then rebuild the
    # validators of the rule and of the policy that embeds it.
    Rule.__pydantic_fields__["trigger"] = FieldInfo.from_annotation(Trigger)
    Rule.model_rebuild(force=True)
    Policy.model_rebuild(force=True)
