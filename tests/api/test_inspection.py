"""云踏勘 through the real server: the one-time token's rules (expired, ended, another
case, twice at once, rejoin within the grace), positions checked, evidence stills
stored unmodified with a stamped copy, hashed into the case file, ticked on the
checklist; every use and refusal audited; `verify` passes on the case file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass

import aiohttp
import pytest

from recording.audit import read_events
from recording.verify import verify_path
from server import appkeys as K
from tests.conftest import Client, RunningServer, make_config, start_server
from tests.contract.case_helpers import id_number
from tests.unit.doc_images import jpeg

BASE = "/api/register/cases"
APPLICANT = {"applicant_name": "王五", "applicant_id": id_number("33010219600101003")}
POINTS = ["经营场所外观", "门牌号码", "经营场所内部"]
PHONE = "phone-one-0001"
OTHER_PHONE = "phone-two-0002"


@dataclass
class Invited:
    running: RunningServer
    kiosk: Client
    desk: Client
    http: aiohttp.ClientSession
    headers: dict[str, str]
    session_id: str
    case: str
    token: str
    body: dict

    async def phone(self, device: str = PHONE) -> Client:
        """The phone's socket: its token and its device id on /ws."""
        session, _ = await self.running.http()
        client = await Client.connect(session, token=f"{self.token}&device={device}")
        self.running.clients.append(client)
        return client

    async def check(self, device: str = PHONE, token: str | None = None) -> tuple[int, dict]:
        body = {"token": token or self.token, "device": device}
        async with self.http.post("/api/inspect/check", json=body) as resp:
            return resp.status, await resp.json()

    async def upload(self, data: bytes, case: str | None = None, **query: str) -> tuple[int, dict]:
        async with aiohttp.ClientSession(base_url=self.running.url) as phone_http:
            async with phone_http.post(
                f"{BASE}/{case or self.case}/evidence",
                params=query,
                data=data,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as resp:
                return resp.status, await resp.json()

    async def events(self) -> list[dict]:
        await self.running.app[K.RECORDER].flushed()
        root = self.running.app[K.CONFIG].data_dir / "archive"
        [path] = root.glob(f"*/*/*/{self.session_id}/events.jsonl")
        return [json.loads(line) for line in path.read_text().splitlines()]


async def invite(running: RunningServer) -> Invited:
    kiosk, desk = await running.pair()
    session_id = desk.last["session.paired"]["session_id"]
    http, csrf = await running.http("reviewer")
    headers = {"X-CSRF-Token": csrf or ""}
    async with http.post(BASE, json={**APPLICANT, "session": session_id}, headers=headers) as r:
        assert r.status == 201, await r.text()
        case = (await r.json())["number"]
    body = {"session": session_id, "case": case, "name": "李四"}
    async with http.post("/api/inspections", json=body, headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        created = await resp.json()
    return Invited(running, kiosk, desk, http, headers, session_id, case, created["token"], created)


@pytest.fixture
async def invited(running: RunningServer) -> Invited:
    return await invite(running)


async def test_invitation_join_position_evidence_and_checklist(invited: Invited) -> None:
    body = invited.body
    assert body["url"].endswith(f"/inspect/{invited.token}") and "<svg" in body["qr_svg"]
    assert invited.token in body["sms"] and body["minutes"] == 30 and body["points"] == POINTS
    # Only the token's hash is kept.
    service = invited.running.app[K.INSPECTIONS]
    insp = service.get(body["id"])
    assert insp.token_sha256 == hashlib.sha256(invited.token.encode()).hexdigest()
    assert invited.token not in json.dumps(insp.public())

    status, checked = await invited.check()
    assert status == 200 and checked["inspection"]["case"] == invited.case
    phone = await invited.phone()
    # Not before the recording notice is accepted.
    await phone.send({"type": "inspect.join"})
    assert (await phone.expect("error", ref="inspect.join"))["code"] == "wrong_state"
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
    paired = await phone.expect("session.paired")
    assert paired["party"] == "inspector" and paired["session_id"] == invited.session_id
    info = await phone.expect("inspect.info")
    assert info["case"] == invited.case and info["points"] == POINTS
    roster = await invited.desk.expect("session.participants")
    assert any(p["party"] == "inspector" and p["name"] == "李四" for p in roster["participants"])

    # Positions: the desk sees each, with bearing and distance from the previous.
    now_ms = time.time() * 1000
    await phone.send(
        {"type": "inspect.position", "lat": 30.0, "lon": 120.0, "accuracy": 8, "time": now_ms}
    )
    first = await invited.desk.expect("inspect.fix")
    assert first["fix"]["lat"] == 30.0 and "distance_m" not in first["fix"]
    await phone.send(
        {"type": "inspect.position", "lat": 30.001, "lon": 120.0, "accuracy": 5, "time": now_ms}
    )
    second = await invited.desk.expect("inspect.fix")
    assert 105 < second["fix"]["distance_m"] < 118 and second["fix"]["bearing_deg"] == 0.0

    # The reviewer asks for a still; the phone is told and uploads it.
    await invited.desk.send({"type": "inspect.capture", "point": POINTS[0]})
    take = await phone.expect("inspect.take")
    assert take["by"] == "reviewer" and take["point"] == POINTS[0]
    original = jpeg(320, 240)
    status, record = await invited.upload(original, request=take["request_id"])
    assert status == 201, record
    shown = await invited.desk.expect("inspect.evidence")
    assert shown["evidence"]["n"] == record["n"] == 1
    assert record["gps"]["lat"] == 30.001 and record["gps"]["accuracy"] == 5
    assert record["inspector"]["id"] == insp.id and record["inspector"]["name"] == "李四"
    assert record["point"] == POINTS[0] and record["by"] == "reviewer"

    # Original kept byte for byte; the stamped copy differs; both hashed in the case file.
    folder = invited.running.app[K.RECORDER].root / "cases" / invited.case
    stored = (folder / record["file"]).read_bytes()
    stamped = (folder / record["stamped"]["file"]).read_bytes()
    assert stored == original
    assert stamped != original and stamped.startswith(b"\xff\xd8\xff")
    assert record["sha256"] == hashlib.sha256(original).hexdigest()
    assert record["stamped"]["sha256"] == hashlib.sha256(stamped).hexdigest()
    manifest = json.loads((folder / "manifest.json").read_bytes())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed[record["file"]] == record["sha256"]
    assert listed[record["stamped"]["file"]] == record["stamped"]["sha256"]
    chain = [e for e in read_events(folder / "events.jsonl") if e["type"] == "evidence.stored"]
    assert chain[0]["data"]["gps"]["lat"] == 30.001 and chain[0]["data"]["server_time"] > 0
    # The desk fetches either copy.
    async with invited.http.get(f"{BASE}/{invited.case}/evidence/1?copy=original") as resp:
        assert resp.status == 200 and await resp.read() == original
    async with invited.http.get(f"{BASE}/{invited.case}/evidence/1") as resp:
        assert await resp.read() == stamped

    # The checklist: a point ticked with a still of this case; a still it lacks refused.
    path = f"{BASE}/{invited.case}/inspection/checks"
    for bad, field in (
        ({"point": "厨房", "evidence": 1}, "point"),
        ({"point": POINTS[0], "evidence": 9}, "evidence"),
    ):
        async with invited.http.post(path, json=bad, headers=invited.headers) as resp:
            assert resp.status in (400, 404) and (await resp.json())["field"] == field
    async with invited.http.post(
        path, json={"point": POINTS[0], "evidence": 1}, headers=invited.headers
    ) as resp:
        assert resp.status == 201, await resp.text()
    await invited.desk.expect("inspect.checked", point=POINTS[0])
    async with invited.http.get(f"{BASE}/{invited.case}/evidence") as resp:
        listing = await resp.json()
    assert listing["points"][0]["check"]["evidence"] == 1 and listing["points"][1]["check"] is None
    # Both are in the register's history of the case too.
    async with invited.http.get(f"{BASE}/{invited.case}") as resp:
        history = (await resp.json())["history"]
    lines = {e["type"]: e for e in history}
    assert (
        lines["evidence"]["data"]["n"] == 1 and lines["evidence"]["actor"] == f"inspector:{insp.id}"
    )
    assert lines["inspection"]["data"] == {
        "point": POINTS[0],
        "evidence": 1,
        "sha256": record["sha256"],
    }

    # The session ends: the token is refused from then on, and the case file verifies.
    await invited.desk.send({"type": "session.end"})
    await phone.expect("session.ended")
    status, refused = await invited.check()
    assert status == 410 and refused["code"] == "ended" and "结束" in refused["notice"]["zh"]
    status, _ = await invited.upload(original)
    assert status == 401  # the token no longer identifies anyone (audited below)
    types = [e["type"] for e in await invited.events()]
    for wanted in (
        "inspection.invited",
        "inspection.opened",
        "inspection.notice_accepted",
        "inspection.joined",
        "inspection.position",
        "evidence.requested",
        "inspection.evidence",
        "inspection.ended",
    ):
        assert wanted in types, wanted
    recorder = invited.running.app[K.RECORDER]
    key = recorder.signer.public_key
    results = verify_path(recorder.root / "cases" / invited.case, key)
    assert [r.problem for r in results] == [None]
    system = await invited.running.system_events()
    refusals = [
        (e["data"]["reason"], e["data"]["where"])
        for e in system
        if e["type"] == "inspection.refused"
    ]
    assert ("ended", "check") in refusals and ("ended", "credentials") in refusals


async def test_absurd_positions_are_refused(invited: Invited) -> None:
    phone = await invited.phone()
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
    await phone.expect("inspect.info")
    now_ms = time.time() * 1000
    good = {"type": "inspect.position", "lat": 30.0, "lon": 120.0, "accuracy": 5, "time": now_ms}
    for change, words in (
        ({"lat": 91}, "lat"),
        ({"lat": -90.5}, "lat"),
        ({"lon": 181}, "lon"),
        ({"accuracy": -1}, "accuracy"),
        ({"time": 1000}, "time"),
        ({"lat": "30"}, "number"),
        ({"lat": True}, "number"),
    ):
        await phone.send({**good, **change})
        err = await phone.expect("error", ref="inspect.position")
        assert err["code"] == "bad_field" and words in err["message"], (change, err)
    # Non-finite numbers in the JSON text itself.
    for raw in ("NaN", "Infinity", "-Infinity"):
        await phone.ws.send_str(json.dumps(good).replace('"lat": 30.0', f'"lat": {raw}'))
        err = await phone.expect("error", ref="inspect.position")
        assert err["code"] == "bad_field" and "finite" in err["message"]
    await phone.send(good)
    await invited.desk.expect("inspect.fix")
    # A reviewer cannot send positions; an inspector cannot end the session's pair.
    await invited.desk.send(good)
    assert (await invited.desk.expect("error", ref="inspect.position"))["code"] == "forbidden"


async def test_token_refused_for_another_case_and_twice_at_once(invited: Invited) -> None:
    phone = await invited.phone()
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
    await phone.expect("inspect.info")
    # Another case: refused with plain words, audited in the session's chain.
    status, body = await invited.upload(jpeg(), case="QH-2026-999999")
    assert status == 403 and body["code"] == "other_case" and "另一个办件" in body["notice"]["zh"]
    # A second phone while the first is connected: refused at the check and at the socket.
    status, body = await invited.check(OTHER_PHONE)
    assert status == 409 and body["code"] == "in_use" and "同时" in body["notice"]["zh"]
    session, _ = await invited.running.http()
    url = f"/ws?token={invited.token}&device={OTHER_PHONE}"
    async with session.ws_connect(url) as second:
        said = await asyncio.wait_for(second.receive_json(), 10)
        assert said["type"] == "error" and "另一部手机" in said["message"]
        closed = await asyncio.wait_for(second.receive(), 10)
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4001
    assert invited.running.app[K.CONNECTIONS].local(f"inspector:{invited.body['id']}")
    # The first phone is still in: its positions still arrive.
    now_ms = time.time() * 1000
    await phone.send(
        {"type": "inspect.position", "lat": 1.0, "lon": 2.0, "accuracy": 3, "time": now_ms}
    )
    await invited.desk.expect("inspect.fix")
    # An unknown token.
    status, body = await invited.check(token="rwi_nonsense")
    assert status == 404 and body["code"] == "unknown"
    reasons = [
        e["data"].get("reason") for e in await invited.events() if e["type"] == "inspection.refused"
    ]
    assert "other_case" in reasons and reasons.count("in_use") >= 2


async def test_a_dropped_phone_rejoins_with_the_same_token(invited: Invited) -> None:
    phone = await invited.phone()
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
    await phone.expect("inspect.info")
    await phone.close()  # the network went: the rejoin grace (30 s) runs
    again = await invited.phone()
    await again.expect("session.paired")
    await again.send({"type": "inspect.join", "recording_notice_accepted": True})
    await again.expect("inspect.info")
    session = invited.running.app[K.SESSIONS].of(f"inspector:{invited.body['id']}")
    assert session is not None and session.id == invited.session_id
    types = [e["type"] for e in await invited.events()]
    assert types.count("participant.added") == 1 and "inspection.rejoined" in types


async def test_an_unopened_token_expires(invited: Invited) -> None:
    service = invited.running.app[K.INSPECTIONS]
    service.clock = lambda: time.time() + 31 * 60
    status, body = await invited.check()
    assert status == 410 and body["code"] == "expired" and "过期" in body["notice"]["zh"]
    session, _ = await invited.running.http()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await Client.connect(session, token=f"{invited.token}&device={PHONE}")


async def test_a_capture_without_a_camera_is_answered_in_plain_words(invited: Invited) -> None:
    phone = await invited.phone()
    # The phone has no camera (none, or refused): a request is answered at once.
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True, "camera": False})
    await phone.expect("inspect.info")
    await invited.desk.send({"type": "inspect.capture"})
    failed = await invited.desk.expect("inspect.capture_failed")
    assert failed["reason_code"] == "no_camera" and "摄像头" in failed["notice"]["zh"]
    # With a camera again (the socket re-joins), the phone answers a request itself.
    await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
    await phone.expect("inspect.info")
    await invited.desk.send({"type": "inspect.capture", "point": POINTS[1]})
    take = await phone.expect("inspect.take")
    await phone.send(
        {"type": "inspect.failed", "request_id": take["request_id"], "reason_code": "camera_failed"}
    )
    failed = await invited.desk.expect("inspect.capture_failed", request_id=take["request_id"])
    assert failed["reason_code"] == "camera_failed"


