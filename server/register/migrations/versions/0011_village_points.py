"""乡村随身办: convenience records, the points ledger, confirmed months; cases.applicant_disabled

Revision ID: 0011
Revises: 0009 (rechain at merge)
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("applicant_disabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "village_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("applicant_name", sa.String(64), nullable=False),
        sa.Column("applicant_id_last4", sa.String(4), nullable=False),
        sa.Column("applicant_id_sealed", sa.String(128), nullable=False),
        sa.Column("applicant_disabled", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_village_records_point", "village_records", ["point", "filed_at"])
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=True, unique=True),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("village_records.id"), nullable=True),
        sa.Column("corrects_id", sa.Integer(), sa.ForeignKey("points_entries.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_points_entries_month", "points_entries", ["point", "month"])
    op.create_table(
        "points_months",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("confirmed_by", sa.String(80), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.UniqueConstraint("point", "month"),
    )


def downgrade() -> None:
    op.drop_table("points_months")
    op.drop_index("ix_points_entries_month", "points_entries")
    op.drop_table("points_entries")
    op.drop_index("ix_village_records_point", "village_records")
    op.drop_table("village_records")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("applicant_disabled")
