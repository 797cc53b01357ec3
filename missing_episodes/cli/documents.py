"""Commands of the documents group (registered on the shared app)."""

from missing_episodes.cli._app import app  # noqa: F401
