"""Follow-ups (整改) of bad ratings: open → responded → closed.

A rating at 不满意 or 非常不满意 opens one, for the rated department, due in
`ratings.followup_working_days` working days. It is assigned to a supervisor
who covers the department: one whose items include an item of that
department, else one with no items (a supervisor without items covers every
department); nobody when there is none (every covering supervisor still
sees it). A covering supervisor writes the response, then closes it with a
verdict (resolved / unresolved) and a note: the closing check. Every step is
audited (`followup.*`) and goes to the case's history when the rating
belongs to a case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import RatingsConfig
from server.register.case_types import Actor, CaseError, CaseForbidden, utc
from server.register.cases import CaseService
from server.register.models import CaseRow, FollowUpRow, RatingRow, UserRow
from server.register.rating_terms import level_names, reason_names

log = logging.getLogger(__name__)
Audit = Callable[[str, str | None, dict[str, Any]], None]
TEXT_MAX = 2000
VERDICTS = ("resolved", "unresolved")


class FollowUpState(StrEnum):
    OPEN = "open"
    RESPONDED = "responded"
    CLOSED = "closed"


class FollowUpNotFound(CaseError):
    status = 404

    def __init__(self, fid: int) -> None:
        super().__init__("followup", "not_found", f"no follow-up {fid}")


class FollowUpWrongState(CaseError):
    status = 409

    def __init__(self, state: str, needed: str) -> None:
        super().__init__("state", "wrong_state", f"the follow-up is {state}, not {needed}")


class FollowUpService:
    def __init__(
        self,
        cases: CaseService,
        cfg: RatingsConfig,
        audit: Audit | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cases = cases
        self.cfg = cfg
        self._audit = audit or (lambda *_: None)
        self._clock = clock
        # Called (no arguments) after a follow-up opened, was answered or closed,
        # in the caller's thread, after the commit: the supervisors' dashboard.
        self.listeners: list[Callable[[], None]] = []

    def notify(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("follow-up listener failed")

    # -- who covers what ----------------------------------------------------
    def departments_of(self, items: tuple[str, ...] | list[str]) -> set[str]:
        catalogue = self.cases.catalogue
        return {catalogue.items[i].department.zh for i in items if i in catalogue.items}

    def covers(self, actor: Actor, department: str) -> bool:
        if actor.role != "supervisor":
            return False
        return not actor.items or department in self.departments_of(actor.items)

    def _assignee(self, s: Session, department: str) -> str | None:
        rows = s.scalars(
            select(UserRow)
            .where(UserRow.role == "supervisor", UserRow.disabled.is_(False))
            .order_by(UserRow.username)
        ).all()
        specific = [u for u in rows if u.items and department in self.departments_of(u.items)]
        general = [u for u in rows if not u.items]
        chosen = (specific or general or [None])[0]
        return chosen.username if chosen is not None else None

    # -- opening (inside the rating's transaction) ----------------------------
    def open_in(self, s: Session, rating: RatingRow) -> dict[str, Any]:
        today = self.cases.today()
        row = FollowUpRow(
            rating_id=rating.id,
            department=rating.department,
            assignee=self._assignee(s, rating.department),
            state=FollowUpState.OPEN.value,
            opened_at=self._clock(),
            deadline=self.cases.calendar.add_working_days(today, self.cfg.followup_working_days),
        )
        s.add(row)
        s.flush()
        info = {
            "followup": row.id,
            "rating": rating.id,
            "department": row.department,
            "assignee": row.assignee,
            "deadline": row.deadline.isoformat(),
        }
        self._case_line(s, rating, "followup.opened", info)
        return {"type": "followup.opened", "actor": None, "data": info}

    # -- reading ------------------------------------------------------------
    def list(self, actor: Actor, state: str | None = None) -> list[dict[str, Any]]:
        """The follow-ups of the departments the supervisor covers, newest first."""
        if actor.role != "supervisor":
            raise CaseForbidden("follow-ups are for supervisors")
        if state is not None and state not in FollowUpState.__members__.values():
            raise CaseError("state", "invalid", f"one of {', '.join(FollowUpState)}")
        q = select(FollowUpRow).order_by(FollowUpRow.id.desc())
        if state is not None:
            q = q.where(FollowUpRow.state == state)
        if actor.items:
            q = q.where(FollowUpRow.department.in_(self.departments_of(actor.items)))
        with self.cases.register.read() as s:
            return [self._json(row) for row in s.scalars(q.limit(500))]

    def get(self, actor: Actor, fid: int) -> dict[str, Any]:
        with self.cases.register.read() as s:
            return self._json(self._visible(s, actor, fid, lock=False))

    def counts(self) -> dict[str, int]:
        """Not yet closed, and of those past their deadline (for /metrics)."""
        today = self.cases.today()
        not_closed = FollowUpRow.state != FollowUpState.CLOSED.value
        with self.cases.register.read() as s:
            open_n = s.scalar(select(func.count()).where(not_closed)) or 0
            overdue = (
                s.scalar(select(func.count()).where(not_closed, FollowUpRow.deadline < today)) or 0
            )
        return {"open": int(open_n), "overdue": int(overdue)}

    def counts_by_department(self) -> dict[str, dict[str, int]]:
        """`counts` per department (a narrowed dashboard's figures)."""
        today = self.cases.today()
        not_closed = FollowUpRow.state != FollowUpState.CLOSED.value
        late = sql_case((FollowUpRow.deadline < today, 1), else_=0)
        with self.cases.register.read() as s:
            rows = s.execute(
                select(FollowUpRow.department, func.count(), func.sum(late))
                .where(not_closed)
                .group_by(FollowUpRow.department)
            ).all()
        return {d: {"open": int(n), "overdue": int(o or 0)} for d, n, o in rows}

    # -- steps --------------------------------------------------------------
    def respond(self, actor: Actor, fid: int, text: Any) -> dict[str, Any]:
        response = _text(text, "response", required=True)
        with self.cases.register.write() as s:
            row = self._visible(s, actor, fid, lock=True)
            self._expect(row, FollowUpState.OPEN)
            row.state = FollowUpState.RESPONDED.value
            row.response, row.responded_by, row.responded_at = response, actor.ref, self._clock()
            info = {"followup": row.id, "rating": row.rating_id, "department": row.department}
            self._case_line(s, row.rating, "followup.responded", info, actor)
            out = self._json(row)
        self._audit("followup.responded", actor.ref, info)
        self.notify()
        return out

    def close(self, actor: Actor, fid: int, verdict: Any, note: Any = "") -> dict[str, Any]:
        if verdict not in VERDICTS:
            raise CaseError("verdict", "invalid", f"one of {', '.join(VERDICTS)}")
        text = _text(note, "note", required=False)
        with self.cases.register.write() as s:
            row = self._visible(s, actor, fid, lock=True)
            self._expect(row, FollowUpState.RESPONDED)
            row.state = FollowUpState.CLOSED.value
            row.verdict, row.verdict_note = verdict, text
            row.closed_by, row.closed_at = actor.ref, self._clock()
            info = {
                "followup": row.id,
                "rating": row.rating_id,
                "department": row.department,
                "verdict": verdict,
                "overdue": self.cases.local_date(row.closed_at) > row.deadline,
            }
            self._case_line(s, row.rating, "followup.closed", info, actor)
            out = self._json(row)
        self._audit("followup.closed", actor.ref, info)
        self.notify()
        return out

    # -- helpers ------------------------------------------------------------
    def _visible(self, s: Session, actor: Actor, fid: int, *, lock: bool) -> FollowUpRow:
        q = select(FollowUpRow).where(FollowUpRow.id == fid)
        row = s.scalar(q.with_for_update() if lock else q)
        if row is None:
            raise FollowUpNotFound(fid)
        if not self.covers(actor, row.department):
            raise CaseForbidden(f"{actor.username} does not supervise {row.department}")
        return row

    @staticmethod
    def _expect(row: FollowUpRow, state: FollowUpState) -> None:
        if row.state != state.value:
            raise FollowUpWrongState(row.state, state.value)

    def _case_line(
        self,
        s: Session,
        rating: RatingRow,
        type_: str,
        info: dict[str, Any],
        actor: Actor | None = None,
    ) -> None:
        if rating.case_id is None:
            return
        case = s.get(CaseRow, rating.case_id)
        if case is not None:
            who = actor or Actor("server", "system")
            self.cases._history(s, case, who, type_.replace(".", "_"), None, None, "", info)

    def _json(self, row: FollowUpRow) -> dict[str, Any]:
        rating = row.rating
        today = self.cases.today()
        return {
            "id": row.id,
            "state": row.state,
            "department": row.department,
            "assignee": row.assignee,
            "opened_at": utc(row.opened_at).isoformat(),
            "deadline": row.deadline.isoformat(),
            "overdue": row.state != FollowUpState.CLOSED.value and today > row.deadline,
            "response": row.response,
            "responded_by": row.responded_by,
            "responded_at": utc(row.responded_at).isoformat() if row.responded_at else None,
            "verdict": row.verdict,
            "verdict_note": row.verdict_note,
            "closed_by": row.closed_by,
            "closed_at": utc(row.closed_at).isoformat() if row.closed_at else None,
            "rating": {
                "id": rating.id,
                "kind": rating.kind,
                "subject": rating.subject,
                "level": rating.level,
                "level_names": level_names(rating.level),
                "reasons": [reason_names(r) for r in rating.reasons],
                "comment": rating.comment,
                "at": utc(rating.at).isoformat(),
                "reviewer": rating.reviewer,
                "item": rating.item,
                "place": rating.place,
            },
        }


def _text(raw: Any, field: str, *, required: bool) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise CaseError(field, "invalid", "a string")
    value = raw.strip()
    if required and not value:
        raise CaseError(field, "required", "write it")
    if len(value) > TEXT_MAX:
        raise CaseError(field, "too_long", f"at most {TEXT_MAX} characters")
    return value
