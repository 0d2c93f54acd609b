"""Remux encoded VP8 / Opus frames into one WebM file per track (no decode, no encode).

Durability: the Matroska muxer keeps the open cluster in memory and writes it
when the next one starts, so the file on disk is readable up to its last closed
cluster. Clusters are limited to `cluster_seconds` (muxer option
`cluster_time_limit`, milliseconds) and the muxer flushes its I/O after every
packet (`flush_packets=1`), so a SIGKILL loses at most about one cluster.

Timestamps: `write` takes the RTP-clock timestamp (90 kHz video, 48 kHz audio),
unwrapped by the sender. The file keeps its steps, except that a step backwards
or a jump forwards of more than `max_jump_seconds` (a publisher restart, or
aiortc's treatment of a backward step as a 32-bit wrap) is re-based: the packet
continues from the previous one plus the larger of one nominal frame interval
and the arrival-time gap, so durations and the wall clock stay true.

Alignment: the first packet's pts is its arrival time minus `TrackClock.origin`,
so the audio and video files of one participant that share a clock start on
one common time line.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from recording.canonical import create_private

Kind = Literal["video", "audio"]

CLOCK_RATE: dict[str, int] = {"video": 90_000, "audio": 48_000}
NOMINAL_FRAME: dict[str, int] = {"video": 3_000, "audio": 960}  # 30 fps; 20 ms Opus
VP8_START_CODE = b"\x9d\x01\x2a"


@dataclass
class TrackClock:
    """The common time origin (a `time.monotonic()` value) of one participant's tracks."""

    origin: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class TrackStats:
    """What a closed `TrackWriter` wrote. Times are seconds on the track clock."""

    path: str
    kind: str
    packets: int
    dropped: int
    rebased: int
    first_pts: float | None
    last_pts: float | None
    duration: float
    bytes: int
    width: int | None = None
    height: int | None = None


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a VP8 keyframe header, or None when `data` is not one."""
    if len(data) < 10 or data[0] & 1 or data[3:6] != VP8_START_CODE:
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF  # the top two bits are scaling
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


class TrackWriter:
    """One WebM file holding one track of encoded frames.

    The file is created when the first usable packet arrives: for video that is
    the first keyframe (its header gives the frame size); earlier frames are
    dropped and counted, and `needs_keyframe` says the caller should ask the
    publisher for one. Not thread-safe: one writer belongs to one media task.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: Kind,
        clock: TrackClock | None = None,
        *,
        cluster_seconds: float = 1.0,
        max_jump_seconds: float = 2.0,
    ) -> None:
        if kind not in CLOCK_RATE:
            raise ValueError(f"kind must be 'video' or 'audio', not {kind!r}")
        if cluster_seconds <= 0:
            raise ValueError("cluster_seconds must be above 0")
        self.path = Path(path)
        self.kind: Kind = kind
        self.clock = clock or TrackClock()
        self._rate = CLOCK_RATE[kind]
        self._nominal = NOMINAL_FRAME[kind]
        self._max_jump = round(max_jump_seconds * self._rate)
        self._time_base = Fraction(1, self._rate)
        self._options = {
            "cluster_time_limit": str(round(cluster_seconds * 1000)),
            "flush_packets": "1",
        }
        self._container: av.container.OutputContainer | None = None
        self._closed = False
        self.packets = 0
        self.dropped = 0
        self.rebased = 0
        self.width: int | None = None
        self.height: int | None = None
        self._first_pts = 0
        self._last_pts = 0
        self._last_ts = 0
        self._last_arrival = 0.0

    @property
    def needs_keyframe(self) -> bool:
        """True while a video writer waits for its first keyframe."""
        return self.kind == "video" and self.packets == 0 and not self._closed

    def write(self, data: bytes, timestamp: int, keyframe: bool, arrival: float) -> bool:
        """Mux one encoded frame; False when it was dropped (video before a keyframe)."""
        if self._container is not None:
            delta = timestamp - self._last_ts
            if 0 < delta <= self._max_jump:
                pts = self._last_pts + delta
            else:
                gap = round((arrival - self._last_arrival) * self._rate)
                pts = self._last_pts + max(self._nominal, gap)
                self.rebased += 1
        elif self._start(data, keyframe):
            pts = self._first_pts = max(0, round((arrival - self.clock.origin) * self._rate))
        else:
            self.dropped += 1
            return False
        packet = av.Packet(data)
        packet.time_base = self._time_base
        packet.pts = pts
        packet.dts = pts
        if keyframe:
            packet.is_keyframe = True
        self._container.mux_one(packet)  # type: ignore[union-attr]
        self.packets += 1
        self._last_ts = timestamp
        self._last_pts = pts
        self._last_arrival = arrival
        return True

    def _start(self, data: bytes, keyframe: bool) -> bool:
        """Open the file and its stream for the first usable packet."""
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if self.kind == "video":
            size = vp8_keyframe_size(data) if keyframe else None
            if size is None:
                return False
            self.width, self.height = size
        create_private(self.path)  # libav would create it with the umask's mode
        container = av.open(str(self.path), "w", format="webm", container_options=self._options)
        try:
            if self.kind == "video":
                container.add_mux_stream("vp8", width=self.width, height=self.height)
            else:
                _add_opus_stream(container)
        except BaseException:
            container.close()
            raise
        self._container = container
        return True

    def close(self) -> TrackStats:
        """Finish the file (cues, duration) and return what was written. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._container is not None:
                self._container.close()
                self._container = None  # a later write raises in _start
        return self.stats()

    def stats(self) -> TrackStats:
        """Counters so far (`bytes` is the size on disk now)."""
        written = self.packets > 0
        first = self._first_pts / self._rate if written else None
        last = self._last_pts / self._rate if written else None
        span = (self._last_pts - self._first_pts + self._nominal) / self._rate if written else 0.0
        return TrackStats(
            path=str(self.path),
            kind=self.kind,
            packets=self.packets,
            dropped=self.dropped,
            rebased=self.rebased,
            first_pts=first,
            last_pts=last,
            duration=span,
            bytes=self.path.stat().st_size if self.path.exists() else 0,
            width=self.width,
            height=self.height,
        )

    def __enter__(self) -> TrackWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _add_opus_stream(container: av.container.OutputContainer) -> None:
    """Add an Opus stream that carries an `OpusHead` codec header.

    PyAV's codec-less `add_mux_stream` cannot carry extradata, and Matroska
    then writes an Opus track without CodecPrivate. Opening (never using) a
    libopus encoder context gives the stream its header: "OpusHead", version 1,
    2 channels, pre-skip 312 (also written as CodecDelay), 48 kHz, gain 0,
    mapping family 0.
    """
    stream = container.add_stream("libopus", rate=48_000)
    stream.codec_context.open()
    head = stream.codec_context.extradata or b""
    if not head.startswith(b"OpusHead") or head[9] != 2:
        raise RuntimeError(f"libopus gave no usable OpusHead header: {head.hex()}")
