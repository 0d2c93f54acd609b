"""Deadlines of open cases (待办): the inbox of one actor, and the counts that
/metrics scrapes. Queries over the register, like server/register/case_queries.py.

"Overdue" and "due soon" mean exactly what a case's `remaining_working_days`
says (CaseService.summary): overdue below 0, due soon at 0 or 1 working day.
In dates, with L the latest working day on or before today: overdue is a
deadline before L, due soon a deadline from L up to (not including) the second
working day after today. So the SQL counts and the flags on each row agree,
on weekends and holidays too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from server.register.case_queries import LIST_MAX, CaseFilter, _scope, list_cases
from server.register.case_types import OPEN, Actor, CaseState, CaseSummary
from server.register.cases import CaseService
from server.register.models import CaseRow

DUE_SOON_DAYS = 1  # 即将到期: due within this many working days
OPEN_STATES = tuple(s.value for s in CaseState if s in OPEN)  # in state-machine order


@dataclass(frozen=True)
class Bounds:
    overdue_before: date  # a deadline before this day is overdue
    soon_before: date  # from overdue_before up to (not incl.) this day: due soon


def bounds(service: CaseService) -> Bounds:
    today = service.today()
    latest = today
    for _ in range(366):  # a calendar has a working day within a year
        if service.calendar.is_working_day(latest):
            break
        latest -= timedelta(days=1)
    soon = service.calendar.add_working_days(today, DUE_SOON_DAYS + 1)
    return Bounds(latest, soon)


def _tallies(b: Bounds) -> tuple[Any, Any, Any]:
    overdue = func.sum(case((CaseRow.deadline < b.overdue_before, 1), else_=0))
    soon = func.sum(
        case(
            (and_(CaseRow.deadline >= b.overdue_before, CaseRow.deadline < b.soon_before), 1),
            else_=0,
        )
    )
    return func.count(), overdue, soon


def inbox(
    service: CaseService, actor: Actor, limit: int = LIST_MAX
) -> tuple[list[CaseSummary], dict[str, int]]:
    """The open cases the actor may see, fewest remaining working days first, and
    how many of all of them are open, overdue and due soon (not cut at `limit`)."""
    found = list_cases(service, actor, CaseFilter(state=OPEN_STATES, limit=limit))
    query = _scope(select(*_tallies(bounds(service))), actor).where(CaseRow.state.in_(OPEN_STATES))
    with service.register.read() as s:
        total, overdue, soon = s.execute(query).one()
    counts = {"open": int(total or 0), "overdue": int(overdue or 0), "due_soon": int(soon or 0)}
    return found, counts


@dataclass(frozen=True)
class OpenTally:
    department: str
    state: str
    open: int
    overdue: int
    due_soon: int


def open_tallies(service: CaseService, departments: list[str]) -> list[OpenTally]:
    """Open cases per department and state (every named department and open state,
    0 included), with how many are overdue and due soon. One GROUP BY query."""
    query = (
        select(CaseRow.department, CaseRow.state, *_tallies(bounds(service)))
        .where(CaseRow.state.in_(OPEN_STATES))
        .group_by(CaseRow.department, CaseRow.state)
    )
    found: dict[tuple[str, str], OpenTally] = {
        (d, st): OpenTally(d, st, 0, 0, 0) for d in departments for st in OPEN_STATES
    }
    with service.register.read() as s:
        for dept, st, n, overdue, soon in s.execute(query):
            found[(dept, st)] = OpenTally(dept, st, int(n), int(overdue or 0), int(soon or 0))
    return sorted(found.values(), key=lambda t: (t.department, OPEN_STATES.index(t.state)))
