"""Settings read from the environment, with defaults that make a fresh clone work on its own.

Every knob is an environment variable so that a Prefect worker, the CLI and the tests configure the product the
same way, and no setting (a database password, say) ever has to travel as a flow-run parameter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The repository root: templates, bundled data and policies live beside the packages (editable install).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
#: Alembic's scripts, named here so the command line's schema check finds them without importing
#: ``missing_episodes.db`` (SQLAlchemy and the models: half a second of CPU on every command).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Where the demo, the CLI and every flow keep their state by default: one place, so that the README's commands work
#: as written after ``bash scripts/demo`` whatever folder they are typed in.
VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_PATH = VAR_DIR / "missing_episodes.db"
DEFAULT_OUTPUT_DIR = VAR_DIR / "out"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"MISSING_EPISODES_{name}", default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{DEFAULT_DATABASE_PATH}"))
    policy_path: Path = field(default_factory=lambda: Path(_env("POLICY", str(DATA_DIR / "policies" / "default.yaml"))))
    roster_path: Path = field(default_factory=lambda: Path(_env("ROSTER", str(DATA_DIR / "roster.csv"))))
    sources_path: Path = field(default_factory=lambda: Path(_env("SOURCES", str(DATA_DIR / "sources.yaml"))))
    output_dir: Path = field(default_factory=lambda: Path(_env("OUTPUT_DIR", str(DEFAULT_OUTPUT_DIR))))
    # Key for the pseudonymous ids shown to Prefect. Set a secret per installation in production.
    pseudonym_key: str = field(default_factory=lambda: _env("PSEUDONYM_KEY", "missing-episodes-development-key"))
    # Per-episode subflows run concurrently up to this bound during the daily (small) load.
    episode_concurrency: int = field(default_factory=lambda: int(_env("EPISODE_CONCURRENCY", "4")))
    # More changed episodes than this in one ingest go through the set-based bulk path instead of subflows.
    bulk_threshold: int = field(default_factory=lambda: int(_env("BULK_THRESHOLD", "50")))
    # Rows per ingest transaction: a chunk is stored whole or not at all. 5000 rather than 2000: fewer round trips
    # on PostgreSQL (a fifth less time per row, measured at 20,000 rows), still a few MiB per chunk.
    ingest_chunk_size: int = field(default_factory=lambda: int(_env("INGEST_CHUNK_SIZE", "5000")))
    # Notifications: who is who (name, e-mail, role, team) and the out-of-hours on-call/EDT rota.
    staff_path: Path = field(default_factory=lambda: Path(_env("STAFF", str(DATA_DIR / "staff.csv"))))
    rota_path: Path = field(default_factory=lambda: Path(_env("ROTA", str(DATA_DIR / "rota.csv"))))
    # Seconds a command's run may stay Scheduled before the command concludes no desk is polling its pool.
    desk_pickup_timeout: float = field(default_factory=lambda: float(_env("DESK_PICKUP_TIMEOUT", "30")))
    # Seconds between the desk's polls of its pool. A command rings the desk's doorbell and is picked up at once;
    # the poll finds runs started elsewhere (the UI, the API). Each poll is a write on Prefect's database, which a
    # SQLite-backed server serialises with the UI's and the workers' (0.5 s polls made it answer 503).
    desk_query_seconds: float = field(default_factory=lambda: float(_env("DESK_QUERY_SECONDS", "2")))


def get_settings() -> Settings:
    """Read the settings now (not at import), so tests and workers can change the environment first."""
    return Settings()
