"""The command line's schema check reads the migration heads from the files (``cli.checks._schema_heads``, so that
every command need not import Alembic): it must name the heads Alembic itself finds."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from cli.checks import _schema_heads
from missing_episodes.db.engine import MIGRATIONS_DIR, alembic_config


def test_the_heads_read_from_the_files_are_alembics() -> None:
    config = alembic_config("sqlite://")
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert _schema_heads() == set(ScriptDirectory.from_config(config).get_heads())
