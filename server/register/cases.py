"""The case service: receive a case, move it through its states, link its
sessions and materials. Each call is one transaction: it writes everything or,
on any error, nothing.

Every state change goes through `_set_state`, which checks it against the
state machine, logs it and writes it to the case's history; once the
transaction has committed, the same change goes to the system audit log.
Numbers are `<county>-<year>-<6 digits>`, allocated by an upsert on the
county/year counter inside the creating transaction: concurrent creates queue
on that row, and a failed create gives its number back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.catalogue import Catalogue
from server.register.calendar import WorkCalendar
from server.register.case_types import (
    ALLOWED,
    DECISIONS,
    NEEDS_REASON,
    OPEN,
    SESSION_RE,
    Actor,
    CaseDetail,
    CaseError,
    CaseForbidden,
    CaseMode,
    CaseNotFound,
    CaseState,
    CaseSummary,
    InvalidTransition,
    MaterialState,
    UseApproval,
    check_id_number,
    check_may_change,
    check_name,
    check_reason,
    masked,
    may_read,
    utc,
)
from server.register.db import Register
from server.register.models import (
    CaseCounter,
    CaseEvent,
    CaseIdentity,
    CaseMaterial,
    CaseRow,
    CaseSession,
)
from server.register.sealing import IdSealer

log = logging.getLogger(__name__)
Audit = Callable[[str, str | None, dict[str, Any]], None]


@dataclass(frozen=True)
class CaseChange:
    """A committed change of one case, for listeners (server/case_push.py).

    `change` is the history type (created, state, document, unreadable, ...);
    `reason` the written reasons of the change, if any."""

    summary: CaseSummary
    change: str
    reason: str = ""


Listener = Callable[[CaseChange], None]
_COUNTY = re.compile(r"^[A-Z]{2,8}$")


def county_of(place: str) -> str:
    """The county code of a place: the first part of its hierarchical code
    (QH-LL-DC, a village point of Liulin township in Qinghe county: QH)."""
    county = place.split("-", 1)[0]
    if not _COUNTY.match(county):
        raise CaseError("place", "invalid", f"no county code in place {place!r}")
    return county


class CaseService:
    def __init__(
        self,
        register: Register,
        catalogue: Catalogue,
        calendar: WorkCalendar,
        sealer: IdSealer,
        audit: Audit | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.register = register
        self.catalogue = catalogue
        self.calendar = calendar
        self._sealer = sealer
        self._audit = audit or (lambda *_: None)
        self._clock = clock
        # Called after each committed change, in the caller's (worker) thread.
        self.listeners: list[Listener] = []

    def local_date(self, when: datetime) -> date:
        """The calendar day in the catalogue's time zone (where deadlines are counted)."""
        return self.catalogue.local_time(when.timestamp()).date()

    def today(self) -> date:
        return self.local_date(self._clock())

    # -- receiving ---------------------------------------------------------
    def create(
        self,
        actor: Actor,
        *,
        item: str,
        mode: str,
        applicant_name: str,
        applicant_id: str,
        place: str | None = None,
        session_id: str | None = None,
        applicant_disabled: bool = False,
        assisted_by: str | None = None,
    ) -> CaseDetail:
        """Receive a case (受理) at `place` (default: the actor's); with `session_id`,
        the video session it was received in is linked in the same transaction.
        `applicant_disabled`: the agent ticked it (a points bonus, 乡村随身办);
        `assisted_by`: the agent (`agent:<username>`) of the session it was received in."""
        if not isinstance(applicant_disabled, bool):
            raise CaseError("applicant_disabled", "invalid", "true or false")
        if session_id is not None and not SESSION_RE.match(session_id):
            raise CaseError("session", "invalid", "a session id like 20260102-030405-0a0b0c0d")
        where = place or actor.place
        if not where:
            raise CaseError("place", "required", "where the case is received")
        if where not in self.catalogue.places:
            raise CaseError("place", "unknown", f"unknown place {where!r}")
        service = self.catalogue.items.get(item)
        if service is None:
            raise CaseError("item", "unknown", f"unknown service item {item!r}")
        if mode not in CaseMode.__members__.values():
            raise CaseError("mode", "invalid", f"expected one of {', '.join(CaseMode)}")
        if mode not in service.modes:
            raise CaseError("mode", "not_allowed", f"{item} is not handled in mode {mode}")
        check_may_change(actor, item, where)
        name = check_name(applicant_name)
        id_number = check_id_number(applicant_id)
        county = county_of(where)
        now = self._clock()
        received_on = self.local_date(now)
        deadline = self.calendar.add_working_days(received_on, service.time_limit_days)
        with self.register.write() as s:
            seq = _next_number(s, county, received_on.year)
            row = CaseRow(
                number=f"{county}-{received_on.year}-{seq:06d}",
                county=county,
                year=received_on.year,
                seq=seq,
                item=item,
                department=service.department.zh,
                level=service.level,
                place=where,
                mode=mode,
                state=CaseState.RECEIVED.value,
                applicant_name=name,
                applicant_id_last4=id_number[-4:],
                received_by=actor.ref,
                received_at=now,
                received_on=received_on,
                deadline=deadline,
                updated_at=now,
                applicant_disabled=applicant_disabled,
                assisted_by=assisted_by,
            )
            row.materials = [
                CaseMaterial(code=m, state=MaterialState.MISSING.value, updated_at=now)
                for m in service.materials
            ]
            if session_id is not None:
                row.sessions = [CaseSession(session_id=session_id, linked_at=now)]
            s.add(row)
            s.flush()
            sealed = self._sealer.seal(id_number, row.number)
            s.add(CaseIdentity(case_id=row.id, id_number=sealed))
            created = {"mode": mode} | ({"session": session_id} if session_id else {})
            if assisted_by:
                created["assisted_by"] = assisted_by
            event = self._history(s, row, actor, "created", None, row.state, "", created)
            detail = self._detail(row)
        log.info("case received", extra={"case": row.number, "item": item, "place": where})
        self._emit(event)
        return detail

    # -- the one state setter ----------------------------------------------
    def transition(self, actor: Actor, number: str, to: str, reason: str = "") -> CaseDetail:
        """Move the case to state `to`; a rejection keeps its reasons.

        `approved` is refused here (UseApproval): an approval is issued with its
        document by ApprovalService.approve, which also checks the materials, so
        no case is decided without the SHA-256 its verification page shows.
        """
        try:
            target = CaseState(to)
        except ValueError:
            raise CaseError("state", "invalid", f"expected one of {', '.join(CaseState)}") from None
        if target is CaseState.APPROVED:
            raise UseApproval(number)
        with self.register.write() as s:
            row = self._locked(s, number)
            check_may_change(actor, row.item, row.place, target)  # a stranger learns nothing more
            text = check_reason(reason, target in NEEDS_REASON)
            event = self._set_state(s, row, target, actor, text)
            detail = self._detail(row)
        self._emit(event)
        return detail

    def _set_state(
        self, s: Session, row: CaseRow, new: CaseState, actor: Actor, reason: str
    ) -> dict[str, Any]:
        old = CaseState(row.state)
        if new not in ALLOWED[old]:
            raise InvalidTransition(row.number, old.value, new.value)
        now = self._clock()
        row.state = new.value
        row.updated_at = now
        if new in DECISIONS:
            row.decided_by, row.decided_at, row.decision_reasons = actor.ref, now, reason
        log.info(
            "case state",
            extra={"case": row.number, "from": old.value, "to": new.value, "actor": actor.ref},
        )
        return self._history(s, row, actor, "state", old.value, new.value, reason, {})

    # -- sessions and materials -------------------------------------------
    def link_session(self, actor: Actor, number: str, session_id: str) -> CaseDetail:
        """Attach a video session (its archive folder id) to the case; once is enough."""
        if not isinstance(session_id, str) or not SESSION_RE.match(session_id):
            raise CaseError("session", "invalid", "a session id like 20260102-030405-0a0b0c0d")
        event = None
        with self.register.write() as s:
            row = self._locked(s, number)
            check_may_change(actor, row.item, row.place)
            if session_id not in {x.session_id for x in row.sessions}:
                row.sessions.append(CaseSession(session_id=session_id, linked_at=self._clock()))
                data = {"session": session_id}
                event = self._history(s, row, actor, "session", None, None, "", data)
            detail = self._detail(row)
        if event:
            self._emit(event)
        return detail

    def set_material(self, actor: Actor, number: str, code: str, state: str) -> CaseDetail:
        """Record where one checklist material stands (received, accepted, ...)."""
        if state not in MaterialState.__members__.values():
            raise CaseError("state", "invalid", f"expected one of {', '.join(MaterialState)}")
        with self.register.write() as s:
            row = self._locked(s, number)
            check_may_change(actor, row.item, row.place)
            if row.state not in OPEN:
                raise InvalidTransition(row.number, row.state, f"material {state}")
            material = next((m for m in row.materials if m.code == code), None)
            if material is None:
                raise CaseError("material", "unknown", f"{code!r} is not on the checklist")
            old, material.state = material.state, state
            material.updated_at = row.updated_at = self._clock()
            data = {"material": code, "from": old, "to": state}
            event = self._history(s, row, actor, "material", None, None, "", data)
            detail = self._detail(row)
        self._emit(event)
        return detail

    # -- reading -----------------------------------------------------------
    def get(self, actor: Actor, number: str) -> CaseDetail:
        with self.register.read() as s:
            row = s.scalar(select(CaseRow).where(CaseRow.number == number))
            if row is None:
                raise CaseNotFound(number)
            if not may_read(actor, row.item, row.place):
                raise CaseForbidden(f"{actor.username} may not see case {number}")
            return self._detail(row)

    def id_number(self, actor: Actor, number: str) -> str:
        """The full ID number, for the case page of a reviewer of its item (audited)."""
        with self.register.read() as s:
            row = s.scalar(select(CaseRow).where(CaseRow.number == number))
            if row is None:
                raise CaseNotFound(number)
            if actor.role != "reviewer" or row.item not in actor.items:
                raise CaseForbidden("only a reviewer of the item sees the full ID number")
            full = s.get(CaseIdentity, row.id)
            assert full is not None
            value = self._sealer.open(full.id_number, row.number)
        self._audit("case.id_number_viewed", actor.ref, {"case": number})
        return value

    def list_cases(self, actor: Actor, f: Any = None) -> list[CaseSummary]:
        """Cases the actor may see matching the filter (server/register/case_queries.py)."""
        from server.register.case_queries import CaseFilter, list_cases

        return list_cases(self, actor, f or CaseFilter())

    def count_by_state(self, actor: Actor, f: Any = None) -> dict[str, int]:
        from server.register.case_queries import CaseFilter, count_by_state

        return count_by_state(self, actor, f or CaseFilter())

    # -- helpers -----------------------------------------------------------
    def _locked(self, s: Session, number: str) -> CaseRow:
        row = s.scalar(select(CaseRow).where(CaseRow.number == number).with_for_update())
        if row is None:
            raise CaseNotFound(number)
        return row

    def _history(
        self,
        s: Session,
        row: CaseRow,
        actor: Actor,
        type_: str,
        from_state: str | None,
        to_state: str | None,
        reason: str,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        s.add(
            CaseEvent(
                case=row,
                at=self._clock(),
                actor=actor.ref,
                type=type_,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                data=data,
            )
        )
        # For the system log: no applicant data and no reasons (they stay in the register).
        audit = {"case": row.number, **data}
        if to_state is not None:
            audit.update({"from": from_state, "to": to_state})
        # The row as it stands after the change, for the listeners (not audited).
        change = CaseChange(self.summary(row), type_, reason)
        return {"type": f"case.{type_}", "actor": actor.ref, "data": audit, "change": change}

    def _emit(self, event: dict[str, Any]) -> None:
        """After the commit: the system audit log, then every listener."""
        self._audit(event["type"], event["actor"], event["data"])
        change = event.get("change")
        if change is None and isinstance(event["data"].get("case"), str):
            change = self._change_of(event["data"]["case"], event["type"])
        if change is None:
            return
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:
                log.exception("case listener failed", extra={"case": change.summary.number})

    def _change_of(self, number: str, type_: str) -> CaseChange | None:
        """A change event built without _history: the row as it is now."""
        with self.register.read() as s:
            row = s.scalar(select(CaseRow).where(CaseRow.number == number))
            if row is None:
                return None
            return CaseChange(self.summary(row), type_.removeprefix("case."))

    def summary(self, row: CaseRow) -> CaseSummary:
        remaining = None
        if row.state in OPEN:
            remaining = self.calendar.working_days_between(self.today(), row.deadline)
        return CaseSummary(
            number=row.number,
            item=row.item,
            department=row.department,
            level=row.level,
            place=row.place,
            mode=row.mode,
            state=row.state,
            applicant_name=row.applicant_name,
            applicant_id=masked(row.applicant_id_last4),
            received_by=row.received_by,
            received_at=utc(row.received_at),
            deadline=row.deadline,
            remaining_working_days=remaining,
            decided_at=utc(row.decided_at) if row.decided_at else None,
            updated_at=utc(row.updated_at) if row.updated_at else None,
            assisted_by=row.assisted_by,
        )

    def _detail(self, row: CaseRow) -> CaseDetail:
        return CaseDetail(
            summary=self.summary(row),
            decision_reasons=row.decision_reasons,
            decided_by=row.decided_by,
            approval_document=row.approval_document,
            history=[
                {
                    "at": utc(e.at).isoformat(),
                    "actor": e.actor,
                    "type": e.type,
                    "from": e.from_state,
                    "to": e.to_state,
                    "reason": e.reason,
                    "data": e.data,
                }
                for e in row.history
            ],
            sessions=[x.session_id for x in row.sessions],
            materials={m.code: m.state for m in row.materials},
            checklist=checklist(row),
            approval=approval_of(row),
        )


def checklist(row: CaseRow) -> list[dict[str, Any]]:
    """Each checklist material with its readable pages; captured when it has one.

    Every material of the catalogue's checklist is required.
    """
    readable: dict[str, int] = {}
    for doc in row.documents:
        if doc.state == "ok":
            readable[doc.material] = readable.get(doc.material, 0) + 1
    return [
        {
            "code": m.code,
            "state": m.state,
            "pages": readable.get(m.code, 0),
            "captured": readable.get(m.code, 0) > 0,
        }
        for m in row.materials
    ]


def approval_of(row: CaseRow) -> dict[str, Any] | None:
    """The issued approval document (server/register/approvals.py), from its history line."""
    if not row.approval_document:
        return None
    issued = next((e for e in reversed(row.history) if e.type == "approval"), None)
    data = issued.data if issued is not None else {}
    return {
        "file": data.get("file", row.approval_document),
        "sha256": row.approval_sha256,
        "source": data.get("source", "uploaded"),
    }


def _next_number(s: Session, county: str, year: int) -> int:
    """The next number of the county and year, taken inside the caller's transaction."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = CaseCounter.__table__
    stmt = (
        insert(table)
        .values(county=county, year=year, last=1)
        .on_conflict_do_update(index_elements=["county", "year"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(s.execute(stmt).scalar_one())
