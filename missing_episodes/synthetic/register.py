"""Register rows: a child's date of birth, placement, worker and Find Me plan (Wakefield section 10), drawn."""

from __future__ import annotations

import random
from datetime import date

from missing_episodes.synthetic.draws import pick, randint
from missing_episodes.synthetic.emitter import ChildRef
from missing_episodes.synthetic.timeline import DAY
from missing_episodes.synthetic.vocabulary import (
    PERSONAL_ADVISERS,
    PLACEMENTS_FAR,
    PLACEMENTS_NEAR,
    PLACES,
    SOCIAL_WORKERS,
    STREETS,
    TEAMS,
)

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def birth_date(rng: random.Random, age: int, at: int) -> str:
    """A date of birth making the child ``age`` at instant ``at``."""
    day = date.fromordinal(_EPOCH_ORDINAL + at // DAY)
    born = day.toordinal() - age * 365 - randint(rng, 10, 355) - age // 4
    return date.fromordinal(born).isoformat()


def _phone(rng: random.Random) -> str:
    return f"07700 900{randint(rng, 0, 999):03d}"  # Ofcom's range reserved for drama: never a real number


def register_row(
    rng: random.Random,
    child: ChildRef,
    *,
    team: str | None = None,
    distance: float | None = None,
    placement: str | None = None,
) -> list[str]:
    """A full register row with a Find Me plan (Wakefield section 10)."""
    status = child.legal_status
    if distance is None:
        if status == "looked_after":
            distance = rng.uniform(21, 85) if rng.random() < 0.2 else rng.uniform(0.5, 12)
        else:
            distance = rng.uniform(0, 3)
    if placement is None:
        if status == "looked_after":
            placement = pick(rng, PLACEMENTS_FAR if distance > 20 else PLACEMENTS_NEAR)
        elif status == "care_leaver":
            placement = "Own tenancy, Kingsbridge"
        else:
            placement = pick(rng, ("Home with mother", "Home with parents", "Home with father & stepmother"))
    team = team or pick(rng, TEAMS[status])
    worker = pick(rng, PERSONAL_ADVISERS if status == "care_leaver" else SOCIAL_WORKERS)
    friend = pick(rng, ("Jay", "Kez", "Mo", "Tash", "Lils"))
    contacts = (
        f"{pick(rng, ('Mum', 'Dad', 'Nan', 'Aunt', 'Older brother'))} {_phone(rng)}; friend '{friend}' (no number)"
    )
    likely = "; ".join(rng.sample(PLACES, 3))
    address = (
        f"{randint(rng, 1, 120)} {pick(rng, STREETS)}, Kingsbridge KB{randint(rng, 1, 9)} {randint(rng, 1, 9)}AB"
    )
    return [
        child.child_id,
        child.first_name,
        child.last_name,
        child.date_of_birth,
        status,
        "yes" if child.uasc else "no",
        child.responsible_authority,
        worker,
        team,
        f"{distance:.1f}",
        placement,
        f"photos/{child.child_id}.jpg",
        contacts,
        likely,
        _phone(rng),
        address,
    ]
