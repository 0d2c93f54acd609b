"""云踏勘 with real aiortc peers through the real server: kiosk, reviewer, an
inspector's phone joined by its one-time token and a colleague; everyone decodes
everyone; the phone's connection drops and it rejoins with the same token within
the grace; an evidence still is stored; the archive records the inspector's lane
in segments and `verify` passes."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from recording.verify import main as verify_main
from server import appkeys as K
from server.bench.party_client import Party, PartyPeer
from server.bench.source import DecodeErrorCounter, vp8_clip
from tests.api.test_inspection import invite as invite_inspector
from tests.conftest import Client, RunningServer
from tests.interop.party_session import all_see_all, invite
from tests.unit.doc_images import jpeg

pytestmark = pytest.mark.timeout(180)


async def phone(running: RunningServer, token: str, clip) -> Party:  # type: ignore[no-untyped-def]
    session, _ = await running.http()
    client = await Client.connect(session, token=f"{token}&device=aiortc-phone-1")
    running.clients.append(client)
    party = Party("inspector", client, PartyPeer(clip))
    await client.send({"type": "inspect.join", "recording_notice_accepted": True})
    paired = await party.message("session.paired")
    assert paired["party"] == "inspector"
    await party.message("inspect.info")
    await party.offer()
    return party


async def test_an_inspector_phone_through_the_server(running: RunningServer) -> None:
    clip = vp8_clip(160, 120, 150_000, 30)
    invited = await invite_inspector(running)
    kiosk = Party("kiosk", invited.kiosk, PartyPeer(clip))
    desk = Party("desk", invited.desk, PartyPeer(clip))
    parties = [kiosk, desk]
    try:
        with DecodeErrorCounter() as errors:
            await asyncio.gather(kiosk.offer(), desk.offer())
            await kiosk.message("session.state", state="live")
            inspector = await phone(running, invited.token, clip)
            parties.append(inspector)
            parties.append(await invite(running, desk, "reviewer2", clip))
            await all_see_all(parties, 30)
            await inspector.client.send(
                {
                    "type": "inspect.position",
                    "lat": 30.2741,
                    "lon": 120.1551,
                    "accuracy": 9,
                    "time": time.time() * 1000,
                }
            )
            await desk.message("inspect.fix")

            # The phone's network drops: a new socket and pc with the same token.
            await inspector.close()  # its pc too
            await inspector.client.close()
            parties.remove(inspector)
            inspector = await phone(running, invited.token, clip)
            parties.append(inspector)
            await all_see_all(parties, 60)

            status, record = await invited.upload(jpeg(320, 240))
            assert status == 201 and record["gps"]["lat"] == 30.2741
            await desk.message("inspect.evidence")
            await desk.client.send({"type": "session.end", "outcome": "completed"})
            for party in parties:
                await party.message("session.ended")
        assert errors.errors == []
    finally:
        for party in parties:
            await party.close()

    recorder = running.app[K.RECORDER]
    async with asyncio.timeout(20):
        await recorder.wait_finalized(invited.session_id)
    [manifest_path] = recorder.root.glob(f"*/*/*/{invited.session_id}/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    by_party = {p["party"]: p for p in manifest["participants"]}
    assert set(by_party) == {"applicant", "reviewer", "inspector", "colleague"}
    lane = by_party["inspector"]
    assert len([f for f in lane["media"] if "-video-" in f]) == 2, "a segment per connection"
    assert all((manifest_path.parent / f).stat().st_size > 0 for f in lane["media"])
    events = [
        json.loads(x) for x in (manifest_path.parent / "events.jsonl").read_text().split("\n") if x
    ]
    types = [e["type"] for e in events]
    assert "inspection.rejoined" in types and types.count("participant.added") == 2
    assert verify_main([str(recorder.root)]) == 0
