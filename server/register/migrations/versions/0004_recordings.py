"""recordings: the index of finalised session folders (the recordings list)

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=True),
        sa.Column("place", sa.String(length=64), nullable=True),
        sa.Column("kiosk", sa.String(length=80), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("signature", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index("ix_recordings_day_session", ["day", "session_id"], unique=False)
        batch_op.create_index("ix_recordings_started_at", ["started_at"], unique=False)
        batch_op.create_index("ix_recordings_item", ["item"], unique=False)
        batch_op.create_index("ix_recordings_place", ["place"], unique=False)
    op.create_table(
        "recording_reviewers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["recordings.session_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "account", name="uq_recording_reviewers"),
    )
    with op.batch_alter_table("recording_reviewers", schema=None) as batch_op:
        batch_op.create_index("ix_recording_reviewers_account", ["account"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recording_reviewers", schema=None) as batch_op:
        batch_op.drop_index("ix_recording_reviewers_account")
    op.drop_table("recording_reviewers")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_place")
        batch_op.drop_index("ix_recordings_item")
        batch_op.drop_index("ix_recordings_started_at")
        batch_op.drop_index("ix_recordings_day_session")
    op.drop_table("recordings")
