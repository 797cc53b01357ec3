"""The rules for many children at once: the bulk path's evaluator, vectorised with pandas/numpy.

``rules.evaluate_child`` is the definition and the per-episode path's evaluator. It is plain Python per child,
right for the tens of children a day brings but minutes for a region's ten years (a first load, a policy
change). This package computes the same actions for whole columns of episodes where each trigger type can
(``TriggerType.fire_columns``) and hands the other children to ``evaluate_child`` whole:

* ``facts``: the one loader of the rules' facts, as columns (and as objects for the per-child evaluator);
* ``scope``: which rules run on columns, which children go per child;
* ``frame``: the column evaluator (rule scope, trigger, due times);
* ``evaluate``: both put together and closed by the case events, equal to ``evaluate_child`` for every child.
"""

from __future__ import annotations

from missing_episodes.bulk.evaluate import evaluate_bulk
from missing_episodes.bulk.facts import Facts, child_facts, episode_facts, load_facts, outcome_facts
from missing_episodes.bulk.frame import SPEC_COLUMNS, evaluate_frame
from missing_episodes.bulk.scope import fallback_children, on_columns

__all__ = [
    "SPEC_COLUMNS", "Facts", "child_facts", "episode_facts", "evaluate_bulk", "evaluate_frame", "fallback_children",
    "load_facts", "on_columns", "outcome_facts",
]
