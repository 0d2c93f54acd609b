"""Tables of 乡村随身办: the village agents' convenience records and the points
ledger (积分) with its confirmed monthly statements.

A ledger entry is never updated or deleted: a correction is a new entry that
references the corrected one. A month of a point, once confirmed, holds its
signed statement (`points_months`); the ledger service refuses every entry into
a confirmed month, and a statement's signature covers its entries, so a row
changed behind the service's back shows as a broken statement.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.register.models import Base


class ConvenienceRecordRow(Base):
    """A convenience item (便民事项) handled at a village point: the agent's form."""

    __tablename__ = "village_records"
    __table_args__ = (Index("ix_village_records_point", "point", "filed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item: Mapped[str] = mapped_column(String(64))
    point: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(64))
    applicant_name: Mapped[str] = mapped_column(String(64))
    applicant_id_last4: Mapped[str] = mapped_column(String(4))
    applicant_id_sealed: Mapped[str] = mapped_column(String(128))  # IdSealer, context record:<id>
    applicant_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    filed_on: Mapped[date] = mapped_column(Date)


class PointsEntryRow(Base):
    """One line of the points ledger. kind: case (a decided case), record (a
    convenience record), grant (by hand, with a reason), correction (of `corrects`)."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_month", "point", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    point: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the catalogue's time zone
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    # case:<number> or record:<id>: at most one earned entry per case or record.
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    case_number: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("village_records.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the rule's parts
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PointsMonthRow(Base):
    """A confirmed month of a point: who confirmed it, the statement's digest and signature."""

    __tablename__ = "points_months"
    __table_args__ = (UniqueConstraint("point", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    point: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    confirmed_by: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)  # exactly what was signed
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519 (archive key), base64
