"""TrackWriter: real VP8/Opus packets remuxed to WebM, read back and decoded with PyAV."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import av
import pytest

from recording.manifest import media_duration
from recording.webm import TrackClock, TrackWriter, vp8_keyframe_size
from tests.unit.recording_media import (
    AUDIO_TICKS,
    FPS,
    HEIGHT,
    VIDEO_TICKS,
    WIDTH,
    cluster_times,
    decoded_times,
    opus_packets,
    vp8_packets,
)

ORIGIN = 1000.0  # a monotonic time; arrivals are given relative to it
FRAME = 1 / FPS


def write_video(
    path: Path, timestamps: list[int], *, start: float = 0.25, clock: TrackClock | None = None
) -> TrackWriter:
    writer = TrackWriter(path, "video", clock or TrackClock(ORIGIN))
    for i, ((data, key), ts) in enumerate(zip(vp8_packets(), timestamps, strict=False)):
        writer.write(data, ts, key, ORIGIN + start + i * FRAME)
    writer.close()
    return writer


def write_audio(
    path: Path, timestamps: list[int], *, start: float = 0.25, clock: TrackClock | None = None
) -> TrackWriter:
    writer = TrackWriter(path, "audio", clock or TrackClock(ORIGIN))
    for i, (data, ts) in enumerate(zip(opus_packets(), timestamps, strict=False)):
        writer.write(data, ts, False, ORIGIN + start + i * 0.02)
    writer.close()
    return writer


def test_vp8_keyframe_size_is_read_from_the_frame_header() -> None:
    packets = vp8_packets()
    assert packets[0][1] is True
    assert vp8_keyframe_size(packets[0][0]) == (WIDTH, HEIGHT)
    assert vp8_keyframe_size(packets[1][0]) is None  # an interframe
    assert vp8_keyframe_size(b"\x00\x00\x00garbage!") is None


def test_video_decodes_frame_for_frame_with_true_duration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n = len(vp8_packets())
    path = tmp_path / "v.webm"
    with caplog.at_level(logging.WARNING):
        writer = write_video(path, [3_000_000 + i * VIDEO_TICKS for i in range(n)])
    assert "not used" not in caplog.text  # PyAV names muxer options it did not consume
    stats = writer.stats()
    assert (stats.packets, stats.dropped, stats.rebased) == (n, 0, 0)
    assert stats.duration == pytest.approx(n / FPS, abs=FRAME)
    assert stats.bytes == path.stat().st_size > 0
    times = decoded_times(path)
    assert len(times) == n
    assert times[0] == pytest.approx(0.25, abs=0.002)
    assert times[-1] - times[0] == pytest.approx((n - 1) / FPS, abs=FRAME)
    assert media_duration(path) == pytest.approx(n / FPS, abs=FRAME)
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.name, ctx.width, ctx.height) == ("vp8", WIDTH, HEIGHT)


def test_clusters_span_at_most_the_cluster_time(tmp_path: Path) -> None:
    n = len(vp8_packets(150, 150))
    path = tmp_path / "v.webm"
    with TrackWriter(path, "video", TrackClock(ORIGIN), cluster_seconds=0.5) as writer:
        for i, (data, key) in enumerate(vp8_packets(150, 150)):  # one keyframe only
            writer.write(data, i * VIDEO_TICKS, key, ORIGIN + i * FRAME)
            if i == 75:  # 2.5 s in, file still open: the closed clusters are on disk
                assert cluster_times(path) == [0, 533, 1067, 1600]  # the 5th is still open
    starts = cluster_times(path)
    assert len(starts) >= 9
    steps = [b - a for a, b in itertools.pairwise(starts)]
    # a cluster is written when the first frame past the limit arrives (+1 ms rounding)
    assert max(steps) <= 500 + 1000 / FPS + 1
    assert len(decoded_times(path)) == n


def test_opus_track_has_a_codec_header_and_decodes(tmp_path: Path) -> None:
    n = len(opus_packets())
    path = tmp_path / "a.webm"
    writer = write_audio(path, [77 + i * AUDIO_TICKS for i in range(n)])
    assert writer.stats().packets == n
    assert writer.stats().duration == pytest.approx(n * 0.02)
    with av.open(str(path)) as container:
        head = container.streams.audio[0].codec_context.extradata
    assert head[:8] == b"OpusHead"
    version, channels = head[8], head[9]
    pre_skip = int.from_bytes(head[10:12], "little")
    rate = int.from_bytes(head[12:16], "little")
    gain, family = int.from_bytes(head[16:18], "little"), head[18]
    assert (version, channels, rate, gain, family) == (1, 2, 48_000, 0, 0)
    assert pre_skip in (0, 312)
    times = decoded_times(path)
    assert len(times) == n
    assert times[-1] - times[0] == pytest.approx((n - 1) * 0.02, abs=0.02)


def test_backward_step_and_forward_jump_keep_the_duration(tmp_path: Path) -> None:
    n = len(vp8_packets())
    video_ts = [i * VIDEO_TICKS for i in range(n)]
    for i in range(50, n):
        video_ts[i] -= 2 * VIDEO_TICKS + 90  # a publisher restart steps back 2 frames + 1 ms
    for i in range(100, n):
        video_ts[i] += 60 * 90_000  # and later jumps 60 s ahead
    video = write_video(tmp_path / "v.webm", video_ts)
    assert video.stats().rebased == 2
    times = decoded_times(tmp_path / "v.webm")
    assert len(times) == n
    assert all(b > a for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] == pytest.approx((n - 1) / FPS, abs=FRAME)
    assert media_duration(tmp_path / "v.webm") == pytest.approx(n / FPS, abs=FRAME)

    m = len(opus_packets())
    audio_ts = [i * AUDIO_TICKS for i in range(m)]
    for i in range(60, m):
        audio_ts[i] -= 48_000  # one second back
    for i in range(120, m):
        audio_ts[i] += 60 * 48_000
    audio = write_audio(tmp_path / "a.webm", audio_ts)
    assert audio.stats().rebased == 2
    assert audio.stats().duration == pytest.approx(m * 0.02, abs=0.02)
    assert media_duration(tmp_path / "a.webm") == pytest.approx(m * 0.02, abs=0.02)


def test_a_real_pause_keeps_its_wall_clock_length(tmp_path: Path) -> None:
    """A jump that the arrival times confirm (the publisher was gone 5 s) stays in the file."""
    path = tmp_path / "v.webm"
    with TrackWriter(path, "video", TrackClock(ORIGIN)) as writer:
        for i, (data, key) in enumerate(vp8_packets()):
            pause = 5.0 if i >= 75 else 0.0
            writer.write(data, round((i * FRAME + pause) * 90_000), key, ORIGIN + i * FRAME + pause)
    assert writer.stats().rebased == 1
    times = decoded_times(path)
    assert times[-1] - times[0] == pytest.approx(149 * FRAME + 5.0, abs=FRAME)


def test_video_before_the_first_keyframe_is_dropped(tmp_path: Path) -> None:
    packets = vp8_packets()[10:]  # starts mid-GOP: 20 interframes, then a keyframe
    first_key = next(i for i, (_, key) in enumerate(packets) if key)
    path = tmp_path / "v.webm"
    writer = TrackWriter(path, "video", TrackClock(ORIGIN))
    for i, (data, key) in enumerate(packets):
        assert writer.needs_keyframe == (i <= first_key)
        written = writer.write(data, i * VIDEO_TICKS, key, ORIGIN + i * FRAME)
        assert written == (i >= first_key)
        assert path.exists() == (i >= first_key)
    stats = writer.close()
    assert (stats.dropped, stats.packets) == (first_key, len(packets) - first_key)
    assert stats.first_pts == pytest.approx(first_key * FRAME, abs=0.001)
    assert len(decoded_times(path)) == stats.packets


def test_audio_and_video_of_one_participant_share_a_time_line(tmp_path: Path) -> None:
    clock = TrackClock(ORIGIN)
    n = len(vp8_packets())
    write_video(tmp_path / "v.webm", [i * VIDEO_TICKS for i in range(n)], start=0.3, clock=clock)
    m = len(opus_packets())
    audio_ts = [9 + i * AUDIO_TICKS for i in range(m)]
    write_audio(tmp_path / "a.webm", audio_ts, start=0.92, clock=clock)
    video_first = decoded_times(tmp_path / "v.webm")[0]
    audio_first = decoded_times(tmp_path / "a.webm")[0]
    assert video_first == pytest.approx(0.3, abs=0.04)
    assert audio_first == pytest.approx(0.92, abs=0.04)
    assert (audio_first - video_first) == pytest.approx(0.62, abs=0.04)


def test_a_writer_without_packets_leaves_no_file(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path / "v.webm", "video")
    assert writer.needs_keyframe
    stats = writer.close()
    assert (stats.packets, stats.bytes, stats.first_pts) == (0, 0, None)
    assert not (tmp_path / "v.webm").exists()
    assert not writer.needs_keyframe
    with pytest.raises(ValueError, match="closed"):
        writer.write(vp8_packets()[0][0], 0, True, ORIGIN)
