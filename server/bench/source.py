"""Pre-encoded media sources for load generation and tests.

Publishing pre-encoded packets costs the client almost nothing (no encoder),
so a benchmark measures the server. The VP8 clip is one stream
`[K0, P1 .. P(2n-1)]` encoded once from two cycles of the same n-frame
content: playback runs through it and then loops over the second cycle; a
keyframe request restarts at K0, so keyframes appear only when asked
(MEDIA_NOTES pitfall 2: a source that makes keyframes by itself hides
keyframe-forwarding bugs). Packets are paced in real time, not in bursts
(pitfall 9).
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.media import passthrough

FPS = 30
VIDEO_TB = fractions.Fraction(1, 90000)
AUDIO_TB = fractions.Fraction(1, 48000)
OPUS_SAMPLES = 960  # 20 ms at 48 kHz


def is_vp8_keyframe(data: bytes) -> bool:
    """Bit 0 of the VP8 frame tag is 0 on a keyframe."""
    return bool(data) and not data[0] & 0x01


@dataclass(frozen=True)
class EncodedClip:
    """Pre-encoded frames; `loop_start` is where playback wraps to."""

    frames: tuple[bytes, ...]
    keyframe: tuple[bool, ...]
    loop_start: int

    @property
    def bytes_per_loop(self) -> int:
        return sum(len(f) for f in self.frames[self.loop_start :])


def _pattern(frame: av.VideoFrame, index: int, cycle: int) -> None:
    """A moving ramp with a changing tint: cheap to make, real work to encode."""
    stride = frame.planes[0].line_size
    ramp = bytes(range(256)) * (stride // 256 + 2)
    shift = 4 * (index % cycle)
    rows = (ramp[(2 * y + shift) % 256 :][:stride] for y in range(frame.height))
    frame.planes[0].update(b"".join(rows))
    frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
    frame.planes[2].update(bytes([(2 * (index % cycle)) % 256]) * frame.planes[2].buffer_size)


@functools.cache
def vp8_clip(
    width: int = 320, height: int = 240, bitrate: int = 300_000, cycle: int = 60
) -> EncodedClip:
    """A moving pattern: one keyframe first and inter frames only after it."""
    return _encode_vp8(width, height, bitrate, cycle, lambda f, i: _pattern(f, i, cycle))


def _encode_vp8(
    width: int, height: int, bitrate: int, cycle: int, paint: Callable[[av.VideoFrame, int], None]
) -> EncodedClip:
    """Encode two cycles of content as `[K0, P1 .. P(2n-1)]` (encoded once per clip)."""
    cc = av.CodecContext.create("libvpx", "w")
    cc.width, cc.height, cc.pix_fmt = width, height, "yuv420p"
    cc.time_base = fractions.Fraction(1, FPS)
    cc.framerate = FPS
    cc.bit_rate = bitrate
    cc.gop_size = 100_000
    cc.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "auto-alt-ref": "0",
        "kf-max-dist": "100000",
        # No entropy state carried between frames: the loop point (frame 2n-1
        # followed by frame n) then decodes cleanly even in strict decoders.
        "error-resilient": "1",
        "minrate": str(bitrate // 2),
        "maxrate": str(bitrate * 2),
    }
    out: list[bytes] = []
    for i in range(2 * cycle):
        frame = av.VideoFrame(width, height, "yuv420p")
        paint(frame, i)
        frame.pts = i
        out.extend(bytes(p) for p in cc.encode(frame))
    out.extend(bytes(p) for p in cc.encode(None))
    keys = tuple(is_vp8_keyframe(d) for d in out)
    if len(out) != 2 * cycle or not keys[0] or any(keys[1:]):
        raise RuntimeError("libvpx did not produce one keyframe followed by inter frames")
    return EncodedClip(tuple(out), keys, cycle)


@functools.cache
def flash_clip(width: int = 160, height: int = 120, cycle: int = 30) -> EncodedClip:
    """Dark frames with one white flash at the start of every cycle (1 s at 30 fps)."""
    return _encode_vp8(width, height, 300_000, cycle, lambda f, i: _flash(f, i % cycle == 0))


def _flash(frame: av.VideoFrame, white: bool) -> None:
    frame.planes[0].update(bytes([235 if white else 30]) * frame.planes[0].buffer_size)
    frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
    frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)


@functools.cache
def click_clip() -> EncodedClip:
    """One second of silence with a 10 ms click at its start."""
    return _encode_opus(1, lambda n: 20000 if n < 480 and n % 8 < 4 else 0)


@functools.cache
def opus_clip(seconds: int = 2, tone_hz: float = 440.0) -> EncodedClip:
    """A stereo tone as 20 ms Opus packets (encoded once)."""
    return _encode_opus(seconds, lambda n: int(8000 * math.sin(2 * math.pi * tone_hz * n / 48000)))


def _encode_opus(seconds: int, sample: Callable[[int], int]) -> EncodedClip:
    """Encode `seconds` of stereo audio whose sample n is `sample(n)`."""
    cc = av.CodecContext.create("libopus", "w")
    cc.sample_rate, cc.layout, cc.format = 48000, "stereo", "s16"
    cc.bit_rate = 64000
    cc.time_base = AUDIO_TB
    out: list[bytes] = []
    for i in range(seconds * 50):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=OPUS_SAMPLES)
        t0 = i * OPUS_SAMPLES
        values = (sample(t0 + n) for n in range(OPUS_SAMPLES))
        frame.planes[0].update(b"".join(struct.pack("<hh", v, v) for v in values))
        frame.sample_rate, frame.pts, frame.time_base = 48000, t0, AUDIO_TB
        out.extend(bytes(p) for p in cc.encode(frame))
    # Exactly 50 packets a second so that a loop keeps its phase (the encoder's
    # look-ahead tail, flushed at the end, is dropped).
    out = out[: seconds * 50]
    return EncodedClip(tuple(out), (True,) * len(out), 0)


class Pacer:
    """A start time shared by tracks that must stay in step (audio and video)."""

    def __init__(self) -> None:
        self.t0: float | None = None


class PacketSourceTrack(MediaStreamTrack):
    """Pre-encoded packets paced in real time; video keyframes only on request.

    With `phase_locked`, a requested keyframe waits for the start of the next
    content cycle, so the content stays in step with the clock (for sync tests).
    """

    def __init__(
        self,
        kind: str,
        clip: EncodedClip | None = None,
        *,
        pacer: Pacer | None = None,
        phase_locked: bool = False,
    ) -> None:
        super().__init__()
        self.kind = kind
        self._clip = clip or (vp8_clip() if kind == "video" else opus_clip())
        self._pacer = pacer or Pacer()
        self._phase_locked = phase_locked
        self._interval = 1 / FPS if kind == "video" else OPUS_SAMPLES / 48000
        self._ticks = 90000 // FPS if kind == "video" else OPUS_SAMPLES
        self._index = 0
        self._count = 0
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
        if self._pacer.t0 is None:
            self._pacer.t0 = loop.time()
        delay = self._pacer.t0 + self._count * self._interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing is the workload, not synchronisation
        clip = self._clip
        at_cycle_start = self._index in (0, clip.loop_start)
        if self._want_keyframe and (at_cycle_start or not self._phase_locked):
            self._want_keyframe = False
            self._index = 0
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


class DecodeErrorCounter(passthrough.DecodeObserver):
    """Counts failed decodes of every decoding receiver in this process, at the
    decoder itself (not from log text, which a quiet log level would hide):
    a decode that raised, or a video frame that gave no picture."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def decoded(self, kind: str, frames: list[Any]) -> None:
        super().decoded(kind, frames)
        if not frames and kind == "video":
            self.errors.append("video: no picture")

    def failed(self, kind: str, exc: BaseException) -> None:
        super().failed(kind, exc)
        self.errors.append(f"{kind}: {exc}")

    def __enter__(self) -> DecodeErrorCounter:
        passthrough.observe_decoding(self)
        return self

    def __exit__(self, *exc: object) -> None:
        passthrough.stop_observing(self)
