"""Case lists and statistics: SQL queries over the register, never walks of
the archive. Sorted by remaining working days (the deadline: the nearer,
the higher) or, with order "recent", by the latest decision or change first
(the finished cases of a counter), and filtered by where the case is, what it
is and how late."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select

from server.register.case_types import OPEN, Actor, CaseError, CaseState, CaseSummary
from server.register.cases import CaseService
from server.register.models import CaseRow

LIST_MAX = 500
ORDERS = ("deadline", "recent")


@dataclass(frozen=True)
class CaseFilter:
    place: str | None = None
    item: str | None = None
    state: tuple[str, ...] = ()
    department: str | None = None
    overdue: bool = False  # open cases past their deadline
    due_within: int | None = None  # open cases due within N working days (not yet overdue)
    limit: int = 100
    offset: int = 0
    order: str = "deadline"

    def check(self) -> CaseFilter:
        bad = [s for s in self.state if s not in CaseState.__members__.values()]
        if bad:
            raise CaseError("state", "invalid", f"unknown states {', '.join(bad)}")
        if self.due_within is not None and not 0 <= self.due_within <= 366:
            raise CaseError("due_within", "invalid", "0 to 366 working days")
        if not 1 <= self.limit <= LIST_MAX:
            raise CaseError("limit", "invalid", f"1 to {LIST_MAX}")
        if self.offset < 0:
            raise CaseError("offset", "invalid", "0 or more")
        if self.order not in ORDERS:
            raise CaseError("order", "invalid", f"one of {', '.join(ORDERS)}")
        return self


def _scope(query: Select[Any], actor: Actor) -> Select[Any]:
    """What the actor may see: a reviewer their items, an agent their place."""
    if actor.role == "reviewer":
        return query.where(CaseRow.item.in_(actor.items or ("",)))
    if actor.role == "agent":
        return query.where(CaseRow.place == (actor.place or ""))
    if actor.role in ("supervisor", "sysadmin"):
        return query
    return query.where(false())


def _filtered(service: CaseService, query: Select[Any], f: CaseFilter) -> Select[Any]:
    if f.place:
        query = query.where(CaseRow.place == f.place)
    if f.item:
        query = query.where(CaseRow.item == f.item)
    if f.department:
        query = query.where(CaseRow.department == f.department)
    if f.state:
        query = query.where(CaseRow.state.in_(f.state))
    today = service.today()
    open_states = [s.value for s in OPEN]
    if f.overdue:
        query = query.where(CaseRow.state.in_(open_states), CaseRow.deadline < today)
    if f.due_within is not None:
        until = service.calendar.add_working_days(today, f.due_within)
        query = query.where(
            CaseRow.state.in_(open_states), CaseRow.deadline >= today, CaseRow.deadline <= until
        )
    return query


def list_cases(service: CaseService, actor: Actor, f: CaseFilter) -> list[CaseSummary]:
    """The cases the actor may see that match, nearest deadline (or latest change) first."""
    f.check()
    query = _filtered(service, _scope(select(CaseRow), actor), f)
    if f.order == "recent":
        latest = func.coalesce(CaseRow.decided_at, CaseRow.updated_at)
        query = query.order_by(latest.desc(), CaseRow.id.desc())
    else:
        query = query.order_by(CaseRow.deadline, CaseRow.id)
    query = query.limit(f.limit).offset(f.offset)
    with service.register.read() as s:
        return [service.summary(row) for row in s.scalars(query)]


def count_by_state(service: CaseService, actor: Actor, f: CaseFilter) -> dict[str, int]:
    """How many matching cases are in each state (every state named, 0 included)."""
    f.check()
    query = _filtered(
        service, _scope(select(CaseRow.state, func.count()).group_by(CaseRow.state), actor), f
    )
    counts = dict.fromkeys((s.value for s in CaseState), 0)
    with service.register.read() as s:
        for state, n in s.execute(query):
            counts[state] = int(n)
    return counts
