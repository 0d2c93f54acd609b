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
        batch_op.add_column(sa.Column("assisted_by", sa.String(80), nullable=True))
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

    _guards(op.get_bind().dialect.name)


# The ledger's immutability below the service too: an entry or a confirmed month is
# never updated or deleted, and no entry goes into a confirmed month, whoever writes.
SQLITE_GUARDS = (
    "CREATE TRIGGER points_entries_frozen BEFORE UPDATE ON points_entries "
    "BEGIN SELECT RAISE(ABORT, 'points entries are never changed: add a correction'); END",
    "CREATE TRIGGER points_entries_kept BEFORE DELETE ON points_entries "
    "BEGIN SELECT RAISE(ABORT, 'points entries are never deleted: add a correction'); END",
    "CREATE TRIGGER points_entries_open_month BEFORE INSERT ON points_entries "
    "WHEN EXISTS (SELECT 1 FROM points_months m WHERE m.point = NEW.point AND m.month = NEW.month) "
    "BEGIN SELECT RAISE(ABORT, 'month_confirmed: the month is confirmed'); END",
    "CREATE TRIGGER points_months_frozen BEFORE UPDATE ON points_months "
    "BEGIN SELECT RAISE(ABORT, 'a confirmed month is never changed'); END",
    "CREATE TRIGGER points_months_kept BEFORE DELETE ON points_months "
    "BEGIN SELECT RAISE(ABORT, 'a confirmed month is never deleted'); END",
)
PG_GUARDS = (
    """CREATE FUNCTION points_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM points_months m
                   WHERE m.point = NEW.point AND m.month = NEW.month) THEN
          RAISE EXCEPTION 'month_confirmed: the month is confirmed';
        END IF;
        RETURN NEW;
      END IF;
      RAISE EXCEPTION '% is never % : add a correction', TG_TABLE_NAME, lower(TG_OP);
    END $$""",
    "CREATE TRIGGER points_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON points_entries "
    "FOR EACH ROW EXECUTE FUNCTION points_refuse()",
    "CREATE TRIGGER points_months_guard BEFORE UPDATE OR DELETE ON points_months "
    "FOR EACH ROW EXECUTE FUNCTION points_refuse()",
)


def _guards(dialect: str) -> None:
    for statement in PG_GUARDS if dialect == "postgresql" else SQLITE_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER points_months_guard ON points_months")
        op.execute("DROP TRIGGER points_entries_guard ON points_entries")
        op.execute("DROP FUNCTION points_refuse()")
    op.drop_table("points_months")
    op.drop_index("ix_points_entries_month", "points_entries")
    op.drop_table("points_entries")
    op.drop_index("ix_village_records_point", "village_records")
    op.drop_table("village_records")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("assisted_by")
        batch_op.drop_column("applicant_disabled")
