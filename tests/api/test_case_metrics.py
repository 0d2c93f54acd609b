"""/metrics counts open, overdue and due-soon cases from the register at each scrape."""

from __future__ import annotations

from datetime import UTC, datetime

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import RunningServer
from tests.contract.case_helpers import Clock
from tests.metrics_text import families, matching, total, value

SCJG = "县市场监督管理局"  # SCJG-001's department
RSJ = "县人力资源和社会保障局"  # RSJ-001's


async def _scrape(running: RunningServer) -> str:
    anon, _ = await running.http()
    async with anon.get("/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    assert families(text)["rw_cases_open"] == "gauge"
    return text


async def test_open_overdue_and_due_soon_cases_per_department(running: RunningServer) -> None:
    clock = Clock()  # Wed 30 Sep 2026
    running.app[K.CASES]._clock = clock
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    figures = await _scrape(running)
    assert total(figures, "rw_cases_open") == 0
    assert value(figures, "rw_cases_overdue", department=SCJG) == 0  # every department named

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
    assert value(figures, "rw_cases_open", department=SCJG, state="received") == 1
    assert value(figures, "rw_cases_open", department=RSJ, state="in_review") == 1
    assert value(figures, "rw_cases_open", department=RSJ, state="received") == 0
    assert total(figures, "rw_cases_open") == 3  # the withdrawn one is not open
    assert value(figures, "rw_cases_overdue", department=RSJ) == 1
    assert total(figures, "rw_cases_overdue") == 1
    assert value(figures, "rw_cases_due_soon", department=SCJG) == 1
    assert total(figures, "rw_cases_due_soon") == 1
    assert not any(c["number"] in figures for c in (soon, late, later))
    shared = matching(figures, "rw_cases_open")
    assert shared and all("process" not in s.labels for s in shared)  # the same in every process

    clock.now = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)  # Mon 12 Oct: both are over
    figures = await _scrape(running)
    assert total(figures, "rw_cases_overdue") == 2
    assert total(figures, "rw_cases_due_soon") == 0
