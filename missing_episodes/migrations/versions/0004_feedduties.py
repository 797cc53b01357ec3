"""when the police first flagged a risk of trafficking

Surrey: "Director to be notified if an Unaccompanied Asylum Seeking Child/Care Leaver is at risk of trafficking".
The police feed's optional ``trafficking_risk`` flag is folded into the episode as the time of the first message
that raised it, and the rules read it as the case event ``trafficking_risk_identified``. Existing episodes have
none (the column is new). Missing from curfew is a value of ``episode.kind`` (``curfew``): no column.

Revision ID: 0004_feedduties
Revises: 0003_notify
Create Date: 2026-11-30 06:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from missing_episodes.db.types import UTCDateTime

revision = "0004_feedduties"
down_revision = "0003_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episode") as batch:
        batch.add_column(sa.Column("trafficking_risk_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("episode") as batch:
        batch.drop_column("trafficking_risk_at")
