"""乡村随身办 and the points ledger over HTTP, on a real server: a village case
earns on its decision; the township admin confirms the month (signed, then
frozen: every change refused with a clear message and an audit event);
corrections are new entries; manual grants need a reason; exports; and an
agent of one village point never reaches another point's cases or ledger."""

from __future__ import annotations

import csv
import io
import re

import aiohttp

from server.auth import allowed_roles
from tests.conftest import RunningServer
from tests.contract.case_helpers import id_number
from tests.unit.pdf_tools import pdf_text

CASES = "/api/register/cases"
ELDER = id_number("41132619500301002")  # born 1950-03-01
NEW = {
    "item": "SCJG-001",
    "mode": "assisted",
    "applicant_name": "王大爷",
    "applicant_id": ELDER,
    "applicant_disabled": True,
}
Caller = tuple[aiohttp.ClientSession, dict[str, str]]


async def _caller(running: RunningServer, username: str) -> Caller:
    session, csrf = await running.http(username)
    return session, {"X-CSRF-Token": csrf or "", "Accept": "application/json"}


async def _call(caller: Caller, method: str, path: str, body: object = None) -> tuple[int, dict]:
    kwargs = {} if body is None else {"json": body}
    async with caller[0].request(method, path, headers=caller[1], **kwargs) as resp:
        try:
            return resp.status, await resp.json()
        except (aiohttp.ContentTypeError, ValueError):
            return resp.status, {}


async def _decided_village_case(running: RunningServer, agent: Caller) -> str:
    reviewer = await _caller(running, "reviewer")
    status, case = await _call(agent, "POST", CASES, NEW)
    assert status == 201, case
    number = case["number"]
    assert (await _call(reviewer, "POST", f"{CASES}/{number}/transition", {"to": "in_review"}))[
        0
    ] == 200
    status, body = await _call(
        reviewer, "POST", f"{CASES}/{number}/transition", {"to": "rejected", "reason": "材料不符"}
    )
    assert status == 200, body
    return number


async def test_confirm_freeze_correct_and_grant(running: RunningServer) -> None:
    agent = await _caller(running, "agent")
    township = await _caller(running, "township")
    number = await _decided_village_case(running, agent)
    status, ledger = await _call(township, "GET", "/api/points/ledger?point=QH-LL-DC")
    assert status == 200, ledger
    [entry] = ledger["entries"]
    # base 1 + assisted 2 + elderly 2 + disabled 2.
    assert (entry["case"], entry["agent"], entry["points"]) == (number, "agent", 7)
    month = ledger["month"]
    # The agent sees its own point's ledger (its own month by default).
    status, own = await _call(agent, "GET", "/api/points/ledger")
    assert status == 200 and [e["id"] for e in own["entries"]] == [entry["id"]]
    # Manual grants: a reason is required.
    grant = {"point": "QH-LL-DC", "agent": "agent", "points": 3}
    status, body = await _call(township, "POST", "/api/points/grants", {**grant, "reason": " "})
    assert status == 400 and body["code"] == "required" and "理由" in body["message_zh"]
    status, granted = await _call(
        township, "POST", "/api/points/grants", {**grant, "reason": "协助村民缴纳医保"}
    )
    assert status == 201 and granted["kind"] == "grant"
    # The agent cannot confirm, grant or correct.
    for path in (f"/api/points/months/QH-LL-DC/{month}/confirm", "/api/points/grants"):
        assert (await _call(agent, "POST", path, grant))[0] == 403
    # Confirm: signed and verified.
    status, done = await _call(township, "POST", f"/api/points/months/QH-LL-DC/{month}/confirm", {})
    assert status == 201 and done["statement"]["total"] == 10
    status, checked = await _call(township, "GET", f"/api/points/months/QH-LL-DC/{month}/statement")
    assert status == 200 and checked["verified"] and checked["sha256"] == done["sha256"]
    status, again = await _call(township, "POST", f"/api/points/months/QH-LL-DC/{month}/confirm")
    assert status == 409 and again["code"] == "already_confirmed"
    # Every change of the confirmed month is refused, in plain words, and audited.
    status, body = await _call(
        township, "POST", "/api/points/grants", {**grant, "reason": "补登", "month": month}
    )
    assert status == 400  # the reason is too short: checked first
    status, body = await _call(
        township, "POST", "/api/points/grants", {**grant, "reason": "补登上门服务", "month": month}
    )
    assert status == 409 and body["code"] == "month_confirmed"
    assert "已确认" in body["message_zh"] and "next open month" in body["message"]
    for method in ("PATCH", "DELETE"):
        status, body = await _call(township, method, f"/api/points/entries/{entry['id']}", {})
        assert status == 409 and body["code"] == "month_confirmed", body
    # A correction: a new entry in the next open month, naming the corrected one.
    status, fix = await _call(
        township,
        "POST",
        f"/api/points/entries/{entry['id']}/correction",
        {"points": -2, "reason": "残疾加分误计，予以扣减"},
    )
    assert status == 201 and fix["corrects"] == entry["id"] and fix["month"] > month
    assert fix["case"] == number
    status, next_month = await _call(
        township, "GET", f"/api/points/ledger?point=QH-LL-DC&month={fix['month']}"
    )
    assert [e["id"] for e in next_month["entries"]] == [fix["id"]]
    status, body = await _call(township, "PATCH", f"/api/points/entries/{fix['id']}", {})
    assert status == 409 and body["code"] == "use_correction"
    status, same = await _call(township, "GET", f"/api/points/ledger?point=QH-LL-DC&month={month}")
    assert [e["id"] for e in same["entries"]] == [entry["id"], granted["id"]]
    assert (await _call(township, "GET", f"/api/points/months/QH-LL-DC/{month}/statement"))[1][
        "verified"
    ]
    events = await running.system_events()
    types = [e["type"] for e in events]
    assert types.count("points.refused") == 3  # the grant, the PATCH and the DELETE
    assert "points.confirmed" in types and "points.corrected" in types
    [granted_event] = [e for e in events if e["type"] == "points.granted"]
    assert granted_event["data"]["reason"] == "协助村民缴纳医保"
    assert ELDER not in str(events)


