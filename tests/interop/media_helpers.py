"""Shared helpers for media interop tests: pre-encoded sources and aiortc client peers.

The video source makes keyframes ONLY when asked (MEDIA_NOTES pitfall 2): the
clip is one VP8 stream ``[K0, P1 .. P119]`` encoded once from two cycles of
the same 60-frame content; playback runs 0..119 and then loops 60..119 (the
loop point drifts slightly, which is harmless), and a keyframe request makes
the next frame K0 followed by P1, P2, ... exactly as encoded.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import logging
import math
import struct
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

from server.media import passthrough
from server.media.hub import MediaSession

WIDTH, HEIGHT, FPS = 320, 240, 30
CYCLE = 60  # frames of distinct content (2 s)
VIDEO_TB = fractions.Fraction(1, 90000)
AUDIO_TB = fractions.Fraction(1, 48000)
OPUS_SAMPLES = 960  # 20 ms


@dataclass(frozen=True)
class EncodedClip:
    """Pre-encoded frames; ``loop_start`` is where playback wraps to."""

    frames: tuple[bytes, ...]
    keyframe: tuple[bool, ...]
    loop_start: int


@functools.cache
def vp8_clip() -> EncodedClip:
    """320x240 VP8, one keyframe first and inter frames only after it (encoded once)."""
    cc = av.CodecContext.create("libvpx", "w")
    cc.width, cc.height, cc.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    cc.time_base = fractions.Fraction(1, FPS)
    cc.framerate = FPS
    cc.bit_rate = 300_000
    cc.gop_size = 100_000
    cc.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "auto-alt-ref": "0",
        "kf-max-dist": "100000",
    }
    ramp = bytes(range(256)) * 4
    out: list[bytes] = []
    for i in range(2 * CYCLE):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        stride = frame.planes[0].line_size
        shift = 4 * (i % CYCLE)
        rows = (ramp[(2 * y + shift) % 256 :][:stride] for y in range(HEIGHT))
        frame.planes[0].update(b"".join(rows))
        frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([(2 * (i % CYCLE)) % 256]) * frame.planes[2].buffer_size)
        frame.pts = i
        out.extend(bytes(p) for p in cc.encode(frame))
    out.extend(bytes(p) for p in cc.encode(None))
    keys = tuple(passthrough.is_vp8_keyframe(d) for d in out)
    assert len(out) == 2 * CYCLE and keys[0] and not any(keys[1:]), "unexpected VP8 GOP"
    return EncodedClip(tuple(out), keys, CYCLE)


@functools.cache
def opus_clip() -> EncodedClip:
    """2 s of a 440 Hz stereo tone as 20 ms Opus packets (encoded once)."""
    cc = av.CodecContext.create("libopus", "w")
    cc.sample_rate, cc.layout, cc.format = 48000, "stereo", "s16"
    cc.bit_rate = 64000
    cc.time_base = AUDIO_TB
    out: list[bytes] = []
    for i in range(100):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=OPUS_SAMPLES)
        t0 = i * OPUS_SAMPLES
        samples = (int(8000 * math.sin(2 * math.pi * 440 * (t0 + n) / 48000)) for n in range(960))
        frame.planes[0].update(b"".join(struct.pack("<hh", v, v) for v in samples))
        frame.sample_rate, frame.pts, frame.time_base = 48000, t0, AUDIO_TB
        out.extend(bytes(p) for p in cc.encode(frame))
    out.extend(bytes(p) for p in cc.encode(None))
    return EncodedClip(tuple(out), (True,) * len(out), 0)


class PacketSourceTrack(MediaStreamTrack):
    """Pre-encoded packets paced in real time; video keyframes only on request."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._clip = vp8_clip() if kind == "video" else opus_clip()
        self._interval = 1 / FPS if kind == "video" else OPUS_SAMPLES / 48000
        self._ticks = 90000 // FPS if kind == "video" else OPUS_SAMPLES
        self._index = 0
        self._count = 0
        self._t0: float | None = None
        self._want_keyframe = False
        self.keyframes_sent = 0
        self.keyframe_requests = 0
        self.packets_sent = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._want_keyframe = True

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._t0 is None:
            self._t0 = loop.time()
        delay = self._t0 + self._count * self._interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing is the workload, not synchronisation
        if self._want_keyframe:
            self._want_keyframe = False
            self._index = 0
        clip = self._clip
        data, key = clip.frames[self._index], clip.keyframe[self._index]
        self._index += 1
        if self._index == len(clip.frames):
            self._index = clip.loop_start
        packet = av.Packet(data)
        packet.pts = self._count * self._ticks
        packet.time_base = VIDEO_TB if self.kind == "video" else AUDIO_TB
        self._count += 1
        self.packets_sent += 1
        if key and self.kind == "video":
            self.keyframes_sent += 1
        return packet


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
        self.received[track.kind] = Received()
        self._tasks.append(asyncio.create_task(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        stats = self.received[track.kind]
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


class DecodeErrorCounter(logging.Handler):
    """Counts aiortc's "failed to decode" warnings (only decoding peers can log them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "failed to decode" in message:
            self.errors.append(message)

    def __enter__(self) -> DecodeErrorCounter:
        logging.getLogger("aiortc.rtcrtpreceiver").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("aiortc.rtcrtpreceiver").removeHandler(self)


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
