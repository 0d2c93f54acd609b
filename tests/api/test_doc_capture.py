"""The document camera in a live call over the real server: a case received for the
session, `doc.capture` checked and handed to the kiosk, the kiosk's stills pushed
to the desk, an unreadable page sent back to the kiosk; bad input refused, nothing
written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from recording.audit import read_events
from server import appkeys as K
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from tests.conftest import Client, RunningServer
from tests.contract.case_helpers import id_number
from tests.unit.doc_images import jpeg

BASE = "/api/register/cases"
APPLICANT = {"applicant_name": "王五", "applicant_id": id_number("33010219600101003")}
MATERIALS = ["经营者身份证明", "经营场所使用证明", "个体工商户登记申请书"]


class Call:
    """A paired kiosk and desk (live when `live()` was awaited) and the desk's HTTP."""

    def __init__(self, running: RunningServer, kiosk: Client, desk: Client) -> None:
        self.running, self.kiosk, self.desk = running, kiosk, desk
        self.peers: list[Peer] = []
        self.session_id = ""
        self.http: dict[str, tuple[aiohttp.ClientSession, dict[str, str]]] = {}

    async def staff(self, username: str) -> tuple[aiohttp.ClientSession, dict[str, str]]:
        if username not in self.http:
            session, csrf = await self.running.http(username)
            self.http[username] = (session, {"X-CSRF-Token": csrf or ""})
        return self.http[username]

    async def post(self, username: str, path: str, body: object) -> tuple[int, dict]:
        session, headers = await self.staff(username)
        async with session.post(path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def live(self) -> None:
        clip = vp8_clip(160, 120, 150_000, 30)
        self.peers = [Peer(clip), Peer(clip)]
        await asyncio.gather(
            self.peers[0].negotiate(self.kiosk), self.peers[1].negotiate(self.desk)
        )
        await self.kiosk.expect("session.state", state="live")

    async def case_count(self) -> int:
        service = self.running.app[K.CASES]
        from server.register.case_queries import CaseFilter
        from server.register.case_types import Actor

        actor = Actor("sup", "supervisor")
        return sum((await asyncio.to_thread(service.count_by_state, actor, CaseFilter())).values())


@pytest.fixture
async def call(running: RunningServer) -> AsyncIterator[Call]:
    kiosk, desk = await running.pair()
    paired = await desk.expect("session.state")
    the_call = Call(running, kiosk, desk)
    the_call.session_id = paired["session_id"]
    try:
        yield the_call
    finally:
        for peer in the_call.peers:
            await peer.close()


async def test_a_case_received_in_the_call_is_linked_and_captured(call: Call) -> None:
    await call.live()
    status, case = await call.post("reviewer", BASE, {**APPLICANT, "session": call.session_id})
    assert status == 201, case
    assert (case["item"], case["place"], case["mode"]) == ("SCJG-001", "QH-CG", "video")
    assert case["sessions"] == [call.session_id]
    number = case["number"]
    for side in (call.kiosk, call.desk):
        told = await side.expect("doc.case", case=number)
        assert told["materials"] == MATERIALS and told["session_id"] == call.session_id

    # The reviewer asks for a page: the kiosk is told to take it.
    await call.desk.send({"type": "doc.capture", "case": number, "material": MATERIALS[1]})
    take = await call.kiosk.expect("doc.take")
    assert take == {"type": "doc.take", "case": number, "material": MATERIALS[1], "by": "reviewer"}
    # The kiosk presses capture itself.
    await call.kiosk.send({"type": "doc.capture", "case": number, "material": MATERIALS[0]})
    take = await call.kiosk.expect("doc.take")
    assert (take["material"], take["by"]) == (MATERIALS[0], "applicant")

    # The kiosk's still (its device token) reaches the desk and the kiosk at once.
    session, _ = await call.running.http()
    token = call.running.kiosk_tokens["kiosk-1"]
    url = f"{BASE}/{number}/documents?material={MATERIALS[1]}&source=camera"
    async with session.post(
        url, data=jpeg(320, 240), headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status == 201, await resp.text()
        doc = await resp.json()
    for side in (call.desk, call.kiosk):
        stored = await side.expect("doc.stored", case=number)
        assert stored["document"] == doc and doc["page"] == 1

    # Marked unreadable: the kiosk is asked to recapture; the material is missing again.
    status, marked = await call.post(
        "reviewer", f"{BASE}/{number}/documents/{doc['id']}/unreadable", {"reason": "反光看不清"}
    )
    assert status == 200 and marked["state"] == "unreadable"
    again = await call.kiosk.expect("doc.recapture")
    assert again == {
        "type": "doc.recapture",
        "case": number,
        "material": MATERIALS[1],
        "page": 1,
        "reason": "反光看不清",
    }
    session, _ = await call.staff("reviewer")
    async with session.get(f"{BASE}/{number}") as resp:
        checklist = {c["code"]: c for c in (await resp.json())["checklist"]}
    assert checklist[MATERIALS[1]]["captured"] is False


async def test_linking_is_for_the_reviewer_of_the_live_session_only(call: Call) -> None:
    before = await call.case_count()
    body = {**APPLICANT, "session": call.session_id}
    for who in ("reviewer2", "agent"):
        status, err = await call.post(who, BASE, body)
        assert status == 403 and err["field"] == "session", (who, err)
    status, err = await call.post(
        "reviewer", BASE, {**APPLICANT, "session": "20260101-000000-00000000"}
    )
    assert status == 403 and err["field"] == "session", err
    status, err = await call.post("reviewer", BASE, {**APPLICANT, "session": 7})
    assert status == 400 and err["field"] == "session", err
    status, err = await call.post("reviewer", BASE, {**body, "applicant_id": "12345"})
    assert status == 400 and err["field"] == "applicant_id", err
    assert await call.case_count() == before, "refusals write nothing"

    # An existing case (received without a session) is linked by its number.
    status, case = await call.post(
        "reviewer", BASE, {**APPLICANT, "item": "SCJG-001", "mode": "video", "place": "QH-CG"}
    )
    assert status == 201 and case["sessions"] == []
    path = f"{BASE}/{case['number']}/sessions"
    status, err = await call.post("reviewer2", path, {"session": call.session_id})
    assert status == 403 and err["field"] == "session"
    status, err = await call.post("reviewer", path, {})
    assert status == 400 and err["field"] == "session"
    status, err = await call.post(
        "reviewer", f"{BASE}/QH-2026-999999/sessions", {"session": call.session_id}
    )
    assert status == 404
    status, linked = await call.post("reviewer", path, {"session": call.session_id})
    assert status == 200 and linked["sessions"] == [call.session_id]
    told = await call.kiosk.expect("doc.case", case=case["number"])
    assert told["materials"] == MATERIALS
    # A desk that reconnects mid-call (a reload) is told the linked cases again.
    again = await call.running.staff("reviewer")
    await again.expect("session.paired")
    told = await again.expect("doc.case", case=case["number"])
    assert told["session_id"] == call.session_id and told["item"] == "SCJG-001"


async def test_bad_capture_requests_get_their_error_code(
    call: Call, running: RunningServer
) -> None:
    status, case = await call.post("reviewer", BASE, {**APPLICANT, "session": call.session_id})
    assert status == 201
    number = case["number"]
    capture = {"type": "doc.capture", "case": number, "material": MATERIALS[0]}
    # Not live yet (called): wrong state.
    await call.desk.send(capture)
    err = await call.desk.expect("error")
    assert (err["code"], err["ref"]) == ("wrong_state", "doc.capture")
    await call.live()
    # A role that may not send it.
    supervisor = await running.staff("supervisor")
    await supervisor.send(capture)
    assert (await supervisor.expect("error"))["code"] == "forbidden"
    # A case that is not linked to this session (it exists, but was received elsewhere).
    status, other = await call.post(
        "reviewer", BASE, {**APPLICANT, "item": "SCJG-001", "mode": "video", "place": "QH-CG"}
    )
    assert status == 201
    for side in (call.desk, call.kiosk):
        await side.send({**capture, "case": other["number"]})
        err = await side.expect("error")
        assert (err["code"], err["ref"]) == ("not_found", "doc.capture"), err
    # A material that is not on the case's checklist.
    await call.desk.send({**capture, "material": "户口簿"})
    err = await call.desk.expect("error")
    assert (err["code"], err["ref"]) == ("bad_field", "doc.capture"), err
    # A kiosk outside the session.
    outsider = await running.kiosk("kiosk-2")
    await outsider.send(capture)
    assert (await outsider.expect("error"))["code"] == "wrong_state"
    # None of these reached the kiosk: the first doc.take it gets is the good one.
    await call.desk.send({**capture, "material": MATERIALS[2]})
    take = await call.kiosk.expect("doc.take")
    assert take["material"] == MATERIALS[2]


async def test_a_failed_still_is_told_to_the_reviewer_at_once(
    call: Call, running: RunningServer
) -> None:
    """`doc.failed` from the kiosk: checked like doc.capture, relayed to the session's
    reviewer as `doc.capture_failed`, logged in the session's recording."""
    status, case = await call.post("reviewer", BASE, {**APPLICANT, "session": call.session_id})
    assert status == 201
    number = case["number"]
    failed = {
        "type": "doc.failed",
        "case": number,
        "material": MATERIALS[0],
        "reason_code": "no_camera",
    }
    await call.kiosk.send(failed)  # called, not live yet
    err = await call.kiosk.expect("error")
    assert (err["code"], err["ref"]) == ("wrong_state", "doc.failed")
    await call.live()
    bad = [
        (call.desk, failed, "forbidden"),  # the reviewer does not report the kiosk's camera
        (call.kiosk, {**failed, "reason_code": "exploded"}, "bad_field"),
        (call.kiosk, {**failed, "reason_code": None}, "bad_field"),
        (call.kiosk, {k: v for k, v in failed.items() if k != "material"}, "bad_field"),
        (call.kiosk, {**failed, "case": "QH-2026-999999"}, "not_found"),
        (call.kiosk, {**failed, "material": "户口簿"}, "bad_field"),
    ]
    for sender, frame, code in bad:
        await sender.send(frame)
        err = await sender.expect("error")
        assert (err["code"], err["ref"]) == (code, "doc.failed"), (frame, err)
    outsider = await running.kiosk("kiosk-2")
    await outsider.send(failed)
    assert (await outsider.expect("error"))["code"] == "wrong_state"

    # The good ones reach the desk at once, in order, and nothing else did before them.
    await call.kiosk.send(failed)
    await call.kiosk.send({**failed, "material": MATERIALS[2], "reason_code": "too_large"})
    told = await call.desk.expect("doc.capture_failed")
    assert told == {
        "type": "doc.capture_failed",
        "case": number,
        "material": MATERIALS[0],
        "reason_code": "no_camera",
    }
    told = await call.desk.expect("doc.capture_failed")
    assert (told["material"], told["reason_code"]) == (MATERIALS[2], "too_large")

    recorder = running.app[K.RECORDER]
    await recorder.flushed()
    folder = recorder._live[call.session_id].archive.folder
    logged = [e for e in read_events(folder / "events.jsonl") if e["type"] == "document.failed"]
    assert [(e["data"]["material"], e["data"]["reason_code"]) for e in logged] == [
        (MATERIALS[0], "no_camera"),
        (MATERIALS[2], "too_large"),
    ]
    assert logged[0]["data"]["case"] == number