async def test_short_tokens_follow_the_configured_minutes(tmp_path, accounts_template) -> None:
    cfg = make_config(
        tmp_path / "data", queue={"grace_seconds": 60}, inspection={"token_minutes": 2}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        invited = await invite(srv)
        assert invited.body["minutes"] == 2
        assert invited.body["expires_at"] - time.time() < 2 * 60 + 5
    finally:
        await srv.close()


async def test_past_the_rejoin_grace_the_token_has_ended(tmp_path, accounts_template) -> None:
    cfg = make_config(
        tmp_path / "data", queue={"grace_seconds": 60}, media={"rejoin_grace_seconds": 0.3}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        invited = await invite(srv)
        phone = await invited.phone()
        await phone.send({"type": "inspect.join", "recording_notice_accepted": True})
        await phone.expect("inspect.info")
        await phone.close()
        # The desk is told the inspector is gone once the grace has run out.
        while True:
            roster = await invited.desk.expect("session.participants")
            if not any(p["party"] == "inspector" for p in roster["participants"]):
                break
        status, body = await invited.check()
        assert status == 410 and body["code"] == "ended"
        ended = [e for e in await invited.events() if e["type"] == "inspection.ended"]
        assert ended and ended[0]["data"]["reason"] == "lost"
    finally:
        await srv.close()
