"""accounts for 等保 2.0 level 3: forced password change, password history, TOTP,
and the three administrators (三员分立): `admin` becomes `sysadmin`

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("password_changed_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("set_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_password_history_username", "password_history", ["username"])
    op.execute("UPDATE users SET role = 'sysadmin' WHERE role = 'admin'")


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'admin' WHERE role IN ('sysadmin', 'secadmin')")
    op.drop_index("ix_password_history_username", table_name="password_history")
    op.drop_table("password_history")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_secret")
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
