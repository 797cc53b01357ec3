"""the notification table's incident index covers the ingest's lookup of an incident's applied messages

Every ingest chunk asks which applied messages of a source each of its incidents has (``ingest.incidents``:
``source``, ``feed``, ``outcome``, ``incident_ref``). With an index on ``incident_ref`` alone each match was
then read from the table itself, a random read of a wide row (the verbatim payload), and that lookup grew with
the table until it was the ingest's largest statement (bench/results.md, issue 19). The index now holds the
other three columns too, so the lookup is answered from the index; it replaces the old one, so an insert
maintains no more indexes than before, and a lookup by incident alone still uses its leading column.

Revision ID: 0005_notification_incident
Revises: 0004_incident
Create Date: 2026-12-01 01:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005_notification_incident"
down_revision = "0004_incident"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_incident_ref")
        batch_op.create_index("ix_notification_incident", ["incident_ref", "source", "feed", "outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_incident")
        batch_op.create_index("ix_notification_incident_ref", ["incident_ref"], unique=False)
