"""the findings of Return Home Interviews, as data

Reasons for going missing, harm, exploitation concerns, the child's views, referral made and a Find Me plan
update needed: one row per ``rhi_completed`` outcome that carries them (issue 17).

Revision ID: 0003_outcomes
Revises: 0003_cli
Create Date: 2026-11-30 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missing_episodes.db.types

revision = "0003_outcomes"
down_revision = "0003_cli"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rhi_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", missing_episodes.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("incident_ref", sa.String(length=100), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("concerns", sa.String(length=200), nullable=True),
        sa.Column("harm", sa.Boolean(), nullable=False),
        sa.Column("child_views", sa.Text(), nullable=True),
        sa.Column("referral_made", sa.Boolean(), nullable=False),
        sa.Column("find_me_plan_update", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["outcome_id"], ["outcome.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outcome_id"),
    )
    with op.batch_alter_table("rhi_finding", schema=None) as batch_op:
        batch_op.create_index("ix_rhi_finding_child_time", ["child_id", "recorded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rhi_finding", schema=None) as batch_op:
        batch_op.drop_index("ix_rhi_finding_child_time")
    op.drop_table("rhi_finding")
