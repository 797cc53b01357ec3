"""the other rules an action answers for; the history of each child's legal status; when police were contacted

A policy may say two of its rules ask for the same thing (``same_duty_as``): Wokingham's and Surrey's Home Office
notice for a former-UASC care leaver. Their actions are folded into one, which names the other rule here.

Legal status becomes a history (``legal_status_period``) so returns and board figures judge each episode by the
status on its start date. Existing children get one period, "since before anything we hold", with today's status.
The police may send when they were contacted; the register, a child's immigration and asylum solicitor.

Revision ID: 0003_contra
Revises: 0002
Create Date: 2026-11-30 03:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from missing_episodes.db.types import UTCDateTime

revision = "0003_contra"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("also_rule_ids", sa.Text(), nullable=True))
    with op.batch_alter_table("episode") as batch:
        batch.add_column(sa.Column("reported_to_police_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("child") as batch:
        batch.add_column(sa.Column("immigration_solicitor", sa.Text(), nullable=True))
    op.create_table(
        "legal_status_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("legal_status", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_status_period_child", "legal_status_period", ["child_id", "effective_from"])
    op.execute(
        "INSERT INTO legal_status_period (child_id, legal_status, effective_from, recorded_at) "
        "SELECT id, legal_status, NULL, created_at FROM child"
    )


def downgrade() -> None:
    op.drop_index("ix_legal_status_period_child", table_name="legal_status_period")
    op.drop_table("legal_status_period")
    with op.batch_alter_table("episode") as batch:
        batch.drop_column("reported_to_police_at")
    with op.batch_alter_table("child") as batch:
        batch.drop_column("immigration_solicitor")
    with op.batch_alter_table("action") as batch:
        batch.drop_column("also_rule_ids")
