"""The data model: what a missing coordinator, a data engineer and an auditor need to find in one place.

Surrogate integer keys join the tables; every row that Prefect may ever name also has a ``ref``, a pseudonymous
id (``CH-…`` for a child, ``EP-…`` for an episode) that carries no personal data. Effects are keyed: a
notification by (source, message id), an action by a deterministic ``key``, a quarantined row by the hash of its
raw text, a delivered document by its ``key``; a replay therefore finds the row already there and changes
nothing twice. Every time is an aware UTC instant (see ``UTCDateTime``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from missing_episodes.clock import now
from missing_episodes.db.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), date: Date()}


class Child(Base):
    """A child or young person, from the authority's register or first met in a police notification."""

    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[date | None]
    # Normalised "last|first|yyyy-mm-dd": the only automatic match without a person id (never fuzzy).
    match_key: Mapped[str | None] = mapped_column(String(500), index=True)
    legal_status: Mapped[str] = mapped_column(String(32), default="none")
    uasc: Mapped[bool] = mapped_column(Boolean, default=False)
    responsible_authority: Mapped[str | None] = mapped_column(String(200))
    host_authority: Mapped[str | None] = mapped_column(String(200))
    allocated_worker: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    placement: Mapped[str | None] = mapped_column(String(500))
    placement_distance_miles: Mapped[float | None] = mapped_column(Float)
    # Find Me plan (Wakefield section 10).
    photo_ref: Mapped[str | None] = mapped_column(String(500))
    contacts: Mapped[str | None] = mapped_column(Text)
    likely_locations: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    return_address: Mapped[str | None] = mapped_column(Text)
    # The immigration and asylum solicitor, if the child has one (Surrey: "they should be notified").
    immigration_solicitor: Mapped[str | None] = mapped_column(Text)
    # Not known to the register: MASH screens the child (Wakefield section 3).
    needs_mash_screening: Mapped[bool] = mapped_column(Boolean, default=False)
    # Facts changed since the rules last ran for this child. Cleared only when the actions are stored, so an
    # ingest killed before its rules ran leaves the work visible to the next run instead of losing it.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    episodes: Mapped[list[Episode]] = relationship(back_populates="child")


class Notification(Base):
    """Every incoming message, kept verbatim with where it came from and what became of it."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("source", "message_id", name="uq_notification_source_message"),
        # An ingest's lookup of an incident's applied messages, answered from the index alone (migration 0005).
        Index("ix_notification_incident", "incident_ref", "source", "feed", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    feed: Mapped[str] = mapped_column(String(32))  # notifications | outcomes | children
    message_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=now)
    origin: Mapped[str | None] = mapped_column(String(500))  # file name and row, or URL
    payload: Mapped[str] = mapped_column(Text)  # the row as received, JSON
    content_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))  # applied | quarantined | conflict
    incident_ref: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]


class Episode(Base):
    """One missing or absent episode: the fold of every police message sharing an incident reference.

    The row is derived state: ``missing_episodes.episodes.fold`` recomputes it from the notifications in any
    order, so a replay, a duplicate or a ``found`` arriving before its ``missing`` all end in the same row.
    """

    __tablename__ = "episode"
    __table_args__ = (
        UniqueConstraint("source", "incident_ref", name="uq_episode_source_incident"),
        Index("ix_episode_child_start", "child_id", "started_at"),
        Index("ix_episode_status", "status"),
        # Outcomes and contact-log entries name an incident without its source; the briefing and the repeat
        # counts read episodes by start time. Without these both scan the table (bench/results.md).
        Index("ix_episode_incident", "incident_ref"),
        Index("ix_episode_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    source: Mapped[str] = mapped_column(String(100))
    incident_ref: Mapped[str] = mapped_column(String(100))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))
    kind: Mapped[str | None] = mapped_column(String(16))  # missing | absent | curfew | None until reported
    status: Mapped[str] = mapped_column(String(16))  # unconfirmed | open | returned
    started_at: Mapped[datetime | None]  # last seen, else reported: the start the rules count from
    last_seen_at: Mapped[datetime | None]
    last_seen_location: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None]
    found_at: Mapped[datetime | None]
    found_location: Mapped[str | None] = mapped_column(Text)
    return_notified_at: Mapped[datetime | None]
    risk_level: Mapped[str | None] = mapped_column(String(32))
    clothing: Mapped[str | None] = mapped_column(Text)
    areas_searched: Mapped[str | None] = mapped_column(Text)
    responsible_authority: Mapped[str | None] = mapped_column(String(200))
    # When the carer or provider contacted the police, if the force sent it (the form also reads a
    # ``police_contacted`` case event); not ``reported_at``, which is when the police's message reached us.
    reported_to_police_at: Mapped[datetime | None]
    # Placed here by another authority: recorded, forwarded, kept out of our figures (Wakefield section 3).
    other_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    state_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    # The exact name-and-birth-date key when the messages give no person id (None when they do): the episode's
    # child is then decided by that key alone, and decided again when a child with a person id takes the key
    # (``ingest.matching.settle_keys``), so identity does not depend on arrival order.
    match_key: Mapped[str | None] = mapped_column(String(500), index=True)
    # When a police message first flagged a risk of trafficking (Surrey: the Director told, not at 24 hours).
    trafficking_risk_at: Mapped[datetime | None]

    child: Mapped[Child | None] = relationship(back_populates="episodes")
    risk_history: Mapped[list[RiskAssessment]] = relationship(
        back_populates="episode", order_by="RiskAssessment.assessed_at", cascade="all, delete-orphan"
    )


class RiskAssessment(Base):
    """The police risk grading over time (high, medium, low, no apparent risk)."""

    __tablename__ = "risk_assessment"
    __table_args__ = (UniqueConstraint("episode_id", "notification_id", name="uq_risk_episode_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"))
    risk_level: Mapped[str] = mapped_column(String(32))
    assessed_at: Mapped[datetime]

    episode: Mapped[Episode] = relationship(back_populates="risk_history")


class ContactLog(Base):
    """Who was contacted or updated, when, and what was shared (Lilac Alliance incident record)."""

    __tablename__ = "contact_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), index=True)
    at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(16))  # contacted | updated | informed | police_update
    who: Mapped[str | None] = mapped_column(String(200))
    shared: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    # The case event behind the entry (``parent_informed``, ``contact_made``, ``police_reported`` ...; None for the
    # police's own updates), and the contact number or details of who was spoken to (Wokingham).
    event: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(Text)


class Outcome(Base):
    """A case event from the case-management system or a coordinator (RHI completed, meeting held, ...)."""

    __tablename__ = "outcome"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_outcome_source_event"),
        Index("ix_outcome_child_time", "child_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    incident_ref: Mapped[str | None] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(64))
    by: Mapped[str | None] = mapped_column(String(200))
    rationale: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # An assessment's risk grading (Wokingham: timescales shorten where risks are assessed).
    risk_level: Mapped[str | None] = mapped_column(String(32))


class Action(Base):
    """An obligation: what must be done, by when, under which rule of which policy version, and whether it was.

    ``status`` is what the record says (open, done, declined, not_required, withdrawn); "overdue" is not stored
    but read as of a time (open and past due), so the worklist for any moment is one query.
    """

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_due", "status", "due_at"),
        Index("ix_action_trigger", "trigger_at"),
        # Covers the interviewers' open loads, read at every allocation (each per-episode subflow): without
        # it that count read every open action of the history's row, once per child checked.
        Index("ix_action_assigned", "kind", "status", "assigned_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(100))
    policy_version: Mapped[str] = mapped_column(String(64))
    trigger_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))  # the role the rule names (Team Manager, ...)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    assignment_note: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    # Other rules asking for the same thing, folded into this action (a policy's ``same_duty_as``), comma-separated.
    also_rule_ids: Mapped[str | None] = mapped_column(Text)

    child: Mapped[Child] = relationship()
    episode: Mapped[Episode | None] = relationship()


class AuditEvent(Base):
    """Append-only trail: database triggers refuse UPDATE and DELETE on this table (see the migration)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    detail: Mapped[str | None] = mapped_column(Text)


