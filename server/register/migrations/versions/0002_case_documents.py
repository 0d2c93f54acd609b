"""case documents: stored pages of checklist materials

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("material", sa.String(length=128), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("stored_by", sa.String(length=80), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_by", sa.String(length=80), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "file", name="uq_case_documents_file"),
    )
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_documents_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_documents_case_id"))
    op.drop_table("case_documents")
