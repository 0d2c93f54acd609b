"""Protocol handling over a real WebSocket: every error path has its code."""

from __future__ import annotations

import json
import random
import string

import aiohttp
import pytest

from signaling.messages import INBOUND, OUTBOUND, parse_inbound
from tests.conftest import RunningServer
from tests.metrics_text import total

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


def test_every_outbound_message_round_trips() -> None:
    samples = {
        "welcome": {
            "protocol": 1,
            "role": "kiosk",
            "name": "n",
            "place": "P",
            "heartbeat_s": 15,
            "resume": "queue",
        },
        "pong": {},
        "queue.status": {
            "ticket": "t",
            "item": "i",
            "priority_class": "normal",
            "position": 1,
            "ahead": 0,
            "estimated_wait_s": 30,
            "state": "waiting",
            "ticket_number": "A012",
            "reviewers_online": 2,
            "hours": {"zh": "周一至周五 9:00-12:00", "en": "Mon–Fri 9:00-12:00", "open_now": True},
        },
        "queue.left": {"reason": "left"},
        "desk.queues": {"queues": [{"queue": "A@county", "waiting": 1}]},
        "session.paired": {
            "session_id": "s",
            "item": "i",
            "place": "p",
            "role": "kiosk",
            "peer": {"role": "reviewer"},
            "ice_servers": [],
            "state": "called",
            "priority_class": "elderly",
            "waited_s": 42,
            "ticket_number": "A012",
            "party": "applicant",
        },
        "session.participants": {
            "session_id": "s",
            "participants": [{"id": "reviewer:a", "party": "colleague", "link": "connected"}],
            "routes": [{"mid": "2", "kind": "video", "from": "reviewer:a", "track": "video"}],
            "needed": {"audio": 2, "video": 2},
            "you": "kiosk:k-1",
        },
        "session.invited": {
            "invite_id": "i1",
            "session_id": "s",
            "item": "SCJG-001",
            "place": "QH-CG",
            "inviter": {"name": "张审批", "place": "QH-COUNTY"},
            "party": "colleague",
            "expires_s": 30,
        },
        "session.invite_result": {
            "invite_id": "i1",
            "account": "reviewer2",
            "result": "declined",
            "notice": {"zh": "李审批谢绝了邀请", "en": "李审批 declined the invitation"},
        },
        "session.state": {
            "session_id": "s",
            "state": "live",
            "peer_connection": "connected",
            "peer_media": {"audio": True, "video": False},
            "notice": None,
        },
        "rtc.answer": {"sdp": "v=0"},
        "session.ended": {"session_id": "s", "outcome": "completed", "by": "u"},
        "case.updated": {
            "number": "QH-2026-000123",
            "state": "more_materials_requested",
            "item": "SCJG-001",
            "place": "QH-LL-DC",
            "remaining_working_days": 1,
            "overdue": False,
            "due_soon": True,
            "change": "state",
            "reason": "请补充营业场所证明",
        },
        "error": {"code": "bad_json", "message": "m", "ref": None},
        "doc.case": {
            "session_id": "s",
            "case": "QH-2026-000001",
            "item": "SCJG-001",
            "materials": ["营业执照"],
        },
        "doc.take": {"case": "QH-2026-000001", "material": "营业执照", "by": "reviewer"},
        "doc.stored": {"case": "QH-2026-000001", "document": {"id": 1, "page": 1}},
        "doc.recapture": {
            "case": "QH-2026-000001",
            "material": "营业执照",
            "page": 2,
            "reason": "反光",
        },
        "doc.capture_failed": {
            "case": "QH-2026-000001",
            "material": "营业执照",
            "reason_code": "upload_refused",
        },
        "inspect.info": {
            "inspection_id": "insp-1",
            "case": "QH-2026-000001",
            "item": "SCJG-002",
            "points": ["后厨", "仓储"],
            "stills_every_s": 10,
        },
        "inspect.take": {"request_id": "r1", "point": "后厨", "by": "reviewer"},
        "inspect.fix": {
            "inspection_id": "insp-1",
            "fix": {"lat": 30.27, "lon": 120.15, "accuracy": 8.0, "time": 1.0, "server_time": 2.0},
        },
        "inspect.evidence": {"case": "QH-2026-000001", "evidence": {"n": 1}},
        "inspect.capture_failed": {
            "request_id": "r1",
            "reason_code": "no_camera",
            "notice": {"zh": "没有摄像头", "en": "No camera"},
        },
        "inspect.checked": {
            "case": "QH-2026-000001",
            "point": "后厨",
            "evidence": 1,
            "by": "reviewer:reviewer",
        },
        "supervision.snapshot": DASHBOARD,
        "supervision.update": DASHBOARD,
        "session.observer": {
            "session_id": "s",
            "observers": 1,
            "notice": {"zh": "监督人员在线", "en": "A supervisor is observing this session"},
            "observing": False,
        },
    }
    assert set(samples) == set(OUTBOUND), "every outbound type needs a sample"
    for mtype, fields in samples.items():
        msg = OUTBOUND[mtype](**fields)
        wire = json.loads(msg.dumps())
        assert wire == {"type": mtype, **fields}
        assert OUTBOUND[wire.pop("type")](**wire) == msg


