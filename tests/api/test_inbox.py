"""The inbox (待办) over HTTP: open cases by remaining working days, flagged and
counted, on the register's injectable clock (tests/contract/case_helpers.Clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _get, _post, _signed_in
from tests.conftest import RunningServer
from tests.contract.case_helpers import Clock

INBOX = "/api/register/inbox"


async def test_inbox_sorts_flags_and_counts_by_deadline(running: RunningServer) -> None:
    clock = Clock()  # Wed 30 Sep 2026 (the National Day holidays follow)
    running.app[K.CASES]._clock = clock
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    supervisor = await _signed_in(running, "supervisor")
    made = {}
    for key, caller, body in (
        ("A", agent, NEW),  # SCJG-001, 3 working days: due Sat 10 Oct (a 调休 working day)
        ("B", reviewer, {**NEW, "item": "RSJ-001", "mode": "video"}),  # 1 day: Thu 8 Oct
        ("D", agent, {**NEW, "item": "MZ-001"}),  # 30 working days
        ("E", agent, NEW),  # withdrawn below: not open
    ):
        status, case = await _post(caller, BASE, body)
        assert status == 201, case
        made[case["number"]] = key
    [withdrawn] = [n for n, k in made.items() if k == "E"]
    status, _ = await _post(
        agent, f"{BASE}/{withdrawn}/transition", {"to": "withdrawn", "reason": "申请人撤回"}
    )
    assert status == 200
    clock.now = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)  # Fri 9 Oct, 11:00 in Beijing

    status, box = await _get(reviewer, INBOX)
    assert status == 200, box
    rows = [
        (made[c["number"]], c["remaining_working_days"], c["overdue"], c["due_soon"])
        for c in box["cases"]
    ]
    assert rows == [("B", -1, True, False), ("A", 1, False, True)]
    assert box["counts"] == {"open": 2, "overdue": 1, "due_soon": 1}
    assert NEW["applicant_id"] not in str(box)
    assert box["cases"][0]["applicant"]["name"] == NEW["applicant_name"]

    status, box = await _get(supervisor, INBOX)
    assert [made[c["number"]] for c in box["cases"]] == ["B", "A", "D"]
    assert box["counts"] == {"open": 3, "overdue": 1, "due_soon": 1}
    status, box = await _get(agent, INBOX)  # the agent's place only
    assert [made[c["number"]] for c in box["cases"]] == ["A", "D"]
    assert box["counts"] == {"open": 2, "overdue": 0, "due_soon": 1}

    # A is due on Saturday 10 Oct, a working day (调休). On Sunday no working day
    # has passed since: 0 left, due soon; on Monday it is 1 day over. The counts
    # say what the flags say.
    clock.now = datetime(2026, 10, 11, 3, 0, tzinfo=UTC)
    status, box = await _get(reviewer, INBOX)
    assert [
        (made[c["number"]], c["remaining_working_days"], c["due_soon"]) for c in box["cases"]
    ] == [("B", -2, False), ("A", 0, True)]
    assert box["counts"] == {"open": 2, "overdue": 1, "due_soon": 1}
    clock.now = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)
    status, box = await _get(reviewer, INBOX)
    assert [(made[c["number"]], c["overdue"]) for c in box["cases"]] == [("B", True), ("A", True)]
    assert box["counts"] == {"open": 2, "overdue": 2, "due_soon": 0}
