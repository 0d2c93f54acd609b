"""/metrics counts open, overdue and due-soon cases from the register at each scrape."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import RunningServer
from tests.contract.case_helpers import Clock

SCJG = "县市场监督管理局"  # SCJG-001's department
RSJ = "县人力资源和社会保障局"  # RSJ-001's


async def _scrape(running: RunningServer) -> dict[str, float]:
    anon, _ = await running.http()
    async with anon.get("/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    found = {}
    for line in text.splitlines():
        if line.startswith("rw_cases_"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    assert "# TYPE rw_cases_open gauge" in text
    return found


def _total(figures: dict[str, float], name: str) -> float:
    return sum(v for k, v in figures.items() if re.fullmatch(rf"{name}(\{{.*\}})?", k))


async def test_open_overdue_and_due_soon_cases_per_department(running: RunningServer) -> None:
    clock = Clock()  # Wed 30 Sep 2026
    running.app[K.CASES]._clock = clock
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    figures = await _scrape(running)
    assert _total(figures, "rw_cases_open") == 0
    assert figures[f'rw_cases_overdue{{department="{SCJG}"}}'] == 0  # every department named

    _, soon = await _post(agent, BASE, NEW)  # due Sat 10 Oct (调休 working day)
    _, late = await _post(reviewer, BASE, {**NEW, "item": "RSJ-001", "mode": "video"})  # Thu 8
    _, later = await _post(agent, BASE, {**NEW, "item": "MZ-001"})  # 30 working days
    _, gone = await _post(agent, BASE, NEW)
    assert (
        await _post(
            agent,
            f"{BASE}/{gone['number']}/transition",
            {"to": "withdrawn", "reason": "申请人撤回"},
        )
    )[0]
    path = f"{BASE}/{late['number']}/transition"
    assert (await _post(reviewer, path, {"to": "in_review"}))[0] == 200

    clock.now = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)  # Fri 9 Oct: late is over, soon due
    figures = await _scrape(running)
    assert figures[f'rw_cases_open{{department="{SCJG}",state="received"}}'] == 1
    assert figures[f'rw_cases_open{{department="{RSJ}",state="in_review"}}'] == 1
    assert figures[f'rw_cases_open{{department="{RSJ}",state="received"}}'] == 0
    assert _total(figures, "rw_cases_open") == 3  # the withdrawn one is not open
    assert figures[f'rw_cases_overdue{{department="{RSJ}"}}'] == 1
    assert _total(figures, "rw_cases_overdue") == 1
    assert figures[f'rw_cases_due_soon{{department="{SCJG}"}}'] == 1
    assert _total(figures, "rw_cases_due_soon") == 1
    assert not any(c["number"] in str(figures) for c in (soon, late, later))

    clock.now = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)  # Mon 12 Oct: both are over
    figures = await _scrape(running)
    assert _total(figures, "rw_cases_overdue") == 2
    assert _total(figures, "rw_cases_due_soon") == 0