async def test_exports_for_the_payment(running: RunningServer) -> None:
    agent = await _caller(running, "agent")
    township = await _caller(running, "township")
    number = await _decided_village_case(running, agent)
    month = (await _call(township, "GET", "/api/points/ledger?point=QH-LL-DC"))[1]["month"]
    await _call(township, "POST", f"/api/points/months/QH-LL-DC/{month}/confirm", {})
    base = f"/api/points/months/QH-LL-DC/{month}/export"
    async with township[0].get(base + "?format=csv") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "编号 entry" and rows[1][6] == number and rows[1][5] == "7"
    assert ["合计 total", month, "QH-LL-DC", "agent", "", "7"] in rows
    assert rows[-1][0] == "已确认 confirmed"
    async with township[0].get(base + "?format=pdf") as resp:
        assert resp.status == 200
        pdf = await resp.read()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert number in text and "SHA-256" in text
    async with agent[0].get(base + "?format=csv") as resp:
        assert resp.status == 403


async def test_an_agent_never_reaches_another_points_cases(running: RunningServer) -> None:
    """Walk every route of one case with the agent of the other village point."""
    agent = await _caller(running, "agent")
    other = await _caller(running, "agent-xc")
    status, case = await _call(agent, "POST", CASES, NEW)
    number = case["number"]
    material = next(iter(case["materials"]))
    async with agent[0].post(
        f"{CASES}/{number}/documents",
        params={"material": material},
        data=b"%PDF-1.4 x",
        headers=agent[1],
    ) as resp:
        assert resp.status == 201
        doc_id = (await resp.json())["id"]
    walked = audited = 0
    for route in running.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if "{number}" not in path or route.method == "HEAD":
            continue
        concrete = path.replace("{number}", number).replace("{doc_id}", str(doc_id))
        concrete = concrete.replace("{n}", "1")
        if concrete.endswith("/documents") and route.method == "POST":
            async with other[0].post(
                concrete, params={"material": material}, data=b"%PDF-1.4 x", headers=other[1]
            ) as resp:
                status, body = resp.status, await resp.json()
        else:
            status, body = await _call(other, route.method, concrete, {"to": "withdrawn"})
        assert status == 403, (route.method, path, status, body)
        walked += 1
        if "agent" in allowed_roles(route.handler):
            audited += path.startswith("/api/")
            # The same route with the case's own agent is not refused (it may be a 4xx
            # for the request's content, never a 403).
            status, _ = await _call(agent, route.method, concrete, {"to": "in_review"})
            assert status != 403 or route.method != "GET", (route.method, path)
    assert walked >= 8
    # Lists and the inbox show none of it, even when asked for that place.
    for path in (CASES, f"{CASES}?place=QH-LL-DC", "/api/register/inbox"):
        status, body = await _call(other, "GET", path)
        assert status == 200 and number not in str(body), path
    # The other point's ledger and records are refused; the refusals are audited.
    assert (await _call(other, "GET", "/api/points/ledger?point=QH-LL-DC"))[0] == 403
    assert (await _call(other, "GET", "/api/village/records?point=QH-LL-DC"))[0] == 403
    status, record = await _call(
        agent,
        "POST",
        "/api/village/records",
        {
            "item": "BM-GFCX",
            "applicant_name": "赵奶奶",
            "applicant_id": ELDER,
            "fields": {"method": "上门认证"},
        },
    )
    assert status == 201 and record["points"] == 1 + 2
    assert (await _call(other, "GET", f"/api/village/records/{record['id']}"))[0] == 403
    assert ELDER not in str(record)
    types = [e["type"] for e in await running.system_events()]
    assert "points.forbidden" in types and "village.record_filed" in types
    refused = [e for e in await running.system_events() if e["type"] == "case.refused"]
    assert {e["actor"] for e in refused} == {"agent:agent-xc"}
    # Each API refusal of the agent's own role (the case's place): the pages answer
    # with the forbidden page, and other roles' routes are refused before the case.
    assert len(refused) == audited >= 6


