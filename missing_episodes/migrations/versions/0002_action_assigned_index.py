"""an index covering the interviewers' open loads

Allocation counts each worker's open Return Home Interviews before every allocation (in each per-episode
subflow); on a region's history that count read every open action's row. This index answers it from the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_action_assigned", "action", ["kind", "status", "assigned_to"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_assigned", table_name="action")
