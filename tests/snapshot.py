"""A database's content without surrogate ids and clock columns: what "the same database" means in tests."""

from __future__ import annotations

from sqlalchemy import select

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import (
    Action,
    Child,
    ContactLog,
    Episode,
    Notification,
    Outcome,
    Quarantine,
    RiskAssessment,
)

# Surrogate keys and clock columns differ between two equal databases; so do ``origin`` and ``row_number`` (which
# file and row a message or a quarantined row was first seen in), when a feed is replayed as other files.
VOLATILE = {"id", "created_at", "updated_at", "received_at", "child_id", "episode_id", "notification_id", "origin",
            "row_number"}


def _row(obj, extra: dict | None = None) -> tuple:
    data = {c.name: getattr(obj, c.key) for c in obj.__table__.columns if c.name not in VOLATILE}
    data.update(extra or {})
    return tuple(sorted((k, str(v)) for k, v in data.items()))


def snapshot(url: str) -> dict[str, list[tuple]]:
    with session_scope(url) as session:
        child_ref = dict(session.execute(select(Child.id, Child.ref)).all())
        episode_ref = dict(session.execute(select(Episode.id, Episode.ref)).all())
        message = dict(session.execute(select(Notification.id, Notification.message_id)).all())
        out: dict[str, list[tuple]] = {}
        out["child"] = sorted(_row(c) for c in session.scalars(select(Child)))
        out["episode"] = sorted(_row(e, {"child": child_ref.get(e.child_id)}) for e in session.scalars(select(Episode)))
        out["notification"] = sorted(_row(n) for n in session.scalars(select(Notification)))
        out["risk"] = sorted(
            _row(r, {"episode": episode_ref[r.episode_id], "message": message[r.notification_id]})
            for r in session.scalars(select(RiskAssessment))
        )
        out["outcome"] = sorted(_row(o, {"child": child_ref[o.child_id]}) for o in session.scalars(select(Outcome)))
        out["contact"] = sorted(_row(c) for c in session.scalars(select(ContactLog)))
        out["quarantine"] = sorted(_row(q) for q in session.scalars(select(Quarantine)))
        out["action"] = sorted(
            _row(a, {"child": child_ref[a.child_id], "episode": episode_ref.get(a.episode_id)})
            for a in session.scalars(select(Action))
        )
    return out
