"""the contact log says which outcome event made each entry and the contact details of who was spoken to

``contact_log.event``: the case event behind the entry (``parent_informed``, ``edt_informed``, ``contact_made``,
``police_reported`` ...), so the incident record can list who was informed apart from who was contacted or updated
(Lilac Alliance s5). ``contact_log.contact``: the telephone number or other details of the person spoken to
(Wokingham: "recorded clearly with the relevant name and contact number/details of those spoken to"). Both are
nullable: entries made before this migration and the police's own updates have neither.

Revision ID: 0004_incident
Revises: 0004_feedduties
Create Date: 2026-11-30 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_incident"
down_revision = "0004_feedduties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("contact", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.drop_column("contact")
        batch_op.drop_column("event")
