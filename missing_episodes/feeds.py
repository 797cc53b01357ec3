"""Feed contracts: police notifications, case outcomes and the child register, validated row by row.

A row either becomes a typed record or a ``RowError`` naming the field and the reason, which the ingest keeps in
quarantine with the source and row number. Columns beyond the contract are kept (``extra``), never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator, model_validator

from missing_episodes.clock import TimeParseError, parse_time

FeedKind = Literal["notifications", "outcomes", "children"]
FEED_KINDS: tuple[str, ...] = ("notifications", "outcomes", "children")
#: The source a feed's files are stored under when none is named (``Notification`` rows are keyed by source and
#: message id, so the same file ingested under another name would be stored twice).
DEFAULT_SOURCE: dict[str, str] = {"children": "register", "notifications": "police", "outcomes": "case-management"}

#: Case events every authority can record; a policy may close its rules with further events (``done_by``).
OUTCOME_EVENTS = frozenset(
    {
        "rhi_completed",
        "rhi_declined",
        "strategy_meeting_held",
        "strategy_meeting_not_required",
        "serious_notification_sent",
        "assessed_missing",
        "assessed_not_in_touch",
        "media_interest",
        "returned",
        "contact_made",
        "update_given",
        "management_oversight_recorded",
        "risk_assessment_recorded",
        "safety_plan_recorded",
        "police_contacted",
    }
)


@dataclass(frozen=True)
class RowError:
    field: str | None
    reason: str


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_time(str(value))
    except TimeParseError as exc:
        raise ValueError(str(exc)) from None


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


# Blank cells are already None here (``_Row._blanks_to_none``); these say only what a present value must be.
Text = str | None
RequiredText = str
Time = Annotated[datetime | None, BeforeValidator(_time)]
RequiredTime = Annotated[datetime, BeforeValidator(_time)]
Day = Annotated[date | None, BeforeValidator(_day)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blanks_to_none(cls, data: Any) -> Any:
        """Every contract field stripped, and a blank one taken as not given, in one call a row.

        One pass over the row instead of a Python validator per field (most of validation's time). Columns
        beyond the contract are left as received.
        """
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        # _blank_to_none written out: a call per cell was a visible share of validation.
        return {
            name: (value.strip() or None) if name in fields and isinstance(value, str) else value
            for name, value in data.items()
        }

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class PoliceNotification(_Row):
    notification_id: RequiredText
    sent_at: RequiredTime
    event: Literal["missing", "absent", "found", "update"]
    incident_ref: RequiredText
    child_id: Text = None
    first_name: Text = None
    last_name: Text = None
    date_of_birth: Day = None
    last_seen_at: Time = None
    last_seen_location: Text = None
    found_at: Time = None
    found_location: Text = None
    risk_level: Literal["high", "medium", "low", "no_apparent_risk"] | None = None
    responsible_authority: Text = None
    clothing: Text = None
    notes: Text = None
    # When the carer or provider contacted the police (Lilac Alliance: "time police contacted"), if the force sends
    # it: a fact of its own, not the time the police's message reached the council (``sent_at``).
    reported_to_police_at: Time = None

    @property
    def message_id(self) -> str:
        return self.notification_id

    def check(self) -> RowError | None:
        """Rules across fields, which the field types alone cannot say."""
        if self.event in ("missing", "absent"):
            if self.last_seen_at is None:
                return RowError("last_seen_at", f"a {self.event} notification needs last_seen_at")
            if not self.child_id and not (self.first_name and self.last_name and self.date_of_birth):
                return RowError("child_id", "no identity: give child_id, or first_name, last_name and date_of_birth")
        if self.event == "found" and self.found_at is None:
            return RowError("found_at", "a found notification needs found_at")
        if self.found_at and self.last_seen_at and self.found_at < self.last_seen_at:
            return RowError("found_at", "found_at is before last_seen_at")
        return None


#: The police notification contract's columns, in order: what a feed file's header names.
NOTIFICATION_FIELDS: tuple[str, ...] = tuple(PoliceNotification.model_fields)
#: Contract columns a force may leave out of its files altogether (the synthetic force does).
OPTIONAL_NOTIFICATION_FIELDS: tuple[str, ...] = ("reported_to_police_at",)


class CaseOutcome(_Row):
    event_id: RequiredText
    recorded_at: RequiredTime
    child_id: RequiredText
    incident_ref: Text = None
    event: RequiredText
    by: Text = None
    rationale: Text = None
    notes: Text = None
    risk_level: Text = None

    @property
    def message_id(self) -> str:
        return self.event_id

    def check(self, known_events: frozenset[str] = OUTCOME_EVENTS) -> RowError | None:
        if self.event not in known_events:
            return RowError("event", f"unknown outcome event {self.event!r}")
        if self.event in ("strategy_meeting_not_required", "nrm_not_referred") and not self.rationale:
            return RowError("rationale", f"{self.event} needs the rationale recorded")
        return None


class ChildRecord(_Row):
    child_id: RequiredText
    first_name: Text = None
    last_name: Text = None
    date_of_birth: Day = None
    legal_status: Annotated[
        Literal["looked_after", "child_in_need", "child_protection", "care_leaver", "none"],
        BeforeValidator(lambda v: v or "none"),
    ] = "none"
    uasc: bool = False
    # The day the legal status took effect (optional): a change is then a period from that day, not from the day the
    # register row arrived.
    legal_status_from: Day = None
    responsible_authority: Text = None
    host_authority: Text = None
    allocated_worker: Text = None
    team: Text = None
    placement: Text = None
    placement_distance_miles: float | None = None
    # The child's immigration and asylum solicitor, if any (Surrey: "they should be notified").
    immigration_solicitor: Text = None
    photo_ref: Text = None
    contacts: Text = None
    likely_locations: Text = None
    phone: Text = None
    return_address: Text = None

    @field_validator("uasc", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered in ("yes", "y", "true", "1"):
            return True
        if lowered in ("no", "n", "false", "0"):
            return False
        raise ValueError(f"uasc must be yes or no, not {value!r}")

    @property
    def message_id(self) -> str:
        return self.child_id

    def check(self) -> RowError | None:
        return None


ROW_MODELS: dict[str, type[_Row]] = {
    "notifications": PoliceNotification,
    "outcomes": CaseOutcome,
    "children": ChildRecord,
}


def validate_row(
    kind: str, raw: dict[str, Any], known_events: frozenset[str] = OUTCOME_EVENTS
) -> PoliceNotification | CaseOutcome | ChildRecord | RowError:
    """One row of a feed, as a typed record or the first problem found (field and reason)."""
    model = ROW_MODELS[kind]
    try:
        record = model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else None
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "literal_error":
            message = f"{message} (got {error.get('input')!r})"
        return RowError(field, message)
    if isinstance(record, CaseOutcome):
        return record.check(known_events) or record
    return record.check() or record  # type: ignore[attr-defined]
