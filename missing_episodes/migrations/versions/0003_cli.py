"""who resolved a quarantined row and why

``missing-episodes quarantine resolve ID --note TEXT`` (and ``quarantine retry``) mark a row resolved: the time
was already a column; the person and the note are kept beside it so ``quarantine --all`` can show them. Each
resolution is also written to the audit trail.

Revision ID: 0003_cli
Revises: 0003_contra
Create Date: 2026-11-30 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_cli"
down_revision = "0003_contra"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("resolved_by", sa.String(length=200), nullable=True))
    op.add_column("quarantine", sa.Column("resolution_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("resolution_note")
        batch.drop_column("resolved_by")
