"""kill -9 of the server with applicants in line: the next start gives every
kiosk the place it was told about, and the one being called goes back to
the head of the line (its session died with the process)."""

from __future__ import annotations

import os
import signal
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from server.bench.server_proc import seeded, spawn
from signaling.client import SignalingClient, login
from tests.conftest import system_events
from tests.ports import free_port

ITEM = "SCJG-001"


async def _kiosk(stack: AsyncExitStack, base: str, token: str) -> SignalingClient:
    http = await stack.enter_async_context(aiohttp.ClientSession(base_url=base))
    client = await SignalingClient.connect(http, token=token)
    stack.push_async_callback(client.close)
    return client


async def test_kill_9_keeps_every_acknowledged_place(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = await spawn(data_dir, port, 3)
    accounts = seeded(data_dir)
    tokens = accounts["kiosks"]
    base = f"http://127.0.0.1:{port}"
    try:
        async with AsyncExitStack() as stack:
            told = []
            for token in tokens:
                kiosk = await _kiosk(stack, base, token)
                await kiosk.send(
                    {"type": "queue.join", "item": ITEM, "recording_notice_shown": True}
                )
                told.append(await kiosk.expect("queue.status"))
            assert [s["position"] for s in told] == [1, 2, 3]

            desk_http = await stack.enter_async_context(
                aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
            )
            await login(desk_http, accounts["reviewers"][0], accounts["password"])
            desk = await SignalingClient.connect(desk_http)
            stack.push_async_callback(desk.close)
            await desk.send({"type": "desk.call_next"})
            await desk.expect("session.paired")
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    port = free_port()
    proc = await spawn(data_dir, port, 1)
    base = f"http://127.0.0.1:{port}"
    try:
        async with AsyncExitStack() as stack:
            for before in told:
                kiosk = await _kiosk(stack, base, tokens[told.index(before)])
                assert kiosk.welcome is not None and kiosk.welcome["resume"] == "queue"
                now = await kiosk.expect("queue.status", ticket=before["ticket"])
                assert now["position"] == before["position"]
    finally:
        proc.terminate()
        await proc.wait()

    events = system_events(data_dir / "archive")
    restored = [e for e in events if e["type"] == "queue.restored"]
    assert [e["data"] for e in restored] == [{"places": 3}]
