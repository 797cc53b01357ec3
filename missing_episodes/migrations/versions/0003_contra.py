"""the other rules an action answers for (one duty, one action)

A policy may say two of its rules ask for the same thing (``same_duty_as``): Wokingham's and Surrey's Home Office
notice for a former-UASC care leaver. Their actions are folded into one, which names the other rule here.

Revision ID: 0003_contra
Revises: 0002
Create Date: 2026-11-30 03:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_contra"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("also_rule_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.drop_column("also_rule_ids")
