"""session_interruptions: sessions ended because their server process died

Revision ID: 0012
Revises: 0009 (rechain at merge)
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_interruptions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=128), nullable=False),
        sa.Column("noticed_by", sa.String(length=128), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=True),
        sa.Column("place", sa.String(length=64), nullable=True),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("requeued", sa.Boolean(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )


def downgrade() -> None:
    op.drop_table("session_interruptions")
