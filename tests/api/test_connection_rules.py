"""Connection-level rules over a real WebSocket: idle and heartbeat closes,
one socket per kiosk token, socket caps, and `queue.left` after expiry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server import appkeys as K
from signaling.client import SignalingClient
from tests.conftest import RunningServer, make_config, start_server

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


async def _server(
    tmp_path: Path, accounts: tuple[Path, dict[str, str]], **signaling: Any
) -> RunningServer:
    return await start_server(make_config(tmp_path / "data", signaling=signaling), accounts)


@pytest.fixture
async def quick(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    """Short heartbeat and idle timeout, so the closes come quickly."""
    srv = await _server(
        tmp_path, accounts_template, heartbeat_seconds=0.2, idle_timeout_seconds=0.8
    )
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def no_idle(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    """A short heartbeat and an idle timeout that never comes into play."""
    srv = await _server(
        tmp_path, accounts_template, heartbeat_seconds=0.2, idle_timeout_seconds=600
    )
    try:
        yield srv
    finally:
        await srv.close()


async def test_client_that_only_answers_pings_is_closed_as_idle(quick: RunningServer) -> None:
    kiosk = await quick.kiosk()  # aiohttp answers the server's pings by itself
    async with asyncio.timeout(10):
        await kiosk.done
    assert (kiosk.ws.close_code, kiosk.close_reason) == (1001, "idle")


async def test_client_that_answers_no_ping_is_closed_the_same_way(no_idle: RunningServer) -> None:
    session, _ = await no_idle.http()
    token = no_idle.kiosk_tokens["kiosk-1"]
    ws = await session.ws_connect(f"/ws?token={token}", autoping=False)
    pings = 0
    async with asyncio.timeout(10):
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.PING:
                pings += 1  # seen, not answered
            elif msg.type == aiohttp.WSMsgType.CLOSE:
                break
    assert pings >= 1
    assert (msg.data, msg.extra) == (1001, "no pong")


async def test_messages_do_not_stand_in_for_pongs(no_idle: RunningServer) -> None:
    """Answering pings is the client's job even when it talks: no pong, no socket."""
    session, _ = await no_idle.http()
    token = no_idle.kiosk_tokens["kiosk-1"]
    ws = await session.ws_connect(f"/ws?token={token}", autoping=False)
    async with asyncio.timeout(10):
        while (msg := await ws.receive()).type != aiohttp.WSMsgType.CLOSE:
            if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "pong":
                continue
            await ws.send_str('{"type": "ping"}')
    assert (msg.data, msg.extra) == (1001, "no pong")


async def test_second_socket_of_a_kiosk_takes_over(running: RunningServer) -> None:
    first = await running.kiosk("kiosk-1")
    await first.send(JOIN)
    status = await first.expect("queue.status")
    second = await running.kiosk("kiosk-1")
    async with asyncio.timeout(10):
        await first.done
    assert (first.ws.close_code, first.close_reason) == (4001, "replaced by a newer connection")
    assert second.welcome is not None and second.welcome["resume"] == "queue"
    again = await second.expect("queue.status")
    assert again["ticket"] == status["ticket"] and again["state"] == "waiting"
    await second.send({"type": "ping"})
    await second.expect("pong")
    assert running.app[K.CONNECTIONS].count_by_role() == {"kiosk": 1}


async def _refused(session: aiohttp.ClientSession, url: str) -> tuple[int, str, list[Any]]:
    """Open a socket the server will close at once: (code, reason, messages before)."""
    ws = await session.ws_connect(url)
    before = []
    async with asyncio.timeout(10):
        while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            before.append(json.loads(msg.data))
    assert msg.type == aiohttp.WSMsgType.CLOSE, msg
    return msg.data, msg.extra, before


async def test_staff_account_socket_cap(running: RunningServer) -> None:
    session, _ = await running.http("reviewer")
    desks = [await SignalingClient.connect(session) for _ in range(3)]
    running.clients += desks
    code, reason, before = await _refused(session, "/ws")
    assert (code, reason, before) == (4002, "too many connections for this account", [])
    await desks[0].close()
    running.clients.append(await SignalingClient.connect(session))  # room again


async def test_total_socket_cap(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    srv = await _server(tmp_path, accounts_template, max_connections=2)
    try:
        await srv.kiosk("kiosk-1")
        await srv.kiosk("kiosk-2")
        session, _ = await srv.http()
        token = srv.kiosk_tokens["kiosk-3"]
        code, reason, before = await _refused(session, f"/ws?token={token}")
        assert (code, reason, before) == (1013, "server full, try again later", [])
        # A kiosk replacing its own socket does not need a free one.
        again = await srv.kiosk("kiosk-1")
        await again.send({"type": "ping"})
        await again.expect("pong")
    finally:
        await srv.close()


async def test_kiosk_back_after_expiry_is_told_queue_left(running: RunningServer) -> None:
    desk = await running.staff("reviewer")
    kiosk = await running.kiosk("kiosk-1")
    await kiosk.send(JOIN)
    await kiosk.expect("queue.status")
    await kiosk.close()

    def row(view: dict[str, Any]) -> dict[str, Any]:
        return next(q for q in view["queues"] if q["item"] == "SCJG-001")

    while row(await desk.expect("desk.queues"))["away"] != 1:
        pass  # the server has seen the close once the desk is told the place is away
    service = running.app[K.QUEUES]
    assert await service.sweep(now=service.clock() + 3600)
    back = await running.kiosk("kiosk-1")
    assert back.welcome is not None and back.welcome["resume"] == "none"
    assert (await back.expect("queue.left"))["reason"] == "expired"
    await back.close()
    # Told once: the next connection hears nothing about it.
    third = await running.kiosk("kiosk-1")
    await third.send({"type": "ping"})
    await third.expect("pong")
    assert [m["type"] for m in third.history] == ["welcome", "pong"]
