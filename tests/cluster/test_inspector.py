"""云踏勘 with two processes behind one address: the session (kiosk and reviewer)
is on B, the inspector's phone opens its link on A. Its check, its join and
its frames are handled by B; its media goes to B and everyone decodes everyone;
a capture request reaches the phone, whose still, posted on A, is stored by B in
the case's evidence/ with the desk told; another case is refused. A second phone
with the same token on B is refused while the first is connected; the first
drops and rejoins on A. After the session ends the token is refused on A (and
the phone's open socket there is closed by A's credential sweep). An unopened
link expires on both processes."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from server.bench.party_client import Party, PartyPeer
from server.bench.source import vp8_clip
from signaling.client import SignalingClient, login
from tests.api.test_inspection import APPLICANT, BASE, POINTS
from tests.cluster.helpers import CLUSTER_ENV, desk, join, kiosk, kv, process_id, until
from tests.cluster.test_two_processes import two_processes
from tests.interop.party_session import all_see_all
from tests.unit.doc_images import jpeg

pytestmark = pytest.mark.timeout(240)
PHONE, OTHER_PHONE = "phone-on-a-0001", "phone-on-b-0002"


async def _check(http: aiohttp.ClientSession, token: str, device: str) -> tuple[int, dict]:
    async with http.post("/api/inspect/check", json={"token": token, "device": device}) as resp:
        return resp.status, await resp.json()


async def _phone(http: aiohttp.ClientSession, token: str, clip: object) -> Party:
    """The phone's socket on `http`'s process, joined, with its first offer made."""
    client = await SignalingClient.connect(http, token=f"{token}&device={PHONE}")
    phone = Party("inspector", client, PartyPeer(clip))  # type: ignore[arg-type]
    await client.send({"type": "inspect.join", "recording_notice_accepted": True})
    paired = await phone.message("session.paired")
    assert paired["party"] == "inspector"
    await phone.message("inspect.info")
    await phone.offer()  # A → B, and the answer back
    return phone


def _chain(data_dir: Path, session_id: str) -> list[str]:
    """The event types of a session's chain in a data dir so far."""
    found = list((data_dir / "archive").glob(f"*/*/*/{session_id}/events.jsonl"))
    if not found:
        return []
    return [json.loads(x)["type"] for x in found[0].read_text().splitlines() if x.endswith("}")]


