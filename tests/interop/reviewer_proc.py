"""A reviewer desk in its own process, so that a test can freeze (SIGSTOP) or
kill (SIGKILL) it like a browser tab that hangs or dies.

    python -m tests.interop.reviewer_proc URL USERNAME PASSWORD

Signs in, calls the next applicant, sends and receives media as an aiortc
peer, prints LIVE once the applicant's video decodes, then waits forever.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from server.bench.driver import Peer
from server.bench.source import vp8_clip
from signaling.client import SignalingClient, login


async def main(url: str, username: str, password: str) -> None:
    async with aiohttp.ClientSession(
        base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        await login(http, username, password)
        desk = await SignalingClient.connect(http)
        await desk.send({"type": "desk.call_next"})
        await desk.expect("session.paired", timeout=30)
        peer = Peer(vp8_clip(160, 120, 150_000, 30))
        await peer.negotiate(desk)
        await peer.wait_decoded("video", 10, within=30)
        print("LIVE", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
