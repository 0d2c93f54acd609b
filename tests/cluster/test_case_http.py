"""The HTTP side of a case in a live call, when the requests land on the process
that does not hold the call (behind one address, no sticky routing): linking
the case and the kiosk's still are replayed at the session's process; a page
marked unreadable elsewhere still reaches the call."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from server.bench.driver import Peer
from server.bench.source import vp8_clip
from signaling.client import login
from tests.api.test_doc_capture import APPLICANT, BASE, MATERIALS
from tests.cluster.helpers import CLUSTER_ENV, desk, join, kiosk, seen, until
from tests.cluster.test_two_processes import two_processes
from tests.unit.doc_images import jpeg


async def test_case_requests_on_the_other_process_reach_the_call(tmp_path: Path) -> None:
    with two_processes(tmp_path, CLUSTER_ENV) as cluster:
        acc = cluster.accounts
        clip = vp8_clip(160, 120, 150_000, 30)
        peers = [Peer(clip), Peer(clip)]
        async with AsyncExitStack() as stack:
            for peer in peers:
                stack.push_async_callback(peer.close)
            k = await kiosk(stack, cluster.a, acc.kiosks[0])
            await join(k)
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            await d.send({"type": "desk.call_next"})
            sid = (await d.expect("session.paired", timeout=30))["session_id"]
            await asyncio.gather(peers[0].negotiate(k), peers[1].negotiate(d))
            await until(lambda: seen(k, "session.state", state="live"), what="live")

            # The reviewer's HTTP lands on A; the call is on B.
            jar = aiohttp.CookieJar(unsafe=True)
            staff = aiohttp.ClientSession(base_url=cluster.a.url, cookie_jar=jar)
            stack.push_async_callback(staff.close)
            csrf = {"X-CSRF-Token": await login(staff, acc.reviewers[0], acc.password)}
            async with staff.post(BASE, json={**APPLICANT, "session": sid}, headers=csrf) as resp:
                assert resp.status == 201, await resp.text()
                case = await resp.json()
            assert case["sessions"] == [sid] and case["mode"] == "video"
            number = case["number"]
            for side in (k, d):
                await until(lambda s=side: seen(s, "doc.case", case=number), what="doc.case")

            # The kiosk's still, posted on A (its socket's process), stored by B.
            device = aiohttp.ClientSession(base_url=cluster.a.url)
            stack.push_async_callback(device.close)
            url = f"{BASE}/{number}/documents?material={MATERIALS[1]}&source=camera"
            bearer = {"Authorization": f"Bearer {acc.kiosks[0]}"}
            async with device.post(url, data=jpeg(320, 240), headers=bearer) as resp:
                assert resp.status == 201, await resp.text()
                doc = await resp.json()
            for side in (k, d):
                stored = await until(lambda s=side: seen(s, "doc.stored", case=number))
                assert stored["document"] == doc

            # Marked unreadable on A (no session there): B's call is told.
            path = f"{BASE}/{number}/documents/{doc['id']}/unreadable"
            async with staff.post(path, json={"reason": "反光看不清"}, headers=csrf) as resp:
                assert resp.status == 200, await resp.text()
            again = await until(lambda: seen(k, "doc.recapture", case=number))
            assert (again["material"], again["page"]) == (MATERIALS[1], 1)
