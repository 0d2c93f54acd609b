"""recordings.queue_wait_s: each video session's queue wait, for the statistics

Revision ID: 0009
Revises: 0007 (rechain after 0008 at merge)
Create Date: 2026-12-03 12:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_wait_s", sa.Float(), nullable=True))
        # Covering the statistics' wait query: a range of started_at, nothing else read.
        batch_op.create_index(
            "ix_recordings_waits",
            ["started_at", "queue_wait_s", "signature", "item", "place"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_waits")
        batch_op.drop_column("queue_wait_s")
