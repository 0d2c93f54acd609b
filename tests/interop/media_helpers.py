"""Shared helpers for media interop tests: aiortc client peers and fakes.

The pre-encoded sources (keyframes only on request) live in
server.bench.source, shared with the benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.bench import source
from server.bench.source import PacketSourceTrack
from server.media import passthrough
from server.media.hub import MediaSession

VIDEO_TB, AUDIO_TB = source.VIDEO_TB, source.AUDIO_TB


@dataclass
class Received:
    """What a client decoded on one incoming track."""

    frames: int = 0
    first_at: float | None = None
    last_pts: int | None = None
    max_step: int = 0
    non_increasing: int = 0
    types: set[str] = field(default_factory=set)


class ClientPeer:
    """An ordinary (decoding) aiortc peer publishing PacketSourceTracks."""

    def __init__(
        self,
        name: str,
        *,
        video: bool = True,
        audio: bool = True,
        direction: str = "sendrecv",
        bundle_policy: RTCBundlePolicy = RTCBundlePolicy.MAX_BUNDLE,
    ) -> None:
        self.name = name
        self.answer_sdp: str | None = None
        # MAX_BUNDLE like browsers in effect; aiortc's BALANCED breaks a 2nd video m-line
        config = RTCConfiguration(iceServers=[], bundlePolicy=bundle_policy)
        self.pc = RTCPeerConnection(config)
        self.sources: dict[str, PacketSourceTrack] = {}
        self.received: dict[str, Received] = {}
        self.changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        for kind, wanted in (("audio", audio), ("video", video)):
            if wanted:
                track = self.sources[kind] = PacketSourceTrack(kind)
                sender = self.pc.addTransceiver(track, direction=direction).sender
                passthrough.on_keyframe_request(sender, track.request_keyframe)
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        # A second track of a kind (the document camera) is "video:1", and so on.
        key, n = track.kind, 0
        while key in self.received:
            n += 1
            key = f"{track.kind}:{n}"
        stats = self.received[key] = Received()
        self._tasks.append(asyncio.create_task(self._consume(track, stats)))

    async def _consume(self, track: MediaStreamTrack, stats: Received) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            stats.types.add(type(frame).__name__)
            stats.frames += 1
            if stats.first_at is None:
                stats.first_at = time.monotonic()
            if frame.pts is not None:
                if stats.last_pts is not None:
                    step = frame.pts - stats.last_pts
                    stats.max_step = max(stats.max_step, step)
                    stats.non_increasing += step <= 0
                stats.last_pts = frame.pts
            async with self.changed:
                self.changed.notify_all()

    def frames(self, kind: str) -> int:
        r = self.received.get(kind)
        return r.frames if r else 0

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer_sdp: str) -> None:
        self.answer_sdp = answer_sdp
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    async def join(self, session: MediaSession, participant_id: str | None = None) -> float:
        """Offer, have the server answer, apply the answer; returns when accept_offer began."""
        offer = await self.offer()
        started = time.monotonic()
        answer = await session.accept_offer(participant_id or self.name, offer, [])
        await self.accept(answer)
        return started

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``predicate()`` holds after some decoded frame (or raise TimeoutError)."""
        async with asyncio.timeout(within):
            async with self.changed:
                await self.changed.wait_for(predicate)

    async def wait_frames(self, kind: str, count: int, within: float = 10.0) -> None:
        await self.wait_for(lambda: self.frames(kind) >= count, within)

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class FakePacketTrack(MediaStreamTrack):
    """A stand-in for a passthrough remote track, fed by the test."""

    def __init__(self, kind: str = "video") -> None:
        super().__init__()
        self.kind = kind
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue()

    def feed(self, packet: av.Packet | None) -> None:
        self._queue.put_nowait(packet)

    async def recv(self) -> av.Packet:
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet


def video_packet(pts: int, keyframe: bool, size: int = 100) -> av.Packet:
    """A fake VP8 packet whose keyframe bit says ``keyframe``."""
    data = bytes([0x00 if keyframe else 0x01]) + bytes(size - 1)
    return passthrough.make_packet(data, pts, "video")


def audio_packet(pts: int, size: int = 60) -> av.Packet:
    return passthrough.make_packet(bytes(size), pts, "audio")


async def drain_until(
    condition: asyncio.Condition, predicate: Callable[[], bool], within: float = 5.0
) -> None:
    """Wait on ``condition`` until ``predicate()`` holds."""
    async with asyncio.timeout(within):
        async with condition:
            await condition.wait_for(predicate)


class TapCounter:
    """A tap recording packets; ``await wait(n)`` until it has seen ``n`` of them."""

    def __init__(self) -> None:
        self.packets: list[av.Packet] = []
        self.arrivals: list[float] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def count(self) -> int:
        return len(self.packets)

    def __call__(self, packet: av.Packet, arrival: float) -> None:
        self.packets.append(packet)
        self.arrivals.append(arrival)
        for n, future in self._waiters:
            if len(self.packets) >= n and not future.done():
                future.set_result(None)

    async def wait(self, n: int, within: float = 5.0) -> None:
        if len(self.packets) >= n:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((n, future))
        async with asyncio.timeout(within):
            await future


class UpstreamCounter:
    """A fake ``request_upstream``: counts PLIs; ``await wait(n)`` until ``n`` were sent."""

    def __init__(self, known_ssrcs: int = 1) -> None:
        self.calls = 0
        self.times: list[float] = []
        self.known_ssrcs = known_ssrcs
        self._changed = asyncio.Event()

    def __call__(self) -> int:
        self.calls += 1
        self.times.append(time.monotonic())
        self._changed.set()
        return self.known_ssrcs

    async def wait(self, n: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self.calls < n:
                self._changed.clear()
                await self._changed.wait()
