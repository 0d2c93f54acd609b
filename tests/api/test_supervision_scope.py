"""A supervisor bound to service items watches their departments only
(server/supervision_scope.py): the pushed dashboard, GET /api/supervision and
the live spot check; a supervisor with no items sees everything."""

from __future__ import annotations

from typing import Any

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.api.test_supervision import until
from tests.conftest import PASSWORD, RunningServer

MARKET = "县市场监督管理局"  # SCJG-001's department
JOIN = {"type": "queue.join", "recording_notice_shown": True}


def _queues(snap: dict[str, Any]) -> dict[str, int]:
    return {q["item"]: q["waiting"] for q in snap["queues"]}


async def test_a_department_supervisor_sees_its_department_only(running: RunningServer) -> None:
    running.app[K.ACCOUNTS].add_user("sup-market", PASSWORD, "supervisor", items=("SCJG-001",))
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    for caller, body in (  # open cases of two departments
        (agent, NEW),
        (reviewer, {**NEW, "item": "RSJ-001", "mode": "video"}),
        (reviewer, {**NEW, "item": "RSJ-001", "mode": "video"}),
    ):
        assert (await _post(caller, BASE, body))[0] == 201
    k1, k2 = await running.kiosk("kiosk-1"), await running.kiosk("kiosk-2")
    await k1.send({**JOIN, "item": "SCJG-001"})
    await k1.expect("queue.status")
    await k2.send({**JOIN, "item": "RSJ-001"})
    await k2.expect("queue.status")

    general = await running.staff("supervisor")
    scoped = await running.staff("sup-market")
    every = await until(general, lambda m: sum(_queues(m).values()) == 2)
    mine = await until(scoped, lambda m: True)
    assert _queues(every)["RSJ-001"] == 1 and _queues(every)["SCJG-001"] == 1
    assert {q["department"]["zh"] for q in mine["queues"]} == {MARKET}
    assert _queues(mine)["SCJG-001"] == 1 and "RSJ-001" not in _queues(mine)
    assert mine["totals"]["waiting"] == 1 and every["totals"]["waiting"] == 2
    assert sum(d["open"] for d in every["cases"]["departments"]) == 3
    assert [d["department"] for d in mine["cases"]["departments"]] == [MARKET]
    assert mine["cases"]["departments"][0]["open"] == 1
    for snap in (mine, every):  # the private parts never leave the server
        assert not [k for k in snap if k.startswith("_")]
        assert not [k for q in snap["queues"] for k in q if k.startswith("_")]

    # The HTTP view is narrowed the same way.
    http, _ = await running.http("sup-market")
    async with http.get("/api/supervision") as resp:
        body = await resp.json()
    assert resp.status == 200 and _queues(body) == _queues(mine)


async def test_a_department_supervisor_observes_its_department_only(
    running: RunningServer,
) -> None:
    running.app[K.ACCOUNTS].add_user("sup-social", PASSWORD, "supervisor", items=("RSJ-001",))
    running.app[K.ACCOUNTS].add_user("sup-market", PASSWORD, "supervisor", items=("SCJG-001",))
    _kiosk, desk = await running.pair(item="SCJG-001")
    session_id = desk.last["session.paired"]["session_id"]
    social = await running.staff("sup-social")
    snap = await until(social, lambda m: True)
    assert snap["sessions"] == [] and snap["totals"]["sessions"] == 0
    await social.send({"type": "supervision.observe", "session_id": session_id})
    error = await social.expect("error")
    assert error["code"] == "forbidden" and "department" in error["message"]

    market = await running.staff("sup-market")
    snap = await until(market, lambda m: bool(m["sessions"]))
    assert [s["session_id"] for s in snap["sessions"]] == [session_id]
    await market.send({"type": "supervision.observe", "session_id": session_id})
    ack = await market.expect("session.observer")
    assert ack["observing"] is True and ack["session_id"] == session_id
