"""A reviewer in a call held by another process is busy, not idle: its desk
reconnected to process A while the call lives on B, and it sends nothing. A's
credential sweep sees the holder pinned to B and keeps the sign-in alive past
its idle time (without that, A would close the silent desk with 4401)."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from server.auth import COOKIE
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from signaling.client import SignalingClient, login
from tests.cluster.helpers import CLUSTER_ENV, join, kiosk, kv, seen, until
from tests.cluster.test_two_processes import two_processes

pytestmark = pytest.mark.timeout(180)
IDLE_S = 3.0
ENV = {
    **CLUSTER_ENV,
    "RW_AUTH__SESSION_IDLE_MINUTES": str(IDLE_S / 60),
    "RW_AUTH__SOCKET_CHECK_SECONDS": "0.3",
}


async def test_a_silent_desk_in_a_call_on_the_other_process_stays_signed_in(
    tmp_path: Path,
) -> None:
    clip = vp8_clip(160, 120, 150_000, 30)
    with two_processes(tmp_path, ENV) as cluster:
        acc = cluster.accounts
        peers = [Peer(clip), Peer(clip)]
        async with AsyncExitStack() as stack:
            for peer in peers:
                stack.push_async_callback(peer.close)
            k = await kiosk(stack, cluster.b, acc.kiosks[0])
            await join(k)
            jar = aiohttp.CookieJar(unsafe=True)
            on_b = aiohttp.ClientSession(base_url=cluster.b.url, cookie_jar=jar)
            stack.push_async_callback(on_b.close)
            await login(on_b, acc.reviewers[0], acc.password)
            sid = next(c.value for c in jar if c.key == COOKIE)
            d = await SignalingClient.connect(on_b)
            await d.send({"type": "desk.call_next"})
            await d.expect("session.paired", timeout=30)
            await asyncio.gather(peers[0].negotiate(k), peers[1].negotiate(d))
            await until(lambda: seen(k, "session.state", state="live"), what="live")

            # The desk's socket moves to A (the same sign-in); the call stays on B.
            await d.close()
            on_a = aiohttp.ClientSession(base_url=cluster.a.url, cookie_jar=jar)
            stack.push_async_callback(on_a.close)
            desk_a = await SignalingClient.connect(on_a)
            stack.push_async_callback(desk_a.close)
            assert desk_a.welcome["resume"] == "session"
            silent_from = time.time()

            # Nothing sent: A's sweep alone keeps touching the sign-in, past its idle time.
            await until(
                lambda: (
                    (kv(cluster.redis_url, f"websess-seen:{sid}") or 0) > silent_from + 2 * IDLE_S
                ),
                within=60,
                what="the sign-in touched while its desk is silent in a call on B",
            )
            assert not desk_a.done.done(), (desk_a.ws.close_code, desk_a.ws.close_reason)
            async with on_a.get("/api/me") as resp:
                assert resp.status == 200
