"""Core commands: database, ingest, worklist, the daily run."""

from missing_episodes.cli._app import app  # noqa: F401
