"""The register's tables as SQLAlchemy 2 typed declarative models.

`users` and `kiosks` keep the columns of the accounts file they replace
(server/accounts.py reads and writes them). A case (办件) has its history,
linked video sessions and checklist materials as child rows; the applicant's
full ID number sits in a table of its own that list queries never touch.
Times are UTC; deadlines are calendar dates in the catalogue's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(Text)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    place: Mapped[str | None] = mapped_column(Text)  # unchecked by `user add`: no limit
    level: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    # Migration 0008 (等保 accounts): a password set by someone else must be changed
    # at the next sign-in; the TOTP secret once enrolled (base32, None: no second factor).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[float | None] = mapped_column(Float)
    totp_secret: Mapped[str | None] = mapped_column(String(64))


class PasswordHistoryRow(Base):
    """Earlier password hashes of an account: a new password may not repeat them."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[float] = mapped_column(Float)


class KioskRow(Base):
    __tablename__ = "kiosks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    place: Mapped[str] = mapped_column(Text)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)


class CaseCounter(Base):
    """The last case number handed out per county and year (allocated by upsert)."""

    __tablename__ = "case_counters"

    county: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


_STATS_READ = (
    "state",
    "deadline",
    "received_at",
    "decided_at",
    "item",
    "place",
    "mode",
    "department",
)


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("county", "year", "seq", name="uq_cases_county_year_seq"),
        Index("ix_cases_state_deadline", "state", "deadline"),
        Index("ix_cases_place_state", "place", "state"),
        Index("ix_cases_item_state", "item", "state"),
        Index("ix_cases_department_state", "department", "state"),
        # Statistics (migration 0006): covering indexes over a period of received
        # dates, alone and after a filter.
        Index("ix_cases_stats", "received_on", *_STATS_READ),
        *(
            Index(
                f"ix_cases_stats_{col}", col, "received_on", *(c for c in _STATS_READ if c != col)
            )
            for col in ("item", "place", "department")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    county: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(String(64))
    applicant_id_last4: Mapped[str] = mapped_column(String(4))
    received_by: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    # 回传批件: the approval document, once issued (archive-relative path and digest).
    approval_document: Mapped[str | None] = mapped_column(String(255))
    approval_sha256: Mapped[str | None] = mapped_column(String(64))
    # 乡村随身办: the agent ticked "person with disability" (a points bonus).
    applicant_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The assisting agent of a case received by someone else (a reviewer in the agent's call).
    assisted_by: Mapped[str | None] = mapped_column(String(80))

    history: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[CaseSession]] = relationship(
        order_by="CaseSession.id", cascade="all, delete-orphan"
    )
    materials: Mapped[list[CaseMaterial]] = relationship(
        order_by="CaseMaterial.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        order_by="CaseDocument.id", cascade="all, delete-orphan"
    )


class CaseIdentity(Base):
    """The applicant's full ID number, sealed (server/register/sealing.py): read only
    for the case page of its reviewer."""

    __tablename__ = "case_identities"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    id_number: Mapped[str] = mapped_column(String(128))


class CaseEvent(Base):
    """One line of a case's own history: every state change, who and why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[CaseRow] = relationship(back_populates="history")


class CaseSession(Base):
    """A video session (its archive folder id) that belongs to the case."""

    __tablename__ = "case_sessions"
    __table_args__ = (UniqueConstraint("case_id", "session_id", name="uq_case_sessions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseMaterial(Base):
    """One entry of the item's checklist (材料清单) and where it stands."""

    __tablename__ = "case_materials"
    __table_args__ = (UniqueConstraint("case_id", "code", name="uq_case_materials"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseDocument(Base):
    """One stored page of a checklist material (archive `cases/<number>/documents/`)."""

    __tablename__ = "case_documents"
    __table_args__ = (UniqueConstraint("case_id", "file", name="uq_case_documents_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    material: Mapped[str] = mapped_column(String(128))
    page: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(255))  # relative to the case folder
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # ok | unreadable
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))  # camera | upload
    stored_by: Mapped[str] = mapped_column(String(80))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    marked_by: Mapped[str | None] = mapped_column(String(80))
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecordingRow(Base):
    """A finalised video session's archive folder, indexed for the recordings list
    (server/recordings.py). The folder stays the evidence: serving a recording
    still verifies its signature; this row only finds it."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_day_session", "day", "session_id"),
        Index("ix_recordings_started_at", "started_at"),
        Index("ix_recordings_item", "item"),
        Index("ix_recordings_place", "place"),
        # Covering the statistics' queue-wait query (server/register/statistics.py).
        Index("ix_recordings_waits", "started_at", "queue_wait_s", "signature", "item", "place"),
    )

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255))  # below the archive: YYYY/MM/DD/<id>
    day: Mapped[date] = mapped_column(Date)  # the folder's (UTC) day
    item: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(64))
    kiosk: Mapped[str | None] = mapped_column(String(80))  # the kiosk participant's device id
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Joined the queue -> called, from the chain's `session.created` (statistics).
    queue_wait_s: Mapped[float | None] = mapped_column(Float)
    signature: Mapped[str] = mapped_column(String(16))  # ok | missing | invalid
    # The list entry as read from the manifest (without catalogue names).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    reviewers: Mapped[list[RecordingReviewer]] = relationship(
        order_by="RecordingReviewer.id", cascade="all, delete-orphan"
    )


class RecordingReviewer(Base):
    """A reviewer account that took part in a recorded session (who may see it)."""

    __tablename__ = "recording_reviewers"
    __table_args__ = (
        UniqueConstraint("session_id", "account", name="uq_recording_reviewers"),
        Index("ix_recording_reviewers_account", "account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("recordings.session_id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(64))


class RatingRow(Base):
    """One applicant's rating (好差评) of a session or a finished case; never changed.

    `subject` is the session id or the case number: one rating per subject.
    Who was rated (reviewer, department, item, place) is copied in for statistics.
    """

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_ratings_subject"),
        Index("ix_ratings_department_at", "department", "at"),
        Index("ix_ratings_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | case
    subject: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16))  # kiosk | web
    rated_by: Mapped[str] = mapped_column(String(80))  # kiosk:<id> or "public"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewer: Mapped[str | None] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(128))
    item: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))


class FollowUpRow(Base):
    """The follow-up (整改) a bad rating opens: open → responded → closed."""

    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_state_deadline", "state", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(
        ForeignKey("ratings.id", ondelete="CASCADE"), unique=True
    )
    department: Mapped[str] = mapped_column(String(128), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[date] = mapped_column(Date)
    response: Mapped[str] = mapped_column(Text, default="")
    responded_by: Mapped[str | None] = mapped_column(String(80))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str | None] = mapped_column(String(16))  # resolved | unresolved
    verdict_note: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    rating: Mapped[RatingRow] = relationship()


class SpotDrawRow(Base):
    """A week's random draw (随机抽查): the seed and parameters that re-make it."""

    __tablename__ = "spot_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)  # ISO week, 2026-W49
    seed: Mapped[str] = mapped_column(String(40))
    share: Mapped[float] = mapped_column(Float)
    min_per_department: Mapped[int] = mapped_column(Integer)
    population: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per department
    drawn_by: Mapped[str] = mapped_column(String(80))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    checks: Mapped[list[SpotCheckRow]] = relationship(
        order_by="SpotCheckRow.id", cascade="all, delete-orphan"
    )


class SpotCheckRow(Base):
    """One drawn case and the supervisor's review of it (checklist and verdict)."""

    __tablename__ = "spot_checks"
    __table_args__ = (UniqueConstraint("draw_id", "number", name="uq_spot_checks_case"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spot_draws.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # pending | reviewed
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdict: Mapped[str | None] = mapped_column(String(16))  # pass | fail
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionInterruption(Base):
    """A video session whose server process died (server/cluster/recovery.py): ended
    as interrupted by the surviving process that noticed. Its recording is sealed by
    the next start on the dead process's data dir (then it is in `recordings` too)."""

    __tablename__ = "session_interruptions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    process: Mapped[str] = mapped_column(String(128))  # the dead process's id
    noticed_by: Mapped[str] = mapped_column(String(128))
    item: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(64))
    live: Mapped[bool] = mapped_column(Boolean)  # media had flowed (else: called, not live)
    requeued: Mapped[bool] = mapped_column(Boolean)  # the applicant went back to the head
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)  # holders
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Tables of 乡村随身办 (records and the points ledger) live in a module of their own.
from server.register import village_models as _village_models  # noqa: E402, F401