async def test_a_session_on_an_applicants_behalf(running: RunningServer) -> None:
    """The agent receives the case, queues like a kiosk, and links the case once paired."""
    agent = await _caller(running, "agent")
    status, case = await _call(agent, "POST", CASES, {**NEW, "item": "RSJ-001"})
    assert status == 201
    number = case["number"]
    from signaling.client import SignalingClient

    ws = await SignalingClient.connect(agent[0])
    running.clients.append(ws)
    await ws.send({"type": "queue.join", "item": "RSJ-001", "recording_notice_shown": True})
    await ws.expect("queue.status")
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    paired = await ws.expect("session.paired")
    await desk.expect("session.paired")
    session_id = paired["session_id"]
    # Another agent's socket is not in this session: refused.
    other = await _caller(running, "agent-xc")
    status, body = await _call(
        other, "POST", f"/api/village/cases/{number}/session", {"session": session_id}
    )
    assert status == 403, body
    # A case of another item than the session's: refused.
    status, wrong = await _call(agent, "POST", CASES, NEW)
    status, body = await _call(
        agent, "POST", f"/api/village/cases/{wrong['number']}/session", {"session": session_id}
    )
    assert status == 400 and body["code"] == "not_allowed"
    status, linked = await _call(
        agent, "POST", f"/api/village/cases/{number}/session", {"session": session_id}
    )
    assert status == 200 and linked["sessions"] == [session_id]
    doc_case = await desk.expect("doc.case", case=number)
    assert doc_case["session_id"] == session_id
    assert linked["received_by"] == "agent:agent" and linked["mode"] == "assisted"
    assert re.fullmatch(r"\*{12}\d{3}[\dX]", linked["applicant"]["id_number"])


async def test_a_township_admin_is_bound_to_a_township(running: RunningServer) -> None:
    admin = await _caller(running, "admin")
    body = {"username": "ll-admin", "password": "Long-enough-pw1", "role": "township_admin"}
    for place, wanted in ((None, 400), ("QH-LL-DC", 400), ("QH-COUNTY", 400), ("QH-LL", 201)):
        status, answer = await _call(
            admin, "POST", "/api/admin/users", {**body, **({"place": place} if place else {})}
        )
        assert status == wanted, (place, answer)
        if wanted == 400:
            assert answer["field"] == "place", answer
    status, answer = await _call(admin, "PATCH", "/api/admin/users/ll-admin", {"place": "QH-CG-NC"})
    assert status == 400 and answer["field"] == "place"
    status, answer = await _call(admin, "PATCH", "/api/admin/users/ll-admin", {"place": "QH-CG"})
    assert status == 200, answer


async def test_a_case_the_reviewer_receives_in_an_agents_call_names_the_agent(
    running: RunningServer,
) -> None:
    agent = await _caller(running, "agent")
    from signaling.client import SignalingClient

    ws = await SignalingClient.connect(agent[0])
    running.clients.append(ws)
    await ws.send({"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True})
    await ws.expect("queue.status")
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    paired = await desk.expect("session.paired")
    reviewer = await _caller(running, "reviewer")
    body = {"session": paired["session_id"], "applicant_name": "王大爷", "applicant_id": ELDER}
    status, case = await _call(reviewer, "POST", CASES, body)
    assert status == 201, case
    assert (case["received_by"], case["assisted_by"]) == ("reviewer:reviewer", "agent:agent")
    assert case["place"] == "QH-LL-DC" and case["mode"] == "video"
    number = case["number"]
    await _call(reviewer, "POST", f"{CASES}/{number}/transition", {"to": "in_review"})
    await _call(
        reviewer, "POST", f"{CASES}/{number}/transition", {"to": "rejected", "reason": "不符合"}
    )
    township = await _caller(running, "township")
    [entry] = (await _call(township, "GET", "/api/points/ledger?point=QH-LL-DC"))[1]["entries"]
    # base 1 + video 1 + video session 1 + elderly 2, for the agent of the call.
    assert (entry["case"], entry["agent"], entry["points"]) == (number, "agent", 5)
