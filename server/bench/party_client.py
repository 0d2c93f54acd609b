"""N-party participants through the real server (the bench and the interop
tests): a bench Peer that follows `session.participants` like the browser
client does (adds receive-only m-lines and re-offers on its current pc) and
counts frames per m-line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.bench.driver import Peer
from signaling.client import SignalingClient


@dataclass(eq=False)
class PartyPeer(Peer):
    # MAX_BUNDLE like browsers: with aiortc's BALANCED, m-lines added by a
    # renegotiation get transports of their own that the answer never bundles.
    config: RTCConfiguration | None = field(
        default_factory=lambda: RTCConfiguration(
            iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
        )
    )
    per_track: dict[MediaStreamTrack, int] = field(default_factory=dict)

    async def _consume(self, track: MediaStreamTrack) -> None:
        self.per_track[track] = 0
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.decoded[track.kind] += 1
            self.per_track[track] += 1
            if track.kind == "video" and self.first_video is None:
                self.first_video = time.monotonic()
                self.first_video_event.set()
            async with self.progress:
                self.progress.notify_all()

    def frames_on(self, mid: str) -> int:
        for transceiver in self.pc.getTransceivers():
            track = transceiver.receiver.track
            if transceiver.mid == mid and track in self.per_track:
                return self.per_track[track]
        return 0


class Party:
    """One participant: its signaling client (this object reads all its messages)
    and its media peer, renegotiating whenever the server says more m-lines are needed."""

    def __init__(self, name: str, client: SignalingClient, peer: PartyPeer) -> None:
        self.name = name
        self.client = client
        self.peer = peer
        self.messages: list[dict[str, Any]] = []
        self.roster: dict[str, Any] | None = None
        self.changed = asyncio.Condition()
        self.renegotiations = 0
        self._answers: asyncio.Queue[str] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._followers: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            msg = await self.client.inbox.get()
            self.messages.append(msg)
            if msg["type"] == "rtc.answer":
                self._answers.put_nowait(msg["sdp"])
            elif msg["type"] == "session.participants":
                self.roster = msg
                self._followers.add(task := asyncio.create_task(self.follow()))
                task.add_done_callback(self._followers.discard)
            async with self.changed:
                self.changed.notify_all()

    async def wait(self, predicate: Callable[[], bool], within: float = 20) -> None:
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(predicate)

    async def message(self, mtype: str, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for msg in self.messages:
                if msg["type"] == mtype and all(msg.get(k) == v for k, v in match.items()):
                    return msg
            return None

        await self.wait(lambda: found() is not None)
        msg = found()
        assert msg is not None
        self.messages.remove(msg)
        return msg

    async def offer(self) -> None:
        """The first offer, or a re-offer on the same pc once it has an answer."""
        async with self._lock:
            pc = self.peer.pc
            renegotiate = pc.remoteDescription is not None
            self._add_missing()
            await pc.setLocalDescription(await pc.createOffer())
            await self.client.send(
                {"type": "rtc.offer", "sdp": pc.localDescription.sdp, "renegotiate": renegotiate}
            )
            answer = await asyncio.wait_for(self._answers.get(), 30)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            self.renegotiations += renegotiate
        await self.follow()

    def _missing(self) -> dict[str, int]:
        needed = (self.roster or {}).get("needed", {})
        pc = self.peer.pc
        return {
            kind: want - sum(1 for t in pc.getTransceivers() if t.kind == kind)
            for kind, want in needed.items()
        }

    def _add_missing(self) -> None:
        for kind, n in self._missing().items():
            for _ in range(n):
                self.peer.pc.addTransceiver(kind, direction="recvonly")

    async def follow(self) -> None:
        """Re-offer on the current pc when the server says more m-lines are needed
        (not before the first answer: that offer is on its way)."""
        pc = self.peer.pc
        if pc.remoteDescription is None or pc.connectionState in ("closed", "failed"):
            return
        if any(n > 0 for n in self._missing().values()) and not self._lock.locked():
            await self.offer()

    def frames_from(self, source: str, kind: str) -> int:
        """Frames decoded on the m-line the server's routes say carries `source`'s `kind`."""
        for route in (self.roster or {}).get("routes", []):
            if route["from"] == source and route["track"] == kind:
                return self.peer.frames_on(route["mid"])
        return 0

    async def wait_for_frames(self, source: str, kind: str, count: int) -> None:
        """Until `count` frames of `source`'s `kind` have arrived on their m-line."""
        try:
            async with asyncio.timeout(25), self.peer.progress:
                await self.peer.progress.wait_for(lambda: self.frames_from(source, kind) >= count)
        except TimeoutError:
            counts = {t.mid: self.peer.frames_on(t.mid) for t in self.peer.pc.getTransceivers()}
            raise AssertionError(
                f"{self.name}: {self.frames_from(source, kind)} of {count} {kind} frames from"
                f" {source}; routes {(self.roster or {}).get('routes')}; frames per mid {counts}"
            ) from None

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.peer.close()
