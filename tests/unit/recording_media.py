"""Real VP8 / Opus packets for the recording tests (encoded once per process with PyAV)."""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from functools import cache
from pathlib import Path

import av

from recording.webm import TrackWriter

FPS = 30
WIDTH, HEIGHT = 160, 120
VIDEO_TICKS = 90_000 // FPS  # RTP ticks per video frame
AUDIO_TICKS = 960  # 20 ms at 48 kHz


@cache
def vp8_packets(frames: int = 150, gop: int = 30) -> tuple[tuple[bytes, bool], ...]:
    """`frames` encoded 320x240 VP8 frames (moving pattern), keyframe every `gop` frames."""
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    enc.time_base = Fraction(1, FPS)
    enc.framerate = FPS
    enc.gop_size = gop
    enc.bit_rate = 400_000
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[tuple[bytes, bool]] = []
    for i in range(frames):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for p, plane in enumerate(frame.planes):
            row = bytes((x * 2 + i * 5 + p * 60) % 256 for x in range(plane.line_size))
            plane.update(row * plane.height)
        frame.pts = i
        out += [(bytes(pkt), pkt.is_keyframe) for pkt in enc.encode(frame)]
    out += [(bytes(pkt), pkt.is_keyframe) for pkt in enc.encode(None)]
    assert len(out) == frames
    return tuple(out)


@cache
def opus_packets(count: int = 150) -> tuple[bytes, ...]:
    """`count` 20 ms stereo Opus packets of a 440 Hz tone."""
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate = 48_000
    enc.layout = "stereo"
    enc.format = "s16"
    enc.time_base = Fraction(1, 48_000)
    enc.bit_rate = 48_000
    out: list[bytes] = []
    for i in range(count + 1):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        phase = (2 * math.pi * 440 * (i * 960 + j) / 48_000 for j in range(960))
        frame.planes[0].update(b"".join(struct.pack("<hh", v, v) for v in map(_tone, phase)))
        frame.sample_rate = 48_000
        frame.pts = i * 960
        out += [bytes(pkt) for pkt in enc.encode(frame)]
    out += [bytes(pkt) for pkt in enc.encode(None)]
    return tuple(out[:count])


def _tone(phase: float) -> int:
    return int(6000 * math.sin(phase))


def decoded_times(path: Path) -> list[float]:
    """Decode every frame of the file's only stream (errors raise); their times in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams[0]
        return [float(frame.time) for frame in container.decode(stream)]


def decode_cut_file(path: Path) -> list[float]:
    """Decode a file that may end mid-cluster: demux until the data stops, decode all.

    Demuxing stops quietly at the cut; a frame that fails to decode raises.
    """
    times: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams[0]
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except (StopIteration, av.error.InvalidDataError, av.error.EOFError):
                break
            times += [float(frame.time) for frame in stream.codec_context.decode(packet)]
    return times


def cluster_times(path: Path) -> list[int]:
    """Timestamps (ms) of the Matroska clusters in a file, read from its EBML."""
    data = path.read_bytes()

    def vint(i: int, marker: bool = False) -> tuple[int, int]:
        first, length, mask = data[i], 1, 0x80
        while not first & mask:
            mask >>= 1
            length += 1
        value = first if marker else first & (mask - 1)
        for k in range(1, length):
            value = (value << 8) | data[i + k]
        return value, length

    def element(i: int) -> tuple[int, int, int]:
        eid, n = vint(i, marker=True)
        size, m = vint(i + n)
        return eid, size, i + n + m

    _, size, body = element(0)  # EBML header
    _, _, i = element(body + size)  # Segment (size may be unknown): descend
    times = []
    while i < len(data):
        eid, size, body = element(i)
        if eid == 0x1F43B675:  # Cluster: its first child is the Timestamp
            _, tsize, tbody = element(body)
            times.append(int.from_bytes(data[tbody : tbody + tsize], "big"))
        i = body + size
    return times


def feed_video(writer: TrackWriter, arrival: float, count: int = 60, ts0: int = 0) -> None:
    """Write `count` VP8 frames arriving at 30 fps from `arrival` (monotonic seconds)."""
    for i, (data, key) in enumerate(vp8_packets()[:count]):
        writer.write(data, ts0 + i * VIDEO_TICKS, key, arrival + i / FPS)


def feed_audio(writer: TrackWriter, arrival: float, count: int = 100, ts0: int = 0) -> None:
    """Write `count` 20 ms Opus packets from `arrival`."""
    for i, data in enumerate(opus_packets()[:count]):
        writer.write(data, ts0 + i * AUDIO_TICKS, False, arrival + i * 0.02)
