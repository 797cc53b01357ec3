"""Feed contracts: police notifications, case outcomes and the child register, validated row by row.

A row either becomes a typed record or a ``RowError`` naming the field and the reason, which the ingest keeps in
quarantine with the source and row number. Columns beyond the contract are kept (``extra``), never rejected.

A value must also fit where it is stored: the longest text a field takes is the size of the columns it is written
to, read from the SQLAlchemy models (``column_length``), so a value PostgreSQL would refuse or cut is quarantined
here, on both databases alike; and no value may hold a NUL character or a lone surrogate, which neither database
can store as text (``unstorable``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from missing_episodes.clock import TimeParseError, parse_time
from missing_episodes.db.models import Child, ContactLog, Episode, Notification, Outcome
from missing_episodes.findings import findings_problem
from missing_episodes.identity import match_key

FeedKind = Literal["notifications", "outcomes", "children"]
FEED_KINDS: tuple[str, ...] = ("notifications", "outcomes", "children")
#: The source a feed's files are stored under when none is named (``Notification`` rows are keyed by source and
#: message id, so the same file ingested under another name would be stored twice).
DEFAULT_SOURCE: dict[str, str] = {"children": "register", "notifications": "police", "outcomes": "case-management"}

#: Who the service tells promptly when a child goes missing, one event each (Lilac Alliance s5: "Parents,
#: guardians, social care teams and EDT will be promptly informed"): event -> the party, as the record names it.
INFORMED_EVENTS: dict[str, str] = {
    "parent_informed": "parent",
    "guardian_informed": "guardian",
    "social_care_informed": "social care team",
    "edt_informed": "Emergency Duty Team",
}
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
        # Wakefield s2: "Hidden missing child ... A child who is or has been missing, but has not been reported to
        # the police": recorded by the service, never by the police feed (rules ``hidden.police_report`` and
        # ``rhi.hidden_missing``).
        "hidden_missing",
        # Surrey: "at risk of trafficking": the service's own record of the risk (the police feed's flag is the other
        # way in); ``ltm.trafficking_risk_director`` starts from it.
        "trafficking_risk_identified",
        *INFORMED_EVENTS,
    }
)
#: Events that need their rationale or reason recorded when no policy says more (``OutcomeVocabulary``).
RATIONALE_EVENTS = frozenset({"strategy_meeting_not_required", "nrm_not_referred", "rhi_declined"})


class OutcomeVocabulary(frozenset[str]):
    """The outcome events a feed accepts, and which of them need a rationale (or a decline's reason).

    A frozenset of events, so every caller that only asks "is this event known" reads it as before; built from
    the policy by ``missing_episodes.vocabulary.outcome_vocabulary``, so the feed, the form and the CLI agree.
    """

    needs_rationale: frozenset[str]
    #: Events whose record must name who was spoken to and how to reach them (``Rule.record_contact``).
    needs_contact: frozenset[str]

    def __new__(cls, events: frozenset[str] | set[str], needs_rationale: frozenset[str] | set[str],
                needs_contact: frozenset[str] | set[str] = frozenset()) -> OutcomeVocabulary:
        vocabulary = super().__new__(cls, events)
        vocabulary.needs_rationale = frozenset(needs_rationale)
        vocabulary.needs_contact = frozenset(needs_contact)
        return vocabulary


@dataclass(frozen=True)
class RowError:
    """Why a row cannot be used: the field at fault (``ROW`` for the row as a whole) and the reason."""

    field: str | None
    reason: str


#: The ``field`` of a problem with a row as a whole (not a JSON object, a wrong number of CSV fields, ...).
ROW = "row"
#: The ``field`` of a problem with a file as a whole (not readable, the header of another feed, ...).
FILE = "file"
NUL_REASON = "contains a NUL character"
SURROGATE_REASON = "contains a lone surrogate (not valid Unicode)"


def column_length(*columns: Any) -> int:
    """The longest text every one of these model columns holds: the one source of a field's maximum length."""
    return min(column.property.columns[0].type.length for column in columns)


#: An id must fit ``Notification.message_id``, ``Outcome.event_id`` and the contact log's ``source:id`` key.
MESSAGE_ID_LENGTH = min(
    column_length(Notification.message_id, Outcome.event_id),
    column_length(ContactLog.key) - column_length(Notification.source) - 1,
)
#: The longest source name (``Notification.source``); the ingest refuses a longer one before reading a row.
SOURCE_LENGTH = column_length(Notification.source)
#: A normalised name and birth date (``identity.match_key``) must fit ``Child.match_key``.
MATCH_KEY_LENGTH = column_length(Child.match_key)


def _limited(length: int) -> Any:
    """Optional text of at most ``length`` characters (after stripping)."""
    return Annotated[str | None, Field(max_length=length)]


def _required(length: int) -> Any:
    return Annotated[str, Field(max_length=length)]


def unstorable(data: dict[str, Any], text: str | None = None) -> RowError | None:
    """The first key or value (nested ones too) holding a NUL character or a lone surrogate, as a ``RowError``.

    PostgreSQL refuses a NUL in text and neither driver can encode a lone surrogate (JSON's ``"\\ud800"``), so
    such a row is quarantined whole, on both databases alike, rather than stored stripped (a silent change).
    ``text``, the row's JSON (``identity.canonical_json``, which writes a NUL as ``\\u0000``), lets the common
    clean row pass with two string scans instead of a look at every value.
    """
    if text is not None and "\\u0000" not in text and _text_problem(text) is None:
        return None
    for key, value in data.items():
        if reason := _text_problem(key):
            return RowError(ROW, reason)  # a key that cannot be stored cannot name the field either
        if reason := _value_problem(value):
            return RowError(key, reason)
    return None


_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` made storable and readable: a NUL as ``\\x00``, a byte that was not UTF-8 (decoded with
    ``surrogateescape``) as ``\\xNN``, a lone surrogate as ``\\udNNN``; everything else unchanged."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return "\\x00" if code == 0 else f"\\u{code:04x}"


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, dict):
        return next((r for k, v in value.items() if (r := _text_problem(str(k)) or _value_problem(v))), None)
    if isinstance(value, list):
        return next((r for v in value if (r := _value_problem(v))), None)
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return NUL_REASON
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_REASON
    return None


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


def yes_no(value: Any, name: str, blank: bool | None) -> bool | None:
    """A yes/no cell as a bool (``blank`` when not given); anything else is the field's error."""
    if value is None:
        return blank
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in ("yes", "y", "true", "1"):
        return True
    if lowered in ("no", "n", "false", "0"):
        return False
    raise ValueError(f"{name} must be yes or no, not {value!r}")


#: The police events that start an episode, each its own kind (``episodes.fold``).
EPISODE_EVENTS: tuple[str, ...] = ("missing", "absent", "curfew")

# Blank cells are already None here (``_Row._blanks_to_none``); these say only what a present value must be.
Text = str | None
RequiredText = str
Time = Annotated[datetime | None, BeforeValidator(_time)]
RequiredTime = Annotated[datetime, BeforeValidator(_time)]
Day = Annotated[date | None, BeforeValidator(_day)]


class _Row(BaseModel):
    # allow_inf_nan: "nan" is not a distance.
    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

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


_PERSON_ID = column_length(Child.person_id)
_NAME = column_length(Child.first_name, Child.last_name)
_INCIDENT = column_length(Notification.incident_ref, Episode.incident_ref, Outcome.incident_ref)
_AUTHORITY = column_length(Episode.responsible_authority, Child.responsible_authority)


class PoliceNotification(_Row):
    notification_id: _required(MESSAGE_ID_LENGTH)
    sent_at: RequiredTime
    # ``curfew``: missing from curfew (Wolverhampton: "distinguising the difference between missing episodes from
    # those missing from curfew"), an episode of its own kind, apart from missing and absent.
    event: Literal["missing", "absent", "curfew", "found", "update"]
    incident_ref: _required(_INCIDENT)
    child_id: _limited(_PERSON_ID) = None
    first_name: _limited(_NAME) = None
    last_name: _limited(_NAME) = None
    date_of_birth: Day = None
    last_seen_at: Time = None
    last_seen_location: Text = None
    found_at: Time = None
    found_location: Text = None
    risk_level: Literal["high", "medium", "low", "no_apparent_risk"] | None = None
    responsible_authority: _limited(_AUTHORITY) = None
    clothing: Text = None
    notes: Text = None
    # When the carer or provider contacted the police (Lilac Alliance: "time police contacted"), if the force sends
    # it: a fact of its own, not the time the police's message reached the council (``sent_at``).
    reported_to_police_at: Time = None
    # The force's own flag that the child is at risk of trafficking (yes/no; blank: not said). Surrey: "Director to
    # be notified if an Unaccompanied Asylum Seeking Child/Care Leaver is at risk of trafficking": the flag raises
    # the same duty as the case event ``trafficking_risk_identified`` (``bulk.facts``).
    trafficking_risk: bool | None = None

    @field_validator("trafficking_risk", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool | None:
        return yes_no(value, "trafficking_risk", blank=None)

    @property
    def message_id(self) -> str:
        return self.notification_id

    @property
    def message_time(self) -> datetime:
        """When the sender made the message: the message table's ``sent_at``."""
        return self.sent_at

    def check(self) -> RowError | None:
        """Rules across fields, which the field types alone cannot say."""
        if long_name := _name_too_long(self.first_name, self.last_name, self.date_of_birth):
            return long_name
        if self.event in EPISODE_EVENTS:
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
OPTIONAL_NOTIFICATION_FIELDS: tuple[str, ...] = ("reported_to_police_at", "trafficking_risk")


def _name_too_long(first: str | None, last: str | None, born: date | None) -> RowError | None:
    """A name that grows past ``Child.match_key`` once normalised (NFKD expands some characters many times)."""
    if first and last and born and not (first.isascii() and last.isascii()):
        key = match_key(first, last, born)
        if key and len(key) > MATCH_KEY_LENGTH:
            return RowError("first_name", f"the name is longer than {MATCH_KEY_LENGTH} characters once normalised")
    return None


class CaseOutcome(_Row):
    event_id: _required(MESSAGE_ID_LENGTH)
    recorded_at: RequiredTime
    child_id: _required(_PERSON_ID)
    incident_ref: _limited(_INCIDENT) = None
    event: _required(column_length(Outcome.event))
    by: _limited(column_length(Outcome.by, ContactLog.recorded_by, ContactLog.who)) = None
    rationale: Text = None
    notes: Text = None
    risk_level: _limited(column_length(Outcome.risk_level)) = None
    #: Who was contacted, updated or informed (the contact log's ``who``; ``by`` when not given).
    who: _limited(column_length(ContactLog.who)) = None
    #: Their contact number or other details (Wokingham: "the relevant name and contact number/details of those
    #: spoken to"; required for the events the policy says so of).
    contact: Text = None

    @property
    def message_id(self) -> str:
        return self.event_id

    @property
    def message_time(self) -> datetime:
        """When the sender made the message: the message table's ``sent_at``."""
        return self.recorded_at

    def check(self, known_events: frozenset[str] = OUTCOME_EVENTS) -> RowError | None:
        if self.event not in known_events:
            return RowError("event", f"unknown outcome event {self.event!r}")
        needs = known_events.needs_rationale if isinstance(known_events, OutcomeVocabulary) else RATIONALE_EVENTS
        if self.event in needs and not self.rationale:
            return RowError("rationale", f"{self.event} needs the rationale recorded")
        if isinstance(known_events, OutcomeVocabulary) and self.event in known_events.needs_contact:
            for name in ("who", "contact"):
                if not (getattr(self, name) or "").strip():
                    return RowError(name, f"{self.event} needs the name and contact number/details of who was "
                                          "spoken to (who, contact)")
        problem = findings_problem(self.event, self.extra)
        return RowError(problem[0], problem[1]) if problem else None


class ChildRecord(_Row):
    child_id: _required(_PERSON_ID)
    first_name: _limited(_NAME) = None
    last_name: _limited(_NAME) = None
    date_of_birth: Day = None
    legal_status: Annotated[
        Literal["looked_after", "child_in_need", "child_protection", "care_leaver", "none"],
        BeforeValidator(lambda v: v or "none"),
    ] = "none"
    uasc: bool = False
    # The day the legal status took effect (optional): a change is then a period from that day, not from the day the
    # register row arrived.
    legal_status_from: Day = None
    responsible_authority: _limited(column_length(Child.responsible_authority)) = None
    host_authority: _limited(column_length(Child.host_authority)) = None
    allocated_worker: _limited(column_length(Child.allocated_worker)) = None
    team: _limited(column_length(Child.team)) = None
    placement: _limited(column_length(Child.placement)) = None
    placement_distance_miles: float | None = None
    # The child's immigration and asylum solicitor, if any (Surrey: "they should be notified").
    immigration_solicitor: Text = None
    photo_ref: _limited(column_length(Child.photo_ref)) = None
    contacts: Text = None
    likely_locations: Text = None
    phone: _limited(column_length(Child.phone)) = None
    return_address: Text = None

    @field_validator("uasc", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> bool:
        return bool(yes_no(value, "uasc", blank=False))

    @property
    def message_id(self) -> str:
        return self.child_id

    def check(self) -> RowError | None:
        return _name_too_long(self.first_name, self.last_name, self.date_of_birth)


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


def required_fields(kind: str) -> frozenset[str]:
    """The fields every row of this feed must have."""
    return frozenset(name for name, info in ROW_MODELS[kind].model_fields.items() if info.is_required())


def columns_problem(kind: str, columns: Iterable[str], from_header: bool = True) -> str | None:
    """Why a file with these columns (a CSV header, or a JSON file's first object) is not a file of this feed.

    A CSV header lacking a field every row needs, or a file with every field another feed requires that this
    feed does not even know (an outcomes file has ``event_id``; the register's one required column, ``child_id``,
    is in every feed), is refused as a whole: every row would otherwise be quarantined one by one, or worse, an
    outcome taken for a register row. A JSON file's first object is one row, which may just be a bad one: it
    refuses the file only when it is another feed's. The reason names contract fields only, never a value (a
    header-less file's first row would be data).
    """
    present = {str(name).strip() for name in columns}
    known = set(ROW_MODELS[kind].model_fields)
    missing = sorted(required_fields(kind) - present)
    other = next(
        (name for name in FEED_KINDS if name != kind and required_fields(name) <= present
         and not required_fields(name) <= known),
        None,
    )  # fmt: skip
    if other is None and (not missing or not from_header):
        return None
    lacking = f": missing {', '.join(missing)}" if missing else ""
    looks = f" (it has the columns of the {other} feed)" if other else ""
    return f"the header does not match the {kind} feed{lacking}{looks}"
