"""Plain views of stored rows that every document shares: a child, their Find Me plan, the briefing moment.

Documents take frozen dataclasses, never ORM rows, so that a template cannot lazy-load more of the store than
the builder chose to show, and a document's content can be asserted on without rendering it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from missing_episodes.clock import age_on, london_instant
from missing_episodes.db.models import Child, Episode

#: Wakefield's daily missing briefing sits each working morning; "since the last briefing" counts from the last one.
BRIEFING_TIME = time(8, 30)
RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "no_apparent_risk": 3}


@dataclass(frozen=True)
class ChildView:
    """Who the child is, as the coordinator and the team manager need to see it."""

    ref: str
    name: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    age: int | None
    legal_status: str
    uasc: bool
    allocated_worker: str | None
    team: str | None
    placement: str | None
    placement_distance_miles: float | None
    responsible_authority: str | None
    needs_mash_screening: bool


@dataclass(frozen=True)
class FindMePlan:
    """Wakefield section 10: what police need to find the child."""

    photo_ref: str | None
    contacts: str | None
    likely_locations: str | None
    phone: str | None
    return_address: str | None

    @property
    def gaps(self) -> list[str]:
        """The Find Me plan items not on file, so the briefing can ask for them."""
        names = {
            "photo_ref": "photograph",
            "contacts": "contacts",
            "likely_locations": "likely locations",
            "phone": "phone",
            "return_address": "return address",
        }
        return [label for field, label in names.items() if not getattr(self, field)]


def child_view(child: Child | None, at: datetime) -> ChildView:
    """A child as a view; an episode not yet matched to a child shows as unknown rather than failing the pack."""
    if child is None:
        return ChildView(
            "—", "Not yet identified", "", "", None, None, "none", False, None, None, None, None, None, True
        )
    first, last = (child.first_name or "").strip(), (child.last_name or "").strip()
    return ChildView(
        ref=child.ref,
        name=" ".join(part for part in (first, last) if part) or "Name not recorded",
        first_name=first,
        last_name=last,
        date_of_birth=child.date_of_birth,
        age=age_on(child.date_of_birth, at) if child.date_of_birth else None,
        legal_status=child.legal_status,
        uasc=child.uasc,
        allocated_worker=child.allocated_worker,
        team=child.team,
        placement=child.placement,
        placement_distance_miles=child.placement_distance_miles,
        responsible_authority=child.responsible_authority,
        needs_mash_screening=child.needs_mash_screening,
    )


def find_me_plan(child: Child | None) -> FindMePlan:
    if child is None:
        return FindMePlan(None, None, None, None, None)
    return FindMePlan(child.photo_ref, child.contacts, child.likely_locations, child.phone, child.return_address)


def briefing_moment(day: date) -> datetime:
    """08:30 Europe/London on ``day``, as a UTC instant."""
    return london_instant(day, BRIEFING_TIME)


def missing_at(episode: Episode, at: datetime) -> bool:
    """Was the episode open at ``at``: started, reported by then, and not yet found."""
    if episode.started_at is None or episode.started_at > at:
        return False
    if episode.reported_at is not None and episode.reported_at > at:
        return False
    return episode.found_at is None or episode.found_at > at


def risk_sort_key(risk: str | None) -> int:
    return RISK_ORDER.get(risk or "", len(RISK_ORDER))
