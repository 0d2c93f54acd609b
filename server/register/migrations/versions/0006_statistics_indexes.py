"""statistics: indexes on the received date (alone and after each filter)

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_received_on": ["received_on"],
    "ix_cases_item_received": ["item", "received_on"],
    "ix_cases_place_received": ["place", "received_on"],
    "ix_cases_department_received": ["department", "received_on"],
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
