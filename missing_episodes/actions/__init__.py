"""Keeping the stored actions equal to what the rules say, one job per module:

* ``recompute``: ``recompute_children``, the one place actions are written;
* ``evaluators``: the strategies it takes, ``PER_CHILD`` and ``VECTORISED``;
* ``context``: ``RecomputeRun``, what every group of one recomputation shares;
* ``diff``: what to change, by key, and each change's audit event;
* ``writers``: the changes applied as ORM objects or as set-based statements;
* ``allocating``: Return Home Interviews given to workers as they are stored;
* ``review_queue``: which children wait for a run; ``summary``: the counts a run returns.

The facts are read by ``missing_episodes.bulk.facts``, the one loader both evaluators share.
"""

from __future__ import annotations

from missing_episodes.actions.context import RecomputeRun
from missing_episodes.actions.evaluators import PER_CHILD, VECTORISED, Evaluator, PerChild, Vectorised
from missing_episodes.actions.recompute import recompute_children
from missing_episodes.actions.review_queue import children_needing_review
from missing_episodes.actions.summary import RecomputeSummary

__all__ = [
    "PER_CHILD", "VECTORISED", "Evaluator", "PerChild", "RecomputeRun", "RecomputeSummary", "Vectorised",
    "children_needing_review", "recompute_children",
]
