"""The case register over HTTP, role by role, on a real server."""

from __future__ import annotations

import re

import aiohttp

from server import appkeys as K
from tests.conftest import PASSWORD, RunningServer
from tests.contract.case_helpers import id_number

BASE = "/api/register/cases"
NEW = {
    "item": "SCJG-001",
    "mode": "assisted",
    "applicant_name": "李四",
    "applicant_id": id_number("33010219550505004"),
}


async def _signed_in(running: RunningServer, username: str) -> tuple[aiohttp.ClientSession, dict]:
    session, csrf = await running.http(username)
    return session, {"X-CSRF-Token": csrf or ""}


async def _post(
    caller: tuple[aiohttp.ClientSession, dict], path: str, body: object
) -> tuple[int, dict]:
    session, headers = caller
    async with session.post(path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def _get(caller: tuple[aiohttp.ClientSession, dict], path: str) -> tuple[int, dict]:
    async with caller[0].get(path) as resp:
        return resp.status, await resp.json()


async def test_receive_review_decide(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    status, case = await _post(agent, BASE, NEW)
    assert status == 201, case
    number = case["number"]
    assert re.fullmatch(r"QH-\d{4}-000001", number) and case["place"] == "QH-LL-DC"
    assert case["applicant"]["id_number"] == "************" + NEW["applicant_id"][-4:]
    assert case["state"] == "received" and case["remaining_working_days"] >= 0

    status, listed = await _get(reviewer, f"{BASE}?state=received&item=SCJG-001")
    assert status == 200 and [c["number"] for c in listed["cases"]] == [number]
    assert listed["counts"]["received"] == 1
    assert NEW["applicant_id"] not in str(listed)
    status, full = await _get(reviewer, f"{BASE}/{number}/id-number")
    assert status == 200 and full["id_number"] == NEW["applicant_id"]

    assert (await _post(reviewer, f"{BASE}/{number}/transition", {"to": "in_review"}))[0] == 200
    for material in case["materials"]:  # every checklist material needs a page to approve
        async with reviewer[0].post(
            f"{BASE}/{number}/documents",
            params={"material": material},
            data=b"%PDF-1.4 x",
            headers=reviewer[1],
        ) as resp:
            assert resp.status == 201, await resp.text()
    # The plain transition does not approve: the approval comes with its document.
    status, body = await _post(
        reviewer, f"{BASE}/{number}/transition", {"to": "approved", "reason": "材料齐全"}
    )
    assert status == 409 and (body["field"], body["code"]) == ("to", "use_approval")
    assert f"POST /api/register/cases/{number}/approval" in body["message"]
    assert (await _get(reviewer, f"{BASE}/{number}"))[1]["state"] == "in_review"
    status, done = await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": "材料齐全"})
    assert status == 200 and done["state"] == "approved"
    assert done["decision"] == {"by": "reviewer:reviewer", "reasons": "材料齐全"}
    assert done["approval"]["sha256"]
    states = [h["to"] for h in done["history"] if h["type"] in ("created", "state")]
    assert states == ["received", "in_review", "approved"]
    types = [e["type"] for e in await running.system_events()]
    assert types.count("case.state") == 2 and "case.created" in types
    assert "case.id_number_viewed" in types


async def test_bad_requests_are_clear_and_write_nothing(running: RunningServer) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    agent = await _signed_in(running, "agent")
    other = await _signed_in(running, "agent-cg")
    city = await _signed_in(running, "city")
    reviewer = await _signed_in(running, "reviewer")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    path = f"{BASE}/{number}/transition"

    status, body = await _post(other, path, {"to": "withdrawn", "reason": "不办了"})
    assert status == 403 and body["code"] == "forbidden" and "QH-LL-DC" in body["message"]
    status, body = await _post(reviewer, path, {"to": "approved"})
    assert status == 409 and body["code"] == "use_approval"
    status, body = await _post(reviewer, path, {"to": "more_materials_requested", "reason": "x"})
    assert status == 409 and body["code"] == "wrong_state"
    status, body = await _post(reviewer, path, {"to": "rejected"})
    assert status == 400 and (body["field"], body["code"]) == ("reason", "required")
    status, body = await _post(agent, BASE, {**NEW, "applicant_id": "12345"})
    assert status == 400 and body["field"] == "applicant_id"
    assert NEW["applicant_id"][:10] not in str(body)
    status, body = await _post(agent, BASE, [1, 2])
    assert status == 400 and body["field"] == "body"
    assert (await _get(city, f"{BASE}/{number}"))[0] == 403
    assert (await _get(city, f"{BASE}/{number}/id-number"))[0] == 403
    assert (await _get(reviewer, f"{BASE}/QH-2026-999999"))[0] == 404
    assert (await _get(reviewer, f"{BASE}?due_within=soon"))[0] == 400
    assert (await _get(other, BASE))[1]["cases"] == []  # another place's cases stay hidden

    status, case = await _get(agent, f"{BASE}/{number}")
    assert status == 200 and case["state"] == "received" and len(case["history"]) == 1


async def test_roles_outside_the_register_are_refused(running: RunningServer) -> None:
    supervisor = await _signed_in(running, "supervisor")
    admin = await _signed_in(running, "admin")
    assert (await _post(supervisor, BASE, NEW))[0] == 403
    assert (await _get(admin, BASE))[0] == 403
    status, listed = await _get(supervisor, BASE)
    assert status == 200 and listed["cases"] == []
    # /api/cases is still the recordings list of the archive.
    status, recordings = await _get(supervisor, "/api/cases")
    assert status == 200 and "cases" in recordings and "counts" not in recordings
