"""statistics: covering indexes over a period of received dates, alone and after
a filter (item, place, department)

Each holds every column the statistics read, so a year of cases is read from
an index alone (SQLite; PostgreSQL by index-only scan once vacuumed). Cases are
written a few hundred a day: the extra index writes cost nothing that matters.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

# Every column the statistics read; each index leads with the column of one filter.
_READ = ["state", "deadline", "received_at", "decided_at", "item", "place", "mode", "department"]
INDEXES = {
    "ix_cases_stats": ["received_on", *_READ],
    "ix_cases_stats_item": ["item", "received_on", *[c for c in _READ if c != "item"]],
    "ix_cases_stats_place": ["place", "received_on", *[c for c in _READ if c != "place"]],
    "ix_cases_stats_department": [
        "department",
        "received_on",
        *[c for c in _READ if c != "department"],
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