class Quarantine(Base):
    """Input that could not be used, kept whole for a person to fix: source, row, field, reason, raw text."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "raw_hash", name="uq_quarantine_source_raw"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    feed: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(String(500))
    row_number: Mapped[int | None]
    field: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    raw_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None]
    # Who marked the row resolved and why (``missing-episodes quarantine resolve``/``retry``); also audited.
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class FeedCursor(Base):
    """How far an HTTP feed has been read (its since-cursor), so a poll resumes where the last one stopped."""

    __tablename__ = "feed_cursor"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Delivery(Base):
    """A document rendered and sent: keyed so a retried flow never sends the same form twice."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject_ref: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


class LegalStatusPeriod(Base):
    """A period of a child's legal status, from the register: a change is a new period, never an overwrite.

    The statutory returns and the board figures decide each episode by the status on the day it began (issue 15:
    a child who has since left care stays in the year's SSDA903 Missing return for the months in care).
    ``effective_from`` is the register's ``legal_status_from`` when it gives one, else the day the change was
    received; ``None`` on a child's first period means "since before anything we hold".
    """

    __tablename__ = "legal_status_period"
    __table_args__ = (Index("ix_legal_status_period_child", "child_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    legal_status: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=now)

    child: Mapped[Child] = relationship()


class RhiFinding(Base):
    """What a Return Home Interview found (``missing_episodes.findings``): one row per ``rhi_completed`` outcome.

    Reasons and concerns are codes from fixed lists (so the board and oversight figures count them); the child's
    views are free text and arrive only by the feed or the CLI, never through Prefect.
    """

    __tablename__ = "rhi_finding"
    __table_args__ = (Index("ix_rhi_finding_child_time", "child_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome.id"), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    recorded_at: Mapped[datetime]
    incident_ref: Mapped[str | None] = mapped_column(String(100))
    # ';'-separated codes of ``findings.REASONS`` and ``findings.CONCERNS``.
    reasons: Mapped[str | None] = mapped_column(Text)
    concerns: Mapped[str | None] = mapped_column(String(200))
    harm: Mapped[bool] = mapped_column(Boolean, default=False)
    child_views: Mapped[str | None] = mapped_column(Text)
    referral_made: Mapped[bool] = mapped_column(Boolean, default=False)
    find_me_plan_update: Mapped[bool] = mapped_column(Boolean, default=False)


class Notice(Base):
    """One notification: an action, a person told, and why (due, reassigned, overdue, escalated, form drafted).

    ``(action_key, recipient, reason)`` is unique: the row is inserted before anything is sent, so a retried run,
    a replay or a second worker finds it and sends nothing twice. A send that fails leaves the row ``failed`` with
    the error's type, retried on the next run and listed until it goes (``missing-episodes notices``). A worker
    claims a row (``claimed_until``) before sending, so two workers never send the same failed row twice.
    """

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("action_key", "recipient", "reason", name="uq_notice_action_recipient_reason"),
        Index("ix_notice_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the rules may delete an action whose trigger moved into the future; its notices stay, by key.
    action_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action_key: Mapped[str] = mapped_column(String(200))
    # An e-mail address, or "role:<role>" when nobody holding the role has one (status "unroutable").
    recipient: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(100))
    # Why this person: assignee, team_manager, a ladder role, on_call.
    recipient_role: Mapped[str | None] = mapped_column(String(100))
    event_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed | unroutable
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]
