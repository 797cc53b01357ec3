"""Trigger types: one module each (schema, per-child and vectorised evaluation), found by ``registry``.

See ``base`` for what a type must provide; the README's "Adding a rule type" walks through adding one. The
types themselves are imported from their modules (``missing_episodes.triggers.returned`` ...): nothing here
lists them, so a new type is one new module.
"""

from __future__ import annotations

from missing_episodes.triggers import registry
from missing_episodes.triggers.base import (
    ChildRun,
    EpisodeColumns,
    EpisodeTrigger,
    Fired,
    InScope,
    RepeatThreshold,
    TriggerType,
    applies,
    high_risk,
)

__all__ = [
    "ChildRun", "EpisodeColumns", "EpisodeTrigger", "Fired", "InScope", "RepeatThreshold", "TriggerType", "applies",
    "high_risk", "registry",
]
