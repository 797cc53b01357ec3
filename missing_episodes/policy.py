"""Policy as data: one YAML file per authority holds every timescale, validated on load.

An authority changes a threshold by editing its file, with no release. Each rule has a stable ``id`` and the
policy a ``version``; both are stored on every action a rule creates, so an auditor can say which rule, in which
version, made a worker do what. The trigger *types* are code (``missing_episodes.triggers``); the rules are data:
a new rule of a known type (a 48-hour meeting, say) is a new entry in the file.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from missing_episodes.action_kinds import ACTION_KINDS
from missing_episodes.offsets import Offset
from missing_episodes.schema import EpisodeKind
from missing_episodes.schema import Strict as _Strict
from missing_episodes.triggers.registry import trigger_union

ActionKind = Literal[ACTION_KINDS]  # type: ignore[valid-type]
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
    # For a care leaver the rule's clock starts at this case event, not at the police's "last seen": an adult who
    # has left care is missing only once the authority has assessed them so (Wokingham: "discern whether a care
    # leaver is missing as opposed to not maintaining contact"). No such event for the episode, no action.
    care_leaver_clock_from: str | None = None
    # Only children whose register row names an immigration and asylum solicitor (Surrey: "they should be notified").
    has_immigration_solicitor: bool | None = None
    under_18: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data: Any) -> Any:
        """Say what replaces a key an older policy file may still carry, rather than only "extra field"."""
        if isinstance(data, dict) and "uasc_or_care_leaver" in data:
            raise ValueError(
                "uasc_or_care_leaver was retired in policy 2026.12 (it put care leavers who were never UASC on "
                "Surrey's schedule): use `uasc: true` and `care_leaver_clock_from: assessed_missing`"
            )
        return data


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
    until_age: int | None = Field(default=None, ge=1, le=25)
    # The id of another rule that asks for the same thing (Wokingham's and Surrey's Home Office notice for a
    # former-UASC care leaver). When both fire for the same child and episode, one action is kept under the other
    # rule's key, with the earlier due time, naming both rules; an event that closes either closes it.
    same_duty_as: str | None = None
    enabled: bool = True
    # Closing this rule's action needs the name and contact details of who was spoken to (Wokingham: "These
    # actions should be recorded clearly with the relevant name and contact number/details of those spoken to"):
    # a record of a closing event without them is refused in every channel (``vocabulary.contact_events``).
    record_contact: bool = False

    @model_validator(mode="after")
    def _repeats_and_windows_are_not_empty(self) -> Rule:
        """A repeat ``every`` of zero never advances (a rules run that never ends) and a zero ``window`` counts
        nothing (the rule silently off): both must be longer than zero. Negative or huge spans are refused by
        ``Offset`` itself."""
        for name in NON_EMPTY_SPANS:
            span = getattr(self.trigger, name, None)
            if isinstance(span, Offset) and span.is_zero():
                raise ValueError(f"trigger.{name} must be longer than zero (from a few hours up to one year)")
        return self

    @property
    def closing_events(self) -> frozenset[str]:
        """The case events that close this rule's actions: done, declined or not required."""
        return frozenset((*self.done_by, *self.declined_by, *self.not_required_by))


#: Trigger fields that must span more than zero (a repeat interval, a counting window).
NON_EMPTY_SPANS = ("every", "window")


class Allocation(_Strict):
    """Return Home Interview allocation (Wakefield section 6, Wolverhampton 3.9)."""

    team: str = "Return Interview Team"
    prefer_previous_worker: bool = True
    distant_placement_miles: float = Field(default=20, ge=0, le=1000, allow_inf_nan=False)
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

    overdue_window_days: int = Field(default=28, ge=1, le=366)


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
    # The reasons to choose from for every other event that needs one (a decline, a decision not to refer), by
    # event: the form offers exactly these; the feed and the CLI take the authority's own words as well.
    reasons: dict[str, list[Annotated[str, Field(min_length=3, max_length=200)]]] = {}

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


#: A UK telephone number as printed on a letter: digits and spaces, optionally +44, 10 or 11 digits in all.
PHONE_PATTERN = r"^(\+44 ?|0)[0-9][0-9 ]{8,12}[0-9]$"
EMAIL_PATTERN = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class Contact(_Strict):
    """How a young person reaches a person or a service: a telephone number, an e-mail address, or both."""

    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=120)

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not self.phone and not self.email:
            raise ValueError("give a phone number, an e-mail address or both")
        return self


class PersonalAdvisor(Contact):
    """A Personal Advisor of the Leaving Care Service, named as the register's ``allocated_worker`` names them."""

    name: str = Field(min_length=2, max_length=100)


