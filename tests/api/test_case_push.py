"""`case.updated` over real WebSockets: a committed case change reaches exactly
the staff sockets that may read the case (server/case_push.py)."""

from __future__ import annotations

import json

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import PASSWORD, RunningServer

CG_CASE = {**NEW, "item": "RSJ-002", "mode": "forward", "applicant_name": "王五"}


async def test_a_new_case_reaches_the_items_reviewer_and_no_one_else(
    running: RunningServer,
) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    reviewer = await running.staff("reviewer")  # reviews SCJG-001 (county items)
    city = await running.staff("city")  # reviews RSJ-002, not SCJG-001
    agent_cg = await running.staff("agent-cg")  # another place
    agent = await running.staff("agent")  # QH-LL-DC, where the first case is received
    supervisor = await running.staff("supervisor")
    at_dc = await _signed_in(running, "agent")
    at_cg = await _signed_in(running, "agent-cg")

    status, first = await _post(at_dc, BASE, NEW)
    assert status == 201, first
    for client in (reviewer, agent, supervisor):
        msg = await client.expect("case.updated")
        assert msg == {
            "type": "case.updated",
            "number": first["number"],
            "state": "received",
            "item": "SCJG-001",
            "place": "QH-LL-DC",
            "remaining_working_days": first["remaining_working_days"],
            "overdue": False,
            "due_soon": first["remaining_working_days"] <= 1,
            "change": "created",
            "reason": None,
        }

    # A second case, of the city reviewer's item at agent-cg's place: the first
    # pushes those two receive are about it, so the first case never reached them.
    status, second = await _post(at_cg, BASE, CG_CASE)
    assert status == 201, second
    for client in (city, agent_cg, supervisor):
        msg = await client.expect("case.updated")
        assert msg["number"] == second["number"], msg

    # And the second never reached the county reviewer or the first place's agent.
    reviewer_http = await _signed_in(running, "reviewer")
    path = f"{BASE}/{first['number']}/transition"
    assert (await _post(reviewer_http, path, {"to": "in_review"}))[0] == 200
    status, _ = await _post(
        reviewer_http, path, {"to": "more_materials_requested", "reason": "请补充住所证明"}
    )
    assert status == 200
    for client in (reviewer, agent):
        msg = await client.expect("case.updated")
        assert (msg["number"], msg["state"]) == (first["number"], "in_review")
        msg = await client.expect("case.updated")
        assert (msg["state"], msg["change"]) == ("more_materials_requested", "state")
        assert msg["reason"] == "请补充住所证明"  # the agent is told what to bring

    # A page stored into the case is a change too.
    session, headers = at_dc
    material = first["checklist"][0]["code"]
    async with session.post(
        f"{BASE}/{first['number']}/documents",
        params={"material": material},
        data=b"%PDF-1.4 x",
        headers=headers,
    ) as resp:
        assert resp.status == 201, await resp.text()
    msg = await reviewer.expect("case.updated", change="document")
    assert msg["number"] == first["number"]

    for client in (reviewer, city, agent_cg, agent, supervisor):
        await client.close()
    seen = json.dumps([c.history for c in (reviewer, agent, supervisor)], ensure_ascii=False)
    assert NEW["applicant_id"] not in seen and "id_number" not in seen
    assert NEW["applicant_name"] not in seen
