"""One participant in its own process, so that a test can freeze (SIGSTOP) or
kill (SIGKILL) it like a browser tab that hangs or dies.

    python -m tests.interop.peer_proc URL reviewer USERNAME PASSWORD
    python -m tests.interop.peer_proc URL kiosk DEVICE_TOKEN

A reviewer signs in and calls the next applicant; a kiosk joins SCJG-001 and
waits to be called. Either then sends and receives media as an aiortc peer,
prints LIVE once the other side's video decodes, and waits forever.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from server.bench.driver import Peer
from server.bench.source import vp8_clip
from signaling.client import SignalingClient, login


async def main(url: str, role: str, *credentials: str) -> None:
    async with aiohttp.ClientSession(
        base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        if role == "reviewer":
            await login(http, *credentials)
            client = await SignalingClient.connect(http)
            await client.send({"type": "desk.call_next"})
        else:
            client = await SignalingClient.connect(http, token=credentials[0])
            join = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}
            await client.send(join)
        await client.expect("session.paired", timeout=30)
        peer = Peer(vp8_clip(160, 120, 150_000, 30))
        await peer.negotiate(client)
        await peer.wait_decoded("video", 10, within=30)
        print("LIVE", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
