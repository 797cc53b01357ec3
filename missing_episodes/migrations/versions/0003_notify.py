"""the notice table: each notification keyed (action, recipient, reason), inserted before it is sent

Revision ID: 0003_notify
Revises: 0003_order
Create Date: 2026-11-30 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from missing_episodes.db.types import UTCDateTime

revision = "0003_notify"
down_revision = "0003_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("action_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("recipient_role", sa.String(100), nullable=True),
        sa.Column("event_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("action_key", "recipient", "reason", name="uq_notice_action_recipient_reason"),
    )
    op.create_index("ix_notice_status", "notice", ["status"], unique=False)
    op.create_index("ix_notice_action_id", "notice", ["action_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notice_action_id", table_name="notice")
    op.drop_index("ix_notice_status", table_name="notice")
    op.drop_table("notice")
