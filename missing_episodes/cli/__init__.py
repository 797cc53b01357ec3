"""The ``missing-episodes`` command line.

Commands that only read (the worklist, exports of stored data) use the domain package and never import Prefect,
so they answer in about a second. Commands that do work import their flow inside the command and run it, so a
coordinator's CLI run and a scheduled deployment go through the same orchestrated code.
"""

from missing_episodes.cli import core, documents, reports  # noqa: F401  (each registers its commands)
from missing_episodes.cli._app import app

__all__ = ["app"]