DASHBOARD = {
    "at": "2026-12-03T03:00:00+00:00",
    "totals": {"waiting": 1, "sessions": 0},
    "queues": [{"queue": "SCJG-001@county", "waiting": 1, "places": []}],
    "sessions": [],
    "cases": {"overdue": 0, "due_soon": 0, "departments": [], "worst": []},
    "followups": {"open": 0, "overdue": 0},
}


def test_every_inbound_message_round_trips() -> None:
    samples = {
        "ping": ({}, "kiosk"),
        "queue.join": (
            {"item": "X", "priority_class": "elderly", "recording_notice_shown": True},
            "kiosk",
        ),
        "queue.leave": ({}, "agent"),
        "desk.call_next": ({}, "reviewer"),
        "rtc.offer": ({"sdp": "v=0\r\n", "renegotiate": True}, "reviewer"),
        "session.leave": ({}, "supervisor"),
        "session.invite": ({"account": "reviewer2"}, "reviewer"),
        "session.invite_answer": ({"invite_id": "i1", "accept": False}, "supervisor"),
        "media.state": ({"audio": False, "video": True}, "kiosk"),
        "session.end": ({"outcome": "incomplete"}, "reviewer"),
        "doc.capture": ({"case": "QH-2026-000001", "material": "营业执照"}, "kiosk"),
        "doc.failed": (
            {"case": "QH-2026-000001", "material": "营业执照", "reason_code": "camera_failed"},
            "agent",
        ),
        "supervision.observe": ({"session_id": "s"}, "supervisor"),
        "supervision.unobserve": ({"session_id": "s"}, "supervisor"),
        "inspect.join": ({"recording_notice_accepted": True, "camera": False}, "inspector"),
        "inspect.position": (
            {"lat": 30.2741, "lon": 120.1551, "accuracy": 12.5, "time": 1764730000000.0},
            "inspector",
        ),
        "inspect.capture": ({"point": "后厨"}, "reviewer"),
        "inspect.failed": ({"request_id": "r1", "reason_code": "no_camera"}, "inspector"),
    }
    assert set(samples) == set(INBOUND), "every inbound type needs a sample"
    for mtype, (fields, role) in samples.items():
        msg = parse_inbound(json.dumps({"type": mtype, **fields}), role)
        assert json.loads(msg.dumps()) == {"type": mtype, **{**json.loads(msg.dumps()), **fields}}
        assert parse_inbound(msg.dumps(), role) == msg


