"""Cases (办件): states, modes, errors, who may do what, the shapes callers get."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class CaseState(StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    MORE_MATERIALS_REQUESTED = "more_materials_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


ALLOWED: dict[CaseState, frozenset[CaseState]] = {
    CaseState.RECEIVED: frozenset({CaseState.IN_REVIEW, CaseState.REJECTED, CaseState.WITHDRAWN}),
    CaseState.IN_REVIEW: frozenset(
        {
            CaseState.MORE_MATERIALS_REQUESTED,
            CaseState.APPROVED,
            CaseState.REJECTED,
            CaseState.WITHDRAWN,
        }
    ),
    CaseState.MORE_MATERIALS_REQUESTED: frozenset(
        {CaseState.IN_REVIEW, CaseState.REJECTED, CaseState.WITHDRAWN}
    ),
    CaseState.APPROVED: frozenset(),
    CaseState.REJECTED: frozenset(),
    CaseState.WITHDRAWN: frozenset(),
}
FINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
OPEN = frozenset(CaseState) - FINAL
DECISIONS = frozenset({CaseState.APPROVED, CaseState.REJECTED})
# States a change into needs written reasons (a decision against the applicant, a request).
# A withdrawal closes the case for good: why stays on record (the counter asks for it).
NEEDS_REASON = frozenset(
    {CaseState.REJECTED, CaseState.MORE_MATERIALS_REQUESTED, CaseState.WITHDRAWN}
)
# An assisting agent acts for the applicant: withdraw, or hand in what was asked for.
AGENT_MAY = frozenset({CaseState.WITHDRAWN, CaseState.IN_REVIEW})


class CaseMode(StrEnum):
    VIDEO = "video"
    FORWARD = "forward"
    ASSISTED = "assisted"
    INSPECTION = "inspection"


class MaterialState(StrEnum):
    MISSING = "missing"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CaseError(ValueError):
    """Bad case input: the field, a stable code, plain words. Nothing was written.

    Codes: required, invalid, unknown, too_long, not_allowed, not_found,
    wrong_state, forbidden, materials_missing, use_approval.
    """

    status = 400

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"error": "bad_case", "field": self.field, "code": self.code, "message": str(self)}


class CaseNotFound(CaseError):
    status = 404

    def __init__(self, number: str) -> None:
        super().__init__("number", "not_found", f"no case {number!r}")


class InvalidTransition(CaseError):
    """The case is not in a state the requested change can start from."""

    status = 409

    def __init__(self, number: str, current: str, wanted: str) -> None:
        super().__init__(
            "state", "wrong_state", f"case {number} is {current}, cannot go to {wanted}"
        )
        self.current = current
        self.wanted = wanted


class MaterialsMissing(CaseError):
    """An approval while a checklist material has no readable page."""

    status = 409

    def __init__(self, number: str, missing: list[str]) -> None:
        super().__init__(
            "materials",
            "materials_missing",
            f"case {number} cannot be approved: no readable page of {', '.join(missing)}",
        )
        self.missing = missing

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "missing": self.missing}


class UseApproval(CaseError):
    """`approved` asked of the plain transition: an approval comes with its document."""

    status = 409

    def __init__(self, number: str) -> None:
        super().__init__(
            "to",
            "use_approval",
            f"case {number} is approved together with its approval document: "
            f"POST /api/register/cases/{number}/approval",
        )


class CaseForbidden(CaseError):
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__("case", "forbidden", message)


@dataclass(frozen=True)
class Actor:
    """Who acts on a case: a signed-in staff member."""

    username: str
    role: str
    place: str | None = None
    items: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.role}:{self.username}"


def may_read(actor: Actor, item: str, place: str) -> bool:
    if actor.role in ("supervisor", "sysadmin"):
        return True
    if actor.role == "reviewer":
        return item in actor.items
    return actor.role == "agent" and place == actor.place


def check_may_change(actor: Actor, item: str, place: str, to: CaseState | None = None) -> None:
    """Raise CaseForbidden unless `actor` may change this case (into `to`)."""
    if actor.role == "reviewer":
        if item not in actor.items:
            raise CaseForbidden(f"{actor.username} does not review item {item}")
        return
    if actor.role == "agent":
        if place != actor.place:
            raise CaseForbidden(f"the case was received at {place}, not at {actor.place}")
        if to is not None and to not in AGENT_MAY:
            raise CaseForbidden(f"an assisting agent cannot move a case to {to}")
        return
    raise CaseForbidden(f"a {actor.role} cannot change cases")


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
ID_MASK = "*" * 12
NAME_MAX = 64
REASON_MAX = 2000
SESSION_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")


def check_id_number(raw: str) -> str:
    """A resident ID number (GB 11643, 18 characters with its check digit), upper-cased."""
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not _ID_RE.match(value):
        raise CaseError("applicant_id", "invalid", "an 18-character resident ID number")
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise CaseError("applicant_id", "invalid", "the check digit does not match")
    return value


def check_name(raw: str) -> str:
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        raise CaseError("applicant_name", "required", "the applicant's name")
    if len(value) > NAME_MAX or not value.isprintable():
        raise CaseError("applicant_name", "invalid", f"1 to {NAME_MAX} printable characters")
    return value


def check_reason(raw: str, required: bool) -> str:
    value = raw.strip() if isinstance(raw, str) else ""
    if required and not value:
        raise CaseError("reason", "required", "write the reasons (they go to the applicant)")
    if len(value) > REASON_MAX:
        raise CaseError("reason", "too_long", f"at most {REASON_MAX} characters")
    return value


def masked(last4: str) -> str:
    return ID_MASK + last4


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CaseSummary:
    """A row of a case list: never the full ID number."""

    number: str
    item: str
    department: str
    level: str
    place: str
    mode: str
    state: str
    applicant_name: str
    applicant_id: str  # masked: ************1234
    received_by: str
    received_at: datetime
    deadline: date
    remaining_working_days: int | None  # None once decided or withdrawn
    decided_at: datetime | None
    updated_at: datetime | None = None  # the latest change (a withdrawal has no decided_at)
    assisted_by: str | None = None  # 乡村随身办: the agent in whose call it was received

    @property
    def overdue(self) -> bool:
        return self.remaining_working_days is not None and self.remaining_working_days < 0

    @property
    def due_soon(self) -> bool:
        """即将到期: open, due today or on the next working day (not yet overdue)."""
        return self.remaining_working_days is not None and 0 <= self.remaining_working_days <= 1

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "item": self.item,
            "department": self.department,
            "level": self.level,
            "place": self.place,
            "mode": self.mode,
            "state": self.state,
            "applicant": {"name": self.applicant_name, "id_number": self.applicant_id},
            "received_by": self.received_by,
            "received_at": self.received_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "remaining_working_days": self.remaining_working_days,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "assisted_by": self.assisted_by,
        }


@dataclass(frozen=True)
class CaseDetail:
    """The case page: the summary with its history, sessions, materials, decision."""

    summary: CaseSummary
    decision_reasons: str | None
    decided_by: str | None
    approval_document: str | None
    history: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    materials: dict[str, str] = field(default_factory=dict)
    # Per checklist material, in catalogue order: its state, readable pages, captured.
    checklist: list[dict[str, Any]] = field(default_factory=list)
    # The approval document once issued: {"file", "sha256", "source": generated|uploaded}.
    approval: dict[str, Any] | None = None

    @property
    def number(self) -> str:
        return self.summary.number

    @property
    def state(self) -> str:
        return self.summary.state

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "decision": {"by": self.decided_by, "reasons": self.decision_reasons},
            "approval_document": self.approval_document,
            "history": self.history,
            "sessions": self.sessions,
            "materials": self.materials,
            "checklist": self.checklist,
            "approval": dict(self.approval) if self.approval else None,
        }
