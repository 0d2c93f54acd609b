"""The points ledger (积分) of 乡村随身办: entries for decided cases, convenience
records, manual grants and corrections; never an update or a delete.

Every entry goes in through `_add`, which takes the point's lock and refuses a
confirmed month (MonthConfirmed, audited as `points.refused`). An earned entry
goes to the month of its event, or the first open month after it when that
month is already confirmed (a case decided on the 31st, its listener late).
A correction goes to the first open month from the current one and names the
entry it corrects. Cases are awarded after their decision commits (a case
listener) and, for any the listener missed (a crash between the two), at start
(`reconcile`); the `source_key` unique column keeps one earned entry per case.
The monthly statement, its confirmation and signature: points_statement.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.catalogue import Catalogue
from server.register.case_types import Actor
from server.register.cases import CaseChange
from server.register.db import Register
from server.register.models import CaseIdentity, CaseRow, UserRow
from server.register.points_rules import PointsRules, age_on
from server.register.points_types import (
    MonthConfirmed,
    PointsError,
    PointsNotFound,
    check_manage,
    check_month,
    check_reason,
    entry_json,
    is_village_point,
    next_month,
)
from server.register.sealing import IdSealer, SealError
from server.register.village_models import PointsEntryRow, PointsMonthRow

log = logging.getLogger(__name__)
Audit = Callable[[str, str | None, dict[str, Any]], None]


class UseCorrection(PointsError):
    """An entry is never edited or deleted: a correction is a new entry."""

    status = 409


class LedgerService:
    def __init__(
        self,
        register: Register,
        catalogue: Catalogue,
        rules: PointsRules,
        sealer: IdSealer,
        audit: Audit | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        grant_max: int = 100,
    ) -> None:
        self.register = register
        self.catalogue = catalogue
        self.rules = rules
        self._sealer = sealer
        self._audit = audit or (lambda *_: None)
        self._clock = clock
        self.grant_max = grant_max

    # -- months --------------------------------------------------------------
    def month_of(self, when: datetime) -> str:
        local = self.catalogue.local_time(when.timestamp())
        return f"{local.year}-{local.month:02d}"

    def this_month(self) -> str:
        return self.month_of(self._clock())

    @staticmethod
    def confirmed(s: Session, point: str, month: str) -> bool:
        found = s.scalar(
            select(PointsMonthRow.id).where(
                PointsMonthRow.point == point, PointsMonthRow.month == month
            )
        )
        return found is not None

    def open_month(self, s: Session, point: str, start: str) -> str:
        """The first month from `start` whose statement is not confirmed."""
        month = start
        while self.confirmed(s, point, month):
            month = next_month(month)
        return month

    @staticmethod
    def lock_point(s: Session, point: str) -> None:
        """Serialise entries and confirmations of one point (SQLite writes are serial
        already; PostgreSQL takes a transaction-level advisory lock)."""
        if s.get_bind().dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(b"points:" + point.encode()).digest()[:8], "big")
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key - (1 << 63)})

    # -- the one writer -------------------------------------------------------
    def _add(self, s: Session, actor_ref: str, month: str, **values: Any) -> PointsEntryRow:
        self.lock_point(s, values["point"])
        if self.confirmed(s, values["point"], month):
            raise MonthConfirmed(values["point"], month)
        row = PointsEntryRow(month=month, created_by=actor_ref, created_at=self._clock(), **values)
        s.add(row)
        s.flush()
        return row

    def _refused(self, actor: Actor, exc: MonthConfirmed, data: dict[str, Any]) -> None:
        self._audit("points.refused", actor.ref, {"point": exc.point, "month": exc.month, **data})

    # -- earned: cases ----------------------------------------------------------
    def on_case_change(self, change: CaseChange) -> None:
        """Case listener: a village case decided so that it earns gets its entry."""
        summary = change.summary
        if change.change not in ("state", "approval") or not self.rules.earns(summary.state):
            return
        if not is_village_point(self.catalogue, summary.place):
            return
        try:
            self.award_case(summary.number)
        except Exception:
            log.exception("points award failed", extra={"case": summary.number})

    def award_case(self, number: str) -> dict[str, Any] | None:
        """The entry of a decided village case (None: it earns none, or has one)."""
        key = f"case:{number}"
        try:
            with self.register.write() as s:
                if s.scalar(select(PointsEntryRow.id).where(PointsEntryRow.source_key == key)):
                    return None
                row = s.scalar(select(CaseRow).where(CaseRow.number == number))
                if row is None or not self._earning_case(row):
                    return None
                agent = _agent_of(row)
                decided = row.decided_at or row.updated_at
                day = self.catalogue.local_time(_utc(decided).timestamp()).date()
                points, detail = self.rules.for_case(
                    row.item,
                    row.mode,
                    video=bool(row.sessions),
                    age=self._case_age(s, row, day),
                    disabled=bool(row.applicant_disabled),
                )
                detail["state"] = row.state
                month = self.open_month(s, row.place, self.month_of(_utc(decided)))
                entry = self._add(
                    s,
                    "system",
                    month,
                    point=row.place,
                    agent=agent,
                    kind="case",
                    points=points,
                    source_key=key,
                    case_number=number,
                    detail=detail,
                )
                out = entry_json(entry)
        except IntegrityError:
            return None  # awarded at the same time by the listener or the reconcile
        self._audit(
            "points.awarded",
            "system",
            {"entry": out["id"], "case": number, "point": out["point"], "points": points},
        )
        return out

    def _earning_case(self, row: CaseRow) -> bool:
        return (
            self.rules.earns(row.state)
            and is_village_point(self.catalogue, row.place)
            and _agent_of(row) is not None
        )

    def _case_age(self, s: Session, row: CaseRow, day: Any) -> int | None:
        sealed = s.get(CaseIdentity, row.id)
        if sealed is None:
            return None
        try:
            return age_on(self._sealer.open(sealed.id_number, row.number), day)
        except SealError:
            return None

    def reconcile(self) -> int:
        """Award every earning village case that has no entry yet; how many were."""
        states = list(self.rules.earn_on)
        with self.register.read() as s:
            awarded = select(PointsEntryRow.case_number).where(PointsEntryRow.kind == "case")
            numbers = s.scalars(
                select(CaseRow.number).where(
                    CaseRow.state.in_(states),
                    or_(CaseRow.received_by.like("agent:%"), CaseRow.assisted_by.is_not(None)),
                    CaseRow.number.not_in(awarded.where(PointsEntryRow.case_number.is_not(None))),
                )
            ).all()
        return sum(1 for n in numbers if self.award_case(n) is not None)

    # -- earned: convenience records (inside the record's transaction) ----------
    def award_record(
        self,
        s: Session,
        actor: Actor,
        record_id: int,
        item: str,
        point: str,
        age: int | None,
        disabled: bool,
    ) -> PointsEntryRow:
        points, detail = self.rules.for_record(item, age=age, disabled=disabled)
        month = self.open_month(s, point, self.this_month())
        return self._add(
            s,
            actor.ref,
            month,
            point=point,
            agent=actor.username,
            kind="record",
            points=points,
            source_key=f"record:{record_id}",
            record_id=record_id,
            detail=detail,
        )

    # -- by hand: grants and corrections ------------------------------------------
    def _points(self, raw: Any, *, nonzero: bool = True) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise PointsError("points", "invalid", "a whole number", "积分应为整数")
        if abs(raw) > self.grant_max or (nonzero and raw == 0):
            raise PointsError(
                "points",
                "too_large" if raw else "invalid",
                f"1 to {self.grant_max} points, added or taken away",
                f"每次调整 1 至 {self.grant_max} 分（可为负数）",
            )
        return raw

    def grant(
        self, actor: Actor, point: str, agent: Any, points: Any, reason: Any, month: Any = None
    ) -> dict[str, Any]:
        """A manual grant by the township admin: a reason is required and audited."""
        check_manage(self.catalogue, actor, point)
        amount = self._points(points)
        text_reason = check_reason(reason)
        target = self.this_month() if month is None else check_month(month)
        if target > self.this_month():
            raise PointsError(
                "month", "month_not_started", "that month has not started", "该月份尚未开始"
            )
        try:
            with self.register.write() as s:
                self._check_agent(s, agent, point)
                row = self._add(
                    s,
                    actor.ref,
                    target,
                    point=point,
                    agent=agent,
                    kind="grant",
                    points=amount,
                    reason=text_reason,
                    detail={},
                )
                out = entry_json(row)
        except MonthConfirmed as exc:
            self._refused(actor, exc, {"action": "grant", "agent": agent})
            raise
        self._audit(
            "points.granted",
            actor.ref,
            {
                "entry": out["id"],
                "point": point,
                "agent": agent,
                "points": amount,
                "month": target,
                "reason": text_reason,
            },
        )
        return out

    def correct(self, actor: Actor, entry_id: int, points: Any, reason: Any) -> dict[str, Any]:
        """A correction of entry `entry_id`: a new entry in the first open month from
        now (or from the entry's own month if later), naming the corrected one."""
        amount = self._points(points)
        text_reason = check_reason(reason)
        with self.register.write() as s:
            old = s.get(PointsEntryRow, entry_id)
            if old is None:
                raise PointsNotFound("entry", str(entry_id))
            check_manage(self.catalogue, actor, old.point)
            self.lock_point(s, old.point)
            month = self.open_month(s, old.point, max(self.this_month(), old.month))
            row = self._add(
                s,
                actor.ref,
                month,
                point=old.point,
                agent=old.agent,
                kind="correction",
                points=amount,
                corrects_id=old.id,
                case_number=old.case_number,
                record_id=old.record_id,
                reason=text_reason,
                detail={"corrected_month": old.month},
            )
            out = entry_json(row)
        self._audit(
            "points.corrected",
            actor.ref,
            {
                "entry": out["id"],
                "corrects": entry_id,
                "point": out["point"],
                "points": amount,
                "month": out["month"],
                "reason": text_reason,
            },
        )
        return out

    def refuse_change(self, actor: Actor, entry_id: int) -> None:
        """An attempt to edit or delete an entry: always refused. In a confirmed month
        it is MonthConfirmed, audited; otherwise use_correction."""
        with self.register.read() as s:
            row = s.get(PointsEntryRow, entry_id)
            if row is None:
                raise PointsNotFound("entry", str(entry_id))
            check_manage(self.catalogue, actor, row.point)
            point, month = row.point, row.month
            confirmed = self.confirmed(s, point, month)
        if confirmed:
            exc = MonthConfirmed(point, month)
            self._refused(actor, exc, {"action": "change", "entry": entry_id})
            raise exc
        raise UseCorrection(
            "entry",
            "use_correction",
            "ledger entries are never edited or deleted: add a correction "
            f"(POST /api/points/entries/{entry_id}/correction)",
            "积分记录不能修改或删除，请登记更正",
        )

    @staticmethod
    def _check_agent(s: Session, agent: Any, point: str) -> None:
        if not isinstance(agent, str) or not agent:
            raise PointsError("agent", "required", "the agent's account", "请选择代办员")
        user = s.get(UserRow, agent)
        if user is None or user.role != "agent" or user.place != point:
            raise PointsError(
                "agent",
                "unknown",
                f"{agent!r} is not an agent of {point}",
                f"{agent} 不是 {point} 的代办员",
            )


def _agent_of(row: CaseRow) -> str | None:
    """The village agent a case earns for: its assisting agent, else the agent who received it."""
    for ref in (row.assisted_by, row.received_by):
        if ref and ref.startswith("agent:"):
            return ref.split(":", 1)[1]
    return None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