BAD_FRAMES = [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_message"),
    ('{"no": "type"}', "bad_message"),
    ('{"type": 7}', "bad_message"),
    ('{"type": "queue.teleport"}', "unknown_type"),
    ('{"type": "queue.join"}', "bad_field"),
    ('{"type": "queue.join", "item": 5}', "bad_field"),
    ('{"type": "queue.join", "item": "SCJG-001", "extra": 1}', "bad_field"),
    ('{"type": "queue.join", "item": "' + "x" * 100 + '"}', "bad_field"),
    ('{"type": "media.state", "audio": "yes", "video": true}', "bad_field"),
    ('{"type": "session.end", "outcome": "exploded"}', "bad_field"),
    ('{"type": "desk.call_next"}', "forbidden"),
    ('{"type": "queue.join", "item": "SCJG-001"}', "wrong_state"),
    ('{"type": "queue.leave"}', "wrong_state"),
    ('{"type": "rtc.offer", "sdp": "v=0"}', "wrong_state"),
    ('{"type": "session.end"}', "wrong_state"),
    ('{"type": "doc.capture", "case": "QH-2026-000001"}', "bad_field"),
    ('{"type": "doc.capture", "case": 5, "material": "x"}', "bad_field"),
    ('{"type": "doc.capture", "case": "QH-2026-000001", "material": "x"}', "wrong_state"),
    ('{"type": "doc.failed", "case": "QH-2026-000001", "material": "x"}', "bad_field"),
    (
        '{"type": "doc.failed", "case": "QH-2026-000001", "material": "x",'
        ' "reason_code": "camera_on_fire"}',
        "bad_field",
    ),
    (
        '{"type": "doc.failed", "case": "QH-2026-000001", "material": "x",'
        ' "reason_code": "no_camera", "detail": "free text"}',
        "bad_field",
    ),
    (
        '{"type": "doc.failed", "case": "QH-2026-000001", "material": "x",'
        ' "reason_code": "no_camera"}',
        "wrong_state",
    ),
    ('{"type": "queue.join", "item": "NOPE-1", "recording_notice_shown": true}', "not_found"),
    (
        '{"type": "queue.join", "item": "SCJG-001", "priority_class": "vip",'
        ' "recording_notice_shown": true}',
        "bad_field",
    ),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_bad_frames_get_their_error_code(
    running: RunningServer, frame: str, code: str
) -> None:
    kiosk = await running.kiosk()
    await kiosk.ws.send_str(frame)
    err = await kiosk.expect("error")
    assert err["code"] == code, err
    # The connection is still usable.
    await kiosk.send({"type": "ping"})
    await kiosk.expect("pong")


async def test_reviewer_may_not_join_queues(running: RunningServer) -> None:
    desk = await running.staff("reviewer")
    await desk.send(JOIN)
    assert (await desk.expect("error"))["code"] == "forbidden"


async def test_binary_frame_is_refused(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    await kiosk.ws.send_bytes(b"\x00\x01")
    assert (await kiosk.expect("error"))["code"] == "binary_not_allowed"


async def test_oversized_frame_closes_1009(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    await kiosk.ws.send_str(json.dumps({"type": "rtc.offer", "sdp": "x" * 70_000}))
    await kiosk.done
    assert kiosk.ws.close_code == 1009


async def test_rate_limit(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    for _ in range(60):
        await kiosk.send({"type": "ping"})
    err = await kiosk.expect("error", code="rate_limited")
    assert "slow down" in err["message"]


async def test_unauthenticated_and_foreign_origin_refused(running: RunningServer) -> None:
    session, _ = await running.http()
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect("/ws")
    assert exc.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect("/ws?token=not-a-token")
    assert exc.value.status == 401
    token = running.kiosk_tokens["kiosk-1"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect(f"/ws?token={token}", origin="https://evil.example")
    assert exc.value.status == 403


def _random_payload(rng: random.Random) -> str:
    kinds = rng.randrange(6)
    types = [*INBOUND, "", "x" * 300, "queue", None, 5]
    if kinds == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 80)))
    if kinds == 1:
        return json.dumps(rng.choice([None, 1, "s", [], [1, {"type": "ping"}], 1.5, True]))
    values = [None, True, 0, -1, 2**70, 1.5, "", "x" * 500, [], {}, {"a": [1]}, "SCJG-001"]
    msg: dict[str, object] = {"type": rng.choice(types)}
    for _ in range(rng.randrange(0, 5)):
        key = rng.choice(["item", "sdp", "audio", "video", "outcome", "priority_class", "zz", "id"])
        msg[key] = rng.choice(values)
    if kinds == 2:
        msg["recording_notice_shown"] = rng.choice([True, False, "true"])
    text = json.dumps(msg)
    if kinds == 3 and text:
        cut = rng.randrange(len(text))
        text = text[:cut]
    return text


async def test_fuzz_never_breaks_the_handler(running: RunningServer) -> None:
    """2,000 generated payloads: each gets an answer, the server stays healthy."""
    from server.auth import Identity
    from server.connections import Connection
    from server.ws import handle_text

    rng = random.Random(20261128)
    sent: list[str] = []

    class Sink:
        closed = False

        async def send_str(self, text: str) -> None:
            sent.append(text)

    for role in ("kiosk", "reviewer", "agent", "supervisor"):
        ident = Identity(
            subject=f"fuzz-{role}", role=role, name="fuzz", place="QH-CG", items=("SCJG-001",)
        )
        conn = Connection(ident, Sink(), f"fuzz-{role}")  # type: ignore[arg-type]
        for _ in range(500):
            # Raising here would fail the test: the handler must absorb anything.
            await handle_text(running.app, conn, _random_payload(rng))
    codes = {json.loads(s).get("code") for s in sent if json.loads(s).get("type") == "error"}
    assert "internal" not in codes, "a payload reached an unhandled exception"
    assert {"bad_json", "unknown_type", "bad_field"} <= codes
    # And through the real socket, the server still answers afterwards.
    kiosk = await running.kiosk()
    for _ in range(30):
        await kiosk.ws.send_str(_random_payload(rng))
    await kiosk.send({"type": "ping"})
    await kiosk.expect("pong", timeout=10)
    async with (await running.http())[0].get("/healthz") as resp:
        assert resp.status == 200
    async with (await running.http())[0].get("/metrics") as resp:
        assert total(await resp.text(), "rw_signaling_errors_total") > 0
