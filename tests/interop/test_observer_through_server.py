"""A live spot check through the real server with real aiortc peers: a kiosk and
a reviewer are live, a supervisor observes receive-only and decodes both; it
publishes nothing, the participants' media is untouched, and with
`supervision.announce_observer` off they never learn of it. The manifest has
the observer's stay and no media of its own; `verify` passes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from recording.verify import main as verify_main
from server import appkeys as K
from server.bench.party_client import Party, PartyPeer
from server.bench.source import DecodeErrorCounter, vp8_clip
from tests.conftest import make_config, start_server

pytestmark = pytest.mark.timeout(120)


@dataclass(eq=False)
class ObserverPeer(PartyPeer):
    """A receive-only peer: no tracks, recvonly m-lines only (like the /supervision player)."""

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection(self.config)
        for kind in ("audio", "video"):
            self.pc.addTransceiver(kind, direction="recvonly")
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)


@pytest.mark.parametrize("announce", [False, True], ids=["silent", "announced"])
async def test_a_supervisor_observes_receive_only(tmp_path: Path, accounts_template, announce):
    clip = vp8_clip(160, 120, 150_000, 30)
    cfg = make_config(tmp_path / "data", supervision={"announce_observer": announce})
    running = await start_server(cfg, accounts_template)
    parties: list[Party] = []
    try:
        kiosk_client, desk_client = await running.pair()
        kiosk = Party("kiosk", kiosk_client, PartyPeer(clip))
        desk = Party("desk", desk_client, PartyPeer(clip))
        parties += [kiosk, desk]
        with DecodeErrorCounter() as errors:
            await asyncio.gather(kiosk.offer(), desk.offer())
            await kiosk.message("session.state", state="live")
            session_id = kiosk_client.last["session.paired"]["session_id"]
            seen_before = {p.name: len(p.client.history) for p in parties}

            sup_client = await running.staff("supervisor")
            observer = Party("observer", sup_client, ObserverPeer(clip))
            parties.append(observer)
            # An offer that would send is refused: an observer receives only.
            sending = PartyPeer(clip)
            await sending.pc.setLocalDescription(await sending.pc.createOffer())
            await sup_client.send({"type": "supervision.observe", "session_id": session_id})
            paired = await observer.message("session.paired")
            assert paired["party"] == "observer"
            await sup_client.send({"type": "rtc.offer", "sdp": sending.pc.localDescription.sdp})
            refused = await observer.message("error", ref="rtc.offer")
            assert refused["code"] == "media_failed"
            await sending.close()

            await observer.offer()
            roster = observer.roster
            assert roster is not None and roster["needed"] == {"audio": 2, "video": 2}
            holders = {p["party"]: p["id"] for p in roster["participants"]}
            for source in (holders["applicant"], holders["reviewer"]):
                for kind in ("video", "audio"):
                    await observer.wait_for_frames(source, kind, 30)
            # The participants carry on, their m-lines unchanged.
            for party in (kiosk, desk):
                before = party.peer.decoded["video"]
                await party.peer.wait_decoded("video", before + 30)
                assert party.renegotiations == 0
                assert len(party.peer.pc.getTransceivers()) == 2

            # The observer's pc sends nothing; the server takes nothing from it.
            assert all(t.sender.track is None for t in observer.peer.pc.getTransceivers())
            media = running.app[K.MEDIA].get(session_id)
            assert media is not None
            observed = media.participants[holders["observer"]]
            assert observed.receive_only and observed.inbound == {}
            for pid in (holders["applicant"], holders["reviewer"]):
                assert {k: len(v) for k, v in media.participants[pid].slots.items()} == {
                    "audio": 1,
                    "video": 1,
                }

            told = {
                p.name: [json.dumps(m) for m in p.client.history[seen_before[p.name] :]]
                for p in (kiosk, desk)
            }
            for name, messages in told.items():
                if announce:
                    assert any("session.observer" in m for m in messages), name
                else:
                    assert not any("supervisor" in m or "observer" in m for m in messages), (
                        name,
                        messages,
                    )

            await sup_client.send({"type": "supervision.unobserve", "session_id": session_id})
            await observer.message("session.ended", outcome="left")
            await desk.client.send({"type": "session.end", "outcome": "completed"})
            await kiosk.message("session.ended")
        assert errors.errors == []
        async with asyncio.timeout(20):
            await running.app[K.RECORDER].wait_finalized(session_id)
    finally:
        for party in parties:
            await party.close()
        await running.close()

    [manifest_path] = (cfg.data_dir / "archive").glob(f"*/*/*/{session_id}/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    by_party = {p["party"]: p for p in manifest["participants"]}
    assert by_party["observer"]["account"] == "supervisor"
    assert by_party["observer"]["media"] == []
    assert len(by_party["observer"]["stays"]) == 1 and by_party["observer"]["stays"][0]["left"]
    assert verify_main([str(manifest_path.parent)]) == 0