class LeavingCare(_Strict):
    """Who a care leaver contacts (Wokingham: the written confirmation says they can come back, and how).

    The letter to a care leaver who does not want a service gives the service's duty line and, when the
    register's allocated worker is listed here, that Personal Advisor's own number or address; never an internal
    reference. Without a duty line the letter cannot be written (the builder says which key to set).
    """

    service: str = Field(default="Leaving Care Service", min_length=3, max_length=100)
    duty_line: Contact | None = None
    personal_advisors: list[PersonalAdvisor] = []

    @model_validator(mode="after")
    def _advisors_unique(self) -> LeavingCare:
        names = [advisor.name.casefold() for advisor in self.personal_advisors]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"personal_advisors lists {', '.join(duplicates)} more than once")
        return self

    def advisor(self, name: str | None) -> PersonalAdvisor | None:
        """The listed Personal Advisor of that name (case-insensitive), if any."""
        if not name:
            return None
        wanted = name.strip().casefold()
        return next((advisor for advisor in self.personal_advisors if advisor.name.casefold() == wanted), None)


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
    schedule_horizon_days: int = Field(default=8, ge=1, le=366)
    allocation: Allocation = Allocation()
    briefing: Briefing = Briefing()
    forms: Forms = Forms()
    rules: list[Rule]
    leaving_care: LeavingCare = LeavingCare()


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

    @model_validator(mode="after")
    def _same_duties_pair_up(self) -> Policy:
        """``same_duty_as`` names an existing rule of the same action kind that does not itself defer to another."""
        by_id = {rule.id: rule for rule in self.rules}
        for rule in self.rules:
            if rule.same_duty_as is None:
                continue
            other = by_id.get(rule.same_duty_as)
            if other is None:
                raise ValueError(f"rule {rule.id!r}: same_duty_as names no rule of this policy: {rule.same_duty_as!r}")
            if other.action != rule.action:
                raise ValueError(
                    f"rule {rule.id!r}: same_duty_as {other.id!r} is a {other.action}, not a {rule.action}")
            if other.same_duty_as is not None or other.id == rule.id:
                raise ValueError(f"rule {rule.id!r}: same_duty_as {other.id!r} must name a rule that names none")
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
    """Validate a policy; every problem is put on one line naming the key, the rule's id and what is allowed."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(error, data) for error in exc.errors())
        raise PolicyError(f"{origin}: invalid policy: {problems}") from exc


def _problem(error: Any, data: object) -> str:
    """``rules.0.due.hours (rule rhi): -72 is out of range: ...``: the key path, the rule's id when the problem
    is inside a rule (its index alone sends a person counting entries), and pydantic's message without its
    ``Value error,`` prefix."""
    loc = [str(part) for part in error["loc"]]
    where = ".".join(loc)
    if len(loc) >= 2 and loc[0] == "rules" and loc[1].isdigit():
        rules = data.get("rules") if isinstance(data, dict) else None
        index = int(loc[1])
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
            rule_id = rules[index].get("id")
            if rule_id is not None:
                where = f"{where} (rule {rule_id})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}".replace("\n", " ").replace("\r", " ")


#: Bumped by ``rebuild_trigger_schema``: a policy validated against an older trigger schema is not reused.
_schema_generation = 0


def load_policy(path: Path | str) -> Policy:
    """Read and validate a policy file; a wrong file fails here with the file and key named.

    A file read before is not parsed again while it is unchanged (same size and modification time): a
    long-running process (the desk, a worker) loads the policy for every run, and validating it costs about
    0.1 s. An authority's edit changes the file's time, so the next run reads the new rules; the policy is
    immutable, so sharing one instance is safe."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy file not found") from exc
    return _load_unchanged(str(path), stat.st_mtime_ns, stat.st_size, _schema_generation)


@functools.lru_cache(maxsize=8)
def _load_unchanged(path: str, mtime_ns: int, size: int, generation: int) -> Policy:
    """``load_policy``'s work, remembered per file version (the arguments after ``path`` are the cache key)."""
    try:
        # libyaml's safe loader when built in: the same data, a tenth of the CPU (every command reads the policy).
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy file not found") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    return parse_policy(data, path)


def rebuild_trigger_schema() -> None:
    """Rebuild ``Rule`` and ``Policy`` from the trigger registry as it is now.

    The schema is built from the registry when this module is imported, which is all the product needs (every
    type is a module of ``missing_episodes.triggers``, imported by the registry). A test that defines a type of
    its own calls this after defining it, and again after restoring the registry.
    """
    global Trigger, _schema_generation
    Trigger = trigger_union()
    _schema_generation += 1
    # The field's annotation was resolved when the class was made; give it the new union, then rebuild the
    # validators of the rule and of the policy that embeds it.
    Rule.__pydantic_fields__["trigger"] = FieldInfo.from_annotation(Trigger)
    Rule.model_rebuild(force=True)
    Policy.model_rebuild(force=True)