async def test_an_inspector_on_the_other_process(tmp_path: Path) -> None:
    clip = vp8_clip(160, 120, 150_000, 30)
    with two_processes(tmp_path, CLUSTER_ENV) as cluster:
        acc = cluster.accounts
        parties: list[Party] = []
        async with AsyncExitStack() as stack:
            stack.push_async_callback(lambda: asyncio.gather(*(p.close() for p in parties)))
            k = await kiosk(stack, cluster.b, acc.kiosks[0])
            await join(k)
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            await d.send({"type": "desk.call_next"})
            sid = (await d.expect("session.paired", timeout=30))["session_id"]
            await k.expect("session.paired", timeout=30)
            kiosk_party = Party("kiosk", k, PartyPeer(clip))
            desk_party = Party("desk", d, PartyPeer(clip))
            parties += [kiosk_party, desk_party]
            await asyncio.gather(kiosk_party.offer(), desk_party.offer())
            await kiosk_party.message("session.state", state="live")

            # The reviewer (on B) links a case and invites an inspector.
            staff = aiohttp.ClientSession(
                base_url=cluster.b.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
            )
            stack.push_async_callback(staff.close)
            csrf = {"X-CSRF-Token": await login(staff, acc.reviewers[0], acc.password)}
            async with staff.post(BASE, json={**APPLICANT, "session": sid}, headers=csrf) as resp:
                assert resp.status == 201, await resp.text()
                number = (await resp.json())["number"]
            body = {"session": sid, "case": number, "name": "李四"}
            async with staff.post("/api/inspections", json=body, headers=csrf) as resp:
                assert resp.status == 201, await resp.text()
                invited = await resp.json()
            token = invited["token"]
            owner_b = process_id(cluster.redis_url, cluster.b)
            assert kv(cluster.redis_url, f"cluster:insp:{invited['id']}")["owner"] == owner_b

            # The phone lands on A: its check is answered by B, its join handled by B.
            phone_http = aiohttp.ClientSession(base_url=cluster.a.url)
            stack.push_async_callback(phone_http.close)
            status, checked = await _check(phone_http, token, PHONE)
            assert status == 200, checked
            assert checked["inspection"]["case"] == number
            assert checked["inspection"]["points"] == POINTS
            phone_ws = await SignalingClient.connect(phone_http, token=f"{token}&device={PHONE}")
            stack.push_async_callback(phone_ws.close)
            phone = Party("inspector", phone_ws, PartyPeer(clip))
            parties.append(phone)
            await phone_ws.send({"type": "inspect.join", "recording_notice_accepted": True})
            paired = await phone.message("session.paired")
            assert paired["party"] == "inspector" and paired["session_id"] == sid
            assert (await phone.message("inspect.info"))["case"] == number
            holder = f"inspector:{invited['id']}"
            assert kv(cluster.redis_url, f"cluster:holder:{holder}")["owner"] == owner_b
            await phone.offer()  # A → B, and the answer back
            await all_see_all(parties, 30)

            # Its position reaches the desk.
            fix = {"lat": 30.2741, "lon": 120.1551, "accuracy": 9, "time": time.time() * 1000}
            await phone_ws.send({"type": "inspect.position", **fix})
            shown = await desk_party.message("inspect.fix")
            assert shown["fix"]["lat"] == 30.2741

            # The desk asks for a still; the phone, on A, uploads it; B stores it.
            await d.send({"type": "inspect.capture", "point": POINTS[0]})
            take = await phone.message("inspect.take")
            still = jpeg(320, 240)
            url = f"{BASE}/{number}/evidence"
            bearer = {"Authorization": f"Bearer {token}"}
            params = {"request": take["request_id"]}
            async with phone_http.post(url, params=params, data=still, headers=bearer) as resp:
                assert resp.status == 201, await resp.text()
                record = await resp.json()
            assert record["gps"]["lat"] == 30.2741 and record["point"] == POINTS[0]
            told = await desk_party.message("inspect.evidence")
            assert told["evidence"]["n"] == record["n"]
            other_case = f"{BASE}/QH-2026-999999/evidence"
            async with phone_http.post(other_case, data=still, headers=bearer) as resp:
                assert resp.status == 403 and (await resp.json())["code"] == "other_case"
            stored = cluster.b.data_dir / "archive" / "cases" / number / record["file"]
            assert stored.read_bytes() == still
            assert not (cluster.a.data_dir / "archive" / "cases" / number).exists()

            # A second phone with the same token, on B, while the first is connected.
            other_http = aiohttp.ClientSession(base_url=cluster.b.url)
            stack.push_async_callback(other_http.close)
            status, refused = await _check(other_http, token, OTHER_PHONE)
            assert (status, refused["code"]) == (409, "in_use")
            url_b = f"/ws?token={token}&device={OTHER_PHONE}"
            async with other_http.ws_connect(url_b) as second:
                said = await asyncio.wait_for(second.receive_json(), 30)
                assert said["type"] == "error" and "另一部手机" in said["message"]
                closed = await asyncio.wait_for(second.receive(), 30)
                assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4001
            await phone_ws.send({"type": "inspect.position", **fix, "lat": 30.275})
            await until(
                lambda: any(
                    m["type"] == "inspect.fix" and m["fix"]["lat"] == 30.275
                    for m in desk_party.messages
                ),
                what="the first phone still heard after the refusal",
            )
            assert not phone_ws.ws.closed

            # The phone's network drops; it comes back on A with the same link.
            parties.remove(phone)
            await phone.close()
            await phone_ws.close()
            phone = await _phone(phone_http, token, clip)
            phone_ws = phone.client
            stack.push_async_callback(phone_ws.close)
            parties.append(phone)
            await all_see_all(parties, 60)
            await until(
                lambda: "inspection.rejoined" in _chain(cluster.b.data_dir, sid),
                what="the rejoin in the session's chain on B",
            )

            # The session ends: the token is refused on A, the phone's socket closed.
            await d.send({"type": "session.end", "outcome": "completed"})
            for party in parties:
                await party.message("session.ended")
            await until(
                lambda: (
                    (kv(cluster.redis_url, f"cluster:insp:{invited['id']}") or {}).get("state")
                    == "ended"
                ),
                what="the inspection's record ended",
            )
            status, refused = await _check(phone_http, token, PHONE)
            assert (status, refused["code"]) == (410, "ended")
            with pytest.raises(aiohttp.WSServerHandshakeError) as upgrade:
                await phone_http.ws_connect(f"/ws?token={token}&device={PHONE}")
            assert upgrade.value.status == 401
            async with phone_http.post(url, data=still, headers=bearer) as resp:
                assert resp.status == 401
            # A's credential sweep (its record in the store says ended) closes it.
            await asyncio.wait_for(phone_ws.done, 30)
            assert phone_ws.ws.close_code == 4401


async def _until_status(http: aiohttp.ClientSession, token: str, status: int) -> dict:
    """Poll the link's check until it answers `status` (the token's clock runs out)."""
    deadline = time.monotonic() + 60
    while True:
        got, body = await _check(http, token, PHONE)
        if got == status:
            return body
        assert got == 200 and time.monotonic() < deadline, (got, body)
        await asyncio.sleep(0.2)  # the poll interval, not synchronisation


async def test_an_unopened_link_expires_on_every_process(tmp_path: Path) -> None:
    env = {**CLUSTER_ENV, "RW_INSPECTION__TOKEN_MINUTES": "0.1"}
    with two_processes(tmp_path, env) as cluster:
        acc = cluster.accounts
        async with AsyncExitStack() as stack:
            k = await kiosk(stack, cluster.b, acc.kiosks[0])
            await join(k)
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            await d.send({"type": "desk.call_next"})
            sid = (await d.expect("session.paired", timeout=30))["session_id"]
            staff = aiohttp.ClientSession(
                base_url=cluster.b.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
            )
            stack.push_async_callback(staff.close)
            csrf = {"X-CSRF-Token": await login(staff, acc.reviewers[0], acc.password)}
            async with staff.post(BASE, json={**APPLICANT, "session": sid}, headers=csrf) as resp:
                assert resp.status == 201, await resp.text()
                number = (await resp.json())["number"]
            body = {"session": sid, "case": number, "name": "李四"}
            async with staff.post("/api/inspections", json=body, headers=csrf) as resp:
                token = (await resp.json())["token"]
            phone_http = aiohttp.ClientSession(base_url=cluster.a.url)
            stack.push_async_callback(phone_http.close)
            refused = await _until_status(phone_http, token, 410)
            assert refused["code"] == "expired" and "过期" in refused["notice"]["zh"]
            # A's own check of the bearer (the record in the store) refuses it too.
            with pytest.raises(aiohttp.WSServerHandshakeError) as upgrade:
                await phone_http.ws_connect(f"/ws?token={token}&device={PHONE}")
            assert upgrade.value.status == 401
