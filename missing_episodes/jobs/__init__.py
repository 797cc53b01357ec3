"""The one seam between the Prefect layer and the domain: every unit of work is a function of one ``Context``.

A job opens its own transactions from ``context.session()``, reads the policy from ``context.policy`` and
returns ids, refs, dates, counts and file paths only: what it returns is what a task hands to Prefect, so
nothing here may name a child. Each job is called by exactly one task in ``tasks/`` (``tests/test_layers.py``
checks it), and the CLI's read-only commands call the same jobs without Prefect.

The modules mirror ``tasks/``: ``ingest`` (schema, files, HTTP feeds, archiving), ``rules`` (reviews, the rules
per child and in batches, recomputation requests), ``documents`` (render and deliver), ``reports`` (the board
and oversight reports, the statutory returns).
"""

from missing_episodes.jobs.context import Context

__all__ = ["Context"]
