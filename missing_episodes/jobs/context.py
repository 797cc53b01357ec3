"""What every job needs, loaded once: the settings (environment) and the authority's validated policy."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from missing_episodes.config import Settings, get_settings
from missing_episodes.db.engine import session_scope
from missing_episodes.policy import Policy, load_policy


@dataclass(frozen=True)
class Context:
    """Settings plus policy. Jobs take it as their last argument, defaulting to ``Context.load()``.

    Loading reads the environment and validates the policy file, so a task builds it once per call rather
    than each helper reloading the policy (as the document jobs used to, five times over).
    """

    settings: Settings
    policy: Policy

    @classmethod
    def load(cls, settings: Settings | None = None) -> Context:
        settings = settings or get_settings()
        return cls(settings, load_policy(settings.policy_path))

    def session(self) -> AbstractContextManager[Session]:
        """One transaction on the product's database: committed on success, rolled back on error."""
        return session_scope(self.settings.database_url)

    def output_dir(self, kind: str, override: Path | str | None = None) -> Path:
        """Where documents of ``kind`` are written: ``override`` if given, else ``<output dir>/<kind>``."""
        return Path(override) if override else self.settings.output_dir / kind
