"""PROTOCOL.md's rules over a real WebSocket: error refs, the order in which
errors are decided, the size limit at its boundary, deep nesting, origins."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from signaling.messages import MAX_DEPTH
from tests.conftest import RunningServer, make_config, start_server

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}
LIMIT = 65_536


@pytest.fixture
async def fast(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    """A server whose rate limit does not get in the way of many frames."""
    cfg = make_config(tmp_path / "data", signaling={"rate_per_second": 5000, "rate_burst": 5000})
    srv = await start_server(cfg, accounts_template)
    try:
        yield srv
    finally:
        await srv.close()


async def test_unknown_type_names_the_type_in_ref(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    await kiosk.send({"type": "queue.teleport"})
    err = await kiosk.expect("error")
    assert (err["code"], err["ref"]) == ("unknown_type", "queue.teleport")


async def test_rate_limited_names_the_type_in_ref(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    for _ in range(60):
        await kiosk.send({"type": "ping"})
    err = await kiosk.expect("error", code="rate_limited")
    assert err["ref"] == "ping"


# (frame, role, code): each pair of faults is decided by the documented order
# size, rate, binary, json, message, type, role, fields, named thing, state.
PRECEDENCE = [
    # role before fields
    ('{"type": "queue.join", "item": 5, "zz": 1}', "reviewer", "forbidden"),
    # type before anything about fields
    ('{"type": "queue.jump", "item": 5}', "kiosk", "unknown_type"),
    # fields (an unknown priority class) before state (notice not shown)
    ('{"type": "queue.join", "item": "SCJG-001", "priority_class": "vip"}', "kiosk", "bad_field"),
    # the named item (not_found) before state (notice not shown)
    ('{"type": "queue.join", "item": "NOPE-1"}', "kiosk", "not_found"),
    # fields before the named item
    ('{"type": "queue.join", "item": "NOPE-1", "priority_class": "vip"}', "kiosk", "bad_field"),
    # json before type
    ('{"type": "queue.join", ', "kiosk", "bad_json"),
]


@pytest.mark.parametrize(("frame", "role", "code"), PRECEDENCE)
async def test_error_precedence(running: RunningServer, frame: str, role: str, code: str) -> None:
    client = await (running.staff("reviewer") if role == "reviewer" else running.kiosk())
    await client.ws.send_str(frame)
    assert (await client.expect("error"))["code"] == code


async def test_fields_before_state_in_a_session(running: RunningServer) -> None:
    kiosk, _ = await running.pair()
    await kiosk.send({**JOIN, "priority_class": "vip"})
    assert (await kiosk.expect("error"))["code"] == "bad_field"
    await kiosk.send(JOIN)
    assert (await kiosk.expect("error"))["code"] == "wrong_state"


async def test_rate_limit_comes_before_parsing(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    for _ in range(60):
        await kiosk.ws.send_str("not json")
    err = await kiosk.expect("error", code="rate_limited")
    assert err["ref"] is None  # the type could not be read


def _ping_of_size(size: int) -> str:
    frame = json.dumps({"type": "ping", "id": ""})
    return json.dumps({"type": "ping", "id": "x" * (size - len(frame))})


async def test_size_limit_is_inclusive(running: RunningServer) -> None:
    kiosk = await running.kiosk()
    exact = _ping_of_size(LIMIT)
    assert len(exact.encode()) == LIMIT
    await kiosk.ws.send_str(exact)
    await kiosk.expect("pong")
    over = _ping_of_size(LIMIT + 1)
    await kiosk.ws.send_str(over)
    await kiosk.done
    assert kiosk.ws.close_code == 1009


def _nested(depth: int, rng: random.Random) -> tuple[str, str]:
    """`depth` levels of arrays/objects around a value, mixed at random."""
    opening, closing = [], []
    for _ in range(depth):
        if rng.random() < 0.5:
            opening.append("[")
            closing.append("]")
        else:
            opening.append('{"k":')
            closing.append("}")
    return "".join(opening), "".join(reversed(closing))


# Where the nesting sits: the frame itself, or inside one field of a message.
POSITIONS = [
    lambda inner: inner,
    lambda inner: '{"type": "ping", "id": ' + inner + "}",
    lambda inner: '{"type": "queue.join", "item": ' + inner + "}",
    lambda inner: '{"type": "rtc.offer", "sdp": ' + inner + "}",
    lambda inner: '{"type": "media.state", "audio": true, "video": ' + inner + "}",
    lambda inner: '{"type": "queue.join", "zz": ' + inner + ', "item": "SCJG-001"}',
    lambda inner: '{"id": ' + inner + ', "type": "ping"}',
]
DEPTHS = [1, 2, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 999, 1000, 1001]
DEPTHS += [2000, 5000, 12_000]


async def test_nesting_depth_fuzz(fast: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    """Every depth at every position: too deep is bad_json, never internal or a traceback."""
    rng = random.Random(2026)
    kiosk = await fast.kiosk()
    for depth in DEPTHS + [rng.randrange(1, 12_000) for _ in range(20)]:
        for n, position in enumerate(POSITIONS):
            head, tail = _nested(depth, rng)
            frame = position(head + "1" + tail)
            seen = len(kiosk.history)
            await kiosk.ws.send_str(frame)
            await kiosk.send({"type": "sentinel.check"})  # answered after the frame
            await kiosk.expect("error", ref="sentinel.check")
            answers = kiosk.history[seen:-1]
            assert len(answers) == 1, (depth, n, answers)
            # The depth of the whole frame: a field's value sits one level down.
            total = depth + (1 if n > 0 else 0)
            if total > MAX_DEPTH:
                assert answers[0].get("code") == "bad_json", (depth, n, answers)
            else:
                assert answers[0].get("code") not in ("bad_json", "internal"), (depth, n)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _port(running: RunningServer) -> int:
    return int(running.url.rsplit(":", 1)[1])


async def test_dns_rebinding_origin_is_refused(running: RunningServer) -> None:
    """Origin equal to an attacker's Host: refused for /ws and for sign-in."""
    session, _ = await running.http()
    token = running.kiosk_tokens["kiosk-1"]
    evil = f"evil.example:{_port(running)}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect(
            f"/ws?token={token}", origin=f"http://{evil}", headers={"Host": evil}
        )
    assert exc.value.status == 403
    async with session.post(
        "/api/login",
        json={"username": "reviewer", "password": "x"},
        headers={"Host": evil, "Origin": f"http://{evil}"},
    ) as resp:
        assert resp.status == 403
    # The demo on localhost keeps working: same origin with an IP-address Host.
    ws = await session.ws_connect(f"/ws?token={token}", origin=running.url)
    assert json.loads((await ws.receive()).data)["type"] == "welcome"
    await ws.close()


