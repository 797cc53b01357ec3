"""episode.match_key: the name-and-birth-date key of an episode whose messages give no person id

Which child such an episode belongs to is decided by that key, and decided again when a child with a person id
takes the key (a register row or a notification naming the child by id arriving later): identity independent of
arrival order. Existing episodes of children without a person id take their child's key (that is how they were
matched); an episode matched by name to a registered child before this revision keeps its child until its
incident next changes.

Revision ID: 0003_order
Revises: 0003_outcomes
Create Date: 2026-11-30 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_order"
down_revision = "0003_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episode") as batch:
        batch.add_column(sa.Column("match_key", sa.String(length=500), nullable=True))
        batch.create_index("ix_episode_match_key", ["match_key"], unique=False)
    op.execute(
        "UPDATE episode SET match_key = (SELECT child.match_key FROM child WHERE child.id = episode.child_id) "
        "WHERE child_id IN (SELECT id FROM child WHERE person_id IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("episode") as batch:
        batch.drop_index("ix_episode_match_key")
        batch.drop_column("match_key")
