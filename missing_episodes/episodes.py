"""An episode is the fold of every police message about one incident, in any order.

Police send ``missing``/``absent`` when a child goes, ``update`` as risk and facts change, ``found`` on return,
and a feed may deliver them late, twice or out of order. ``fold`` sorts the messages by when they were sent
and takes each fact from the latest message that states it, so the same set of messages gives the same
episode however it arrived: that is what makes ingest replay-safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

from missing_episodes.feeds import EPISODE_EVENTS, PoliceNotification
from missing_episodes.identity import canonical_json, content_hash


@dataclass(frozen=True)
class Message:
    """A stored police notification, as the fold needs it."""

    id: int
    notification: PoliceNotification

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.notification.sent_at, self.notification.notification_id)


@dataclass
class EpisodeState:
    kind: str | None = None
    status: str = "unconfirmed"
    started_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_seen_location: str | None = None
    reported_at: datetime | None = None
    found_at: datetime | None = None
    found_location: str | None = None
    return_notified_at: datetime | None = None
    risk_level: str | None = None
    clothing: str | None = None
    areas_searched: str | None = None
    reported_to_police_at: datetime | None = None  # the earliest the messages give (Lilac: time police contacted)
    trafficking_risk_at: datetime | None = None  # the first message flagging a risk of trafficking (Surrey)
    responsible_authority: str | None = None
    person_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    message_count: int = 0
    # (sent at, level, stored row id, notification id): the row id links the history to its message.
    risk_history: list[tuple[datetime, str, int, str]] = field(default_factory=list)

    def fingerprint(self) -> str:
        """A hash of every derived fact: an unchanged hash means the episode did not change.

        Row ids are left out: they depend on the order messages arrived in, the facts do not.
        """
        # Fields read one by one: dataclasses.asdict deep-copies, a third of a refold's time at region scale.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if data["reported_to_police_at"] is None:
            del data["reported_to_police_at"]  # a fact added later: episodes without it keep their stored hash
        if data["trafficking_risk_at"] is None:
            del data["trafficking_risk_at"]  # likewise
        data["risk_history"] = [(at, level, nid) for at, level, _row, nid in self.risk_history]
        return content_hash(canonical_json(data))


def fold(messages: list[Message]) -> EpisodeState:
    state = EpisodeState()
    ordered = sorted(messages, key=lambda m: m.order)
    state.message_count = len(ordered)
    kinds = {m.notification.event for m in ordered}
    # A child the police call missing at any point is missing; else absent; else missing from curfew (Wolverhampton
    # keeps curfew apart: a missing or absent message about the same incident makes it that kind instead).
    state.kind = next((kind for kind in EPISODE_EVENTS if kind in kinds), None)
    for message in ordered:
        n = message.notification
        if n.trafficking_risk and state.trafficking_risk_at is None:
            state.trafficking_risk_at = n.sent_at
        if n.event in EPISODE_EVENTS and state.reported_at is None:
            state.reported_at = n.sent_at
        if n.event == "found" and state.return_notified_at is None:
            state.return_notified_at = n.sent_at
        for name in (
            "last_seen_at",
            "last_seen_location",
            "found_at",
            "found_location",
            "clothing",
            "responsible_authority",
            "first_name",
            "last_name",
            "date_of_birth",
        ):
            value = getattr(n, name)
            if value is not None:
                setattr(state, name, value)
        if n.child_id:
            state.person_id = n.child_id
        if n.risk_level:
            state.risk_level = n.risk_level
            state.risk_history.append((n.sent_at, n.risk_level, message.id, n.notification_id))
        if n.reported_to_police_at is not None and (
            state.reported_to_police_at is None or n.reported_to_police_at < state.reported_to_police_at
        ):
            state.reported_to_police_at = n.reported_to_police_at
        areas = n.extra.get("areas_searched")
        if isinstance(areas, str) and areas.strip():
            state.areas_searched = areas.strip()
    state.started_at = state.last_seen_at or state.reported_at
    if state.kind is None:
        state.status = "unconfirmed"
    elif state.found_at is not None or state.return_notified_at is not None:
        state.status = "returned"
    else:
        state.status = "open"
    return state
