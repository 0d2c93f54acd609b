"""Case lists, filters and counts: queries, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from server.register.case_queries import CaseFilter
from server.register.case_types import CaseError
from server.register.db import Register
from tests.contract.case_helpers import (
    AGENT,
    CITY,
    OTHER_AGENT,
    REVIEWER,
    SUPERVISOR,
    Cases,
    make_cases,
)


@pytest.fixture
def seeded(register: Register, tmp_path: Path) -> Iterator[tuple[Cases, dict[str, str]]]:
    """Five cases received Wed 30 Sep 2026, looked at on Fri 9 Oct 2026."""
    cases = make_cases(register, tmp_path)
    made = {
        "A": cases.create(AGENT),  # SCJG-001, 3 days: due Sat 10 Oct (调休 working day)
        "B": cases.create(REVIEWER, item="RSJ-001", mode="video"),  # 1 day: due Thu 8 Oct
        "C": cases.create(CITY, item="RSJ-002", mode="video"),  # 5 days: due Tue 13 Oct
        "D": cases.create(AGENT, item="MZ-001"),  # 30 days
        "E": cases.create(OTHER_AGENT, item="YB-001"),  # 1 day, then withdrawn
    }
    numbers = {k: v.number for k, v in made.items()}
    cases.service.transition(OTHER_AGENT, numbers["E"], "withdrawn", "申请人撤回")
    cases.clock.now = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)
    try:
        yield cases, numbers
    finally:
        cases.audit.close()


def _listed(cases: Cases, numbers: dict[str, str], actor: object = SUPERVISOR, **f: object):
    names = {v: k for k, v in numbers.items()}
    found = cases.service.list_cases(actor, CaseFilter(**f))  # type: ignore[arg-type]
    return [names[c.number] for c in found]


def test_filters(seeded: tuple[Cases, dict[str, str]]) -> None:
    cases, n = seeded
    assert _listed(cases, n, overdue=True) == ["B"]
    assert _listed(cases, n, due_within=1) == ["A"]
    assert _listed(cases, n, due_within=3) == ["A", "C"]
    assert _listed(cases, n, place="QH-LL-DC") == ["A", "D"]
    assert _listed(cases, n, item="RSJ-002") == ["C"]
    assert _listed(cases, n, department="县市场监督管理局") == ["A"]
    assert _listed(cases, n, state=("withdrawn",)) == ["E"]
    assert _listed(cases, n, state=("received",), place="QH-COUNTY") == ["B"]
    assert _listed(cases, n, limit=2) == ["B", "E"] and _listed(cases, n, offset=4) == ["D"]


def test_sorted_by_remaining_working_days(seeded: tuple[Cases, dict[str, str]]) -> None:
    cases, n = seeded
    assert _listed(cases, n) == ["B", "E", "A", "C", "D"]
    remaining = {c.number: c.remaining_working_days for c in cases.service.list_cases(SUPERVISOR)}
    assert remaining[n["B"]] == -1  # a working day late
    assert remaining[n["A"]] == 1  # Saturday 10 Oct is a working day
    assert remaining[n["C"]] == 3
    assert remaining[n["E"]] is None  # withdrawn: no deadline runs


def test_finished_cases_latest_first(seeded: tuple[Cases, dict[str, str]]) -> None:
    """A counter's 已办结 list: the latest decision or withdrawal first, paged."""
    cases, n = seeded
    svc, finished = cases.service, ("approved", "rejected", "withdrawn")
    cases.clock.advance(hours=1)
    svc.transition(REVIEWER, n["A"], "rejected", "不符合条件")
    cases.clock.advance(hours=1)
    svc.transition(AGENT, n["D"], "withdrawn", "申请人不办了")  # withdrawn: no decided_at
    cases.clock.advance(hours=1)
    svc.transition(REVIEWER, n["B"], "in_review")
    cases.add_pages(n["B"], REVIEWER)
    cases.clock.advance(hours=1)
    cases.approve(REVIEWER, n["B"], "ok")
    assert _listed(cases, n, state=finished, order="recent") == ["B", "D", "A", "E"]
    assert _listed(cases, n, state=finished, order="recent", limit=2, offset=2) == ["A", "E"]
    assert _listed(cases, n, AGENT, state=finished, order="recent") == ["D", "A"]
    assert _listed(cases, n, state=finished) == ["B", "E", "A", "D"]  # by deadline
    [d] = [c for c in svc.list_cases(AGENT, CaseFilter(state=("withdrawn",))) if c.number == n["D"]]
    assert d.decided_at is None and d.updated_at == cases.clock.now - timedelta(hours=2)
    assert d.to_json()["updated_at"] == d.updated_at.isoformat()


def test_each_role_sees_its_own(seeded: tuple[Cases, dict[str, str]]) -> None:
    cases, n = seeded
    assert _listed(cases, n, AGENT) == ["A", "D"]
    assert _listed(cases, n, REVIEWER) == ["B", "A"]
    assert _listed(cases, n, CITY) == ["C"]
    assert _listed(cases, n, AGENT, place="QH-CG") == []  # a filter never widens the scope


def test_counts_by_state(seeded: tuple[Cases, dict[str, str]]) -> None:
    cases, _ = seeded
    counts = cases.service.count_by_state(SUPERVISOR)
    assert counts == {
        "received": 4,
        "in_review": 0,
        "more_materials_requested": 0,
        "approved": 0,
        "rejected": 0,
        "withdrawn": 1,
    }
    assert cases.service.count_by_state(AGENT, CaseFilter(overdue=True))["received"] == 0
    assert cases.service.count_by_state(REVIEWER, CaseFilter(overdue=True))["received"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"state": ("nope",)},
        {"limit": 0},
        {"limit": 10_000},
        {"due_within": -1},
        {"offset": -1},
        {"order": "name"},
    ],
)
def test_bad_filters_are_clear_errors(seeded: tuple[Cases, dict[str, str]], bad: dict) -> None:
    with pytest.raises(CaseError):
        seeded[0].service.list_cases(SUPERVISOR, CaseFilter(**bad))


def test_the_list_columns_are_indexed(register: Register) -> None:
    indexes = {tuple(i["column_names"]) for i in inspect(register.engine).get_indexes("cases")}
    for columns in (("state", "deadline"), ("place", "state"), ("item", "state")):
        assert columns in indexes
    assert ("department", "state") in indexes
