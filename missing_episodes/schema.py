"""The one pydantic configuration every policy model shares: strict (unknown keys refused) and frozen.

It sits below ``policy`` and ``triggers`` so the trigger types (one module each) and the policy schema that
embeds them validate a file the same way: a misspelt key fails on load, and a loaded policy cannot be mutated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of every policy model: extra keys are an error, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

# The episode kinds a rule can be about (or count): shared by the policy's scope and the trigger types.
EpisodeKind = Literal["missing", "absent", "curfew"]
