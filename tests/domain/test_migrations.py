"""The Alembic migration creates exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from missing_episodes.db.engine import make_engine
from missing_episodes.db.models import Base


def test_the_migrated_database_matches_the_models(db_url):
    with make_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
