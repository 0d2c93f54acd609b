"""N-party media through MediaSession: every participant receives every other's
tracks; a newcomer is carried by renegotiating the others' *current* pcs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.bench.source import DecodeErrorCounter
from server.media import MediaHub, MediaSession
from tests.interop.media_helpers import ClientPeer

pytestmark = pytest.mark.timeout(120)


class PartyPeer(ClientPeer):
    """A decoding aiortc peer that counts frames per received track (the server maps
    each m-line, by mid, to the participant it carries)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.per_track: dict[MediaStreamTrack, int] = {}

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.per_track[track] = 0
        self._tasks.append(asyncio.create_task(self._count(track)))

    async def _count(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.per_track[track] += 1
            async with self.changed:
                self.changed.notify_all()

    def frames_from(self, session: MediaSession, source: str, kind: str) -> int:
        """Frames decoded on the m-line that the server says carries `source`'s `kind`."""
        for route in session.routes(self.name):
            if route["from"] == source and route["track"] == kind:
                for transceiver in self.pc.getTransceivers():
                    track = transceiver.receiver.track
                    if transceiver.mid == route["mid"] and track in self.per_track:
                        return self.per_track[track]
        return 0

    async def renegotiate(self, session: MediaSession) -> None:
        """Add receive-only m-lines up to what the server says is needed, re-offer."""
        for kind, want in session.slots_needed(self.name).items():
            have = sum(1 for t in self.pc.getTransceivers() if t.kind == kind)
            for _ in range(want - have):
                self.pc.addTransceiver(kind, direction="recvonly")
        offer = await self.offer()
        answer = await session.accept_offer(self.name, offer, [], renegotiate=True)
        await self.accept(answer)


async def all_see_all(session: MediaSession, peers: list[PartyPeer], frames: int = 15) -> None:
    for peer in peers:
        for other in peers:
            if other is peer:
                continue
            for kind in ("video", "audio"):
                await peer.wait_for(
                    lambda p=peer, o=other, k=kind: p.frames_from(session, o.name, k) >= frames,
                    within=20,
                )


@pytest.fixture
async def hub() -> AsyncIterator[MediaHub]:
    media_hub = MediaHub(max_participants=6)
    try:
        yield media_hub
    finally:
        await media_hub.close()


@pytest.fixture
async def peers() -> AsyncIterator[list[PartyPeer]]:
    made: list[PartyPeer] = []
    try:
        yield made
    finally:
        for peer in made:
            await peer.close()


async def test_four_parties_each_decode_every_other(hub: MediaHub, peers: list[PartyPeer]) -> None:
    session = hub.session("s-four")
    with DecodeErrorCounter() as errors:
        server_pcs = {}
        for name in ("kiosk", "desk", "colleague", "inspector"):
            peer = PartyPeer(name)
            peers.append(peer)
            await peer.join(session)
            server_pcs[name] = session.participants[name].pc
            # Everyone already in re-offers on their current pc for the newcomer.
            for earlier in peers:
                await earlier.renegotiate(session)
        await all_see_all(session, peers)
        inbound = {(p, k): s for p, k, s in session.inbound_streams()}
        assert all(len(s.subscribers) == 3 for s in inbound.values()), "each goes to 3 others"
        # One pc each for the whole session: the renegotiations replaced none.
        assert {p: s.pc for p, s in session.participants.items()} == server_pcs
        first = {k: s for k, s in inbound.items()}

        # The colleague leaves: its slots on the others fall free, nothing else moves.
        await session.remove_participant("colleague")
        for peer in peers:
            if peer.name != "colleague":
                sources = {r["from"] for r in session.routes(peer.name)}
                assert "colleague" not in sources
        assert {(p, k): s for p, k, s in session.inbound_streams()} == {
            k: v for k, v in first.items() if k[0] != "colleague"
        }, "the others' inbound streams (and recordings) carried on"

        # A new colleague takes the free slots: no renegotiation needed for it.
        await peers[2].close()
        newcomer = PartyPeer("colleague2")
        peers[2] = newcomer
        for kind, n in session.slots_needed("colleague2").items():
            for _ in range(n - 1):
                newcomer.pc.addTransceiver(kind, direction="recvonly")
        await newcomer.join(session)
        for peer in peers:
            assert session.slots_needed(peer.name) == {"audio": 3, "video": 3}
        await all_see_all(session, peers)
    assert errors.errors == []
