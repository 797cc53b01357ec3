"""missing-episodes: the domain core.

Everything here is plain Python (SQLAlchemy, pandas, pydantic, Jinja) and imports nothing from Prefect, so the
rules, the policy, the calendar and the store can be tested in milliseconds and reused by the CLI's read-only
commands without starting an orchestrator. Prefect lives in the top-level ``tasks``, ``flows`` and
``deployments`` packages, which call into this one.
"""

__version__ = "0.1.0"