async def test_public_url_origin_is_allowed(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(tmp_path / "data", server={"public_url": "https://window.example.gov.cn"})
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http()
        token = srv.kiosk_tokens["kiosk-1"]
        ws = await session.ws_connect(
            f"/ws?token={token}",
            origin="https://window.example.gov.cn",
            headers={"Host": "window.example.gov.cn"},
        )
        assert json.loads((await ws.receive()).data)["type"] == "welcome"
        await ws.close()
        evil = "evil.example"
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await session.ws_connect(
                f"/ws?token={token}", origin=f"http://{evil}", headers={"Host": evil}
            )
        assert exc.value.status == 403
    finally:
        await srv.close()


def test_protocol_page_examples_match_the_message_classes() -> None:
    """Every JSON example of a message in PROTOCOL.md is accepted by its class."""
    import re

    from signaling.messages import INBOUND, OUTBOUND, parse_inbound

    page = (Path(__file__).parents[2] / "signaling" / "PROTOCOL.md").read_text()
    seen = set()
    for block in re.findall(r"```json\n(.*?)```", page, re.S):
        example = json.loads(block)
        mtype = example.pop("type")
        if mtype in OUTBOUND:
            assert OUTBOUND[mtype](**example).to_wire() == {"type": mtype, **example}
        else:
            role = sorted(INBOUND[mtype].roles)[0]
            parse_inbound(json.dumps({"type": mtype, **example}), role)
        seen.add(mtype)
    assert seen == set(INBOUND) | set(OUTBOUND)
