"""The store: SQLAlchemy 2 models, engine and migrations. The database is the source of truth."""

from missing_episodes.db.engine import make_engine, session_scope, upgrade
from missing_episodes.db.models import (
    Action,
    AuditEvent,
    Base,
    Child,
    ContactLog,
    Delivery,
    Episode,
    FeedCursor,
    Notification,
    Outcome,
    Quarantine,
    RiskAssessment,
)

__all__ = [
    "Action",
    "AuditEvent",
    "Base",
    "Child",
    "ContactLog",
    "Delivery",
    "Episode",
    "FeedCursor",
    "Notification",
    "Outcome",
    "Quarantine",
    "RiskAssessment",
    "make_engine",
    "session_scope",
    "upgrade",
]
