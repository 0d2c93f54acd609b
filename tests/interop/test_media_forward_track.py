"""InboundStream / ForwardTrack at unit level: real objects, fake passthrough track."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiortc.mediastreams import MediaStreamError

from server.media.forwarding import ForwardTrack, InboundStream
from server.media.stats import RateMeter
from tests.interop.media_helpers import (
    FakePacketTrack,
    TapCounter,
    UpstreamCounter,
    audio_packet,
    video_packet,
)

FRAME = 3000  # 30 fps at 90 kHz


def make_stream(
    kind: str = "video", interval_ms: int = 0, known_ssrcs: int = 1
) -> tuple[FakePacketTrack, InboundStream, UpstreamCounter, TapCounter]:
    track = FakePacketTrack(kind)
    upstream = UpstreamCounter(known_ssrcs)
    stream = InboundStream(track, kind, request_upstream=upstream, keyframe_interval_ms=interval_ms)
    counter = TapCounter()
    stream.add_tap(counter)
    stream.start()
    return track, stream, upstream, counter


async def feed(
    track: FakePacketTrack, counter: TapCounter, pts: list[int], keyframes: set[int]
) -> None:
    """Feed video packets (``keyframes`` = indexes into ``pts``) and wait until dispatched."""
    for i, p in enumerate(pts):
        track.feed(video_packet(p, i in keyframes))
    await counter.wait(counter.count + len(pts))


async def drain(track: ForwardTrack) -> list[tuple[int, bool]]:
    """Everything queued on ``track`` as (output pts, keyframe)."""
    out = []
    while track.queued:
        packet = await track.recv()
        out.append((packet.pts, packet.is_keyframe))
    return out


async def test_stalled_subscriber_is_bounded_and_resumes_at_keyframe() -> None:
    track, stream, upstream, counter = make_stream()
    sub = ForwardTrack("video", max_frames=10)
    sub.attach(stream)
    assert upstream.calls == 1, "a new subscriber must ask for a keyframe"

    # Nobody consumes: K at 0, 39 inter frames, K at 40, then 5 inter frames.
    await feed(track, counter, [i * FRAME for i in range(46)], {0, 40})
    assert sub.max_queue_seen <= 10, f"queue grew to {sub.max_queue_seen}"
    assert sub.stalls == 1
    assert upstream.calls == 2, "the stall must ask the publisher for a keyframe"
    # 10 queued + the one that overflowed + 29 inter frames before the next keyframe
    assert sub.frames_dropped == 40
    out = await drain(sub)
    assert out[0] == (0, True), "resume must start at the keyframe"
    assert [pts for pts, _ in out] == [i * FRAME for i in range(6)]
    assert not any(key for _, key in out[1:])

    # A long stall with regular keyframes: the bound holds throughout.
    await feed(track, counter, [(46 + i) * FRAME for i in range(1000)], set(range(0, 1000, 30)))
    assert sub.max_queue_seen <= 10 and sub.queued <= 10
    out = await drain(sub)
    assert out[0][1], "after a stall the subscriber restarts at a keyframe"
    await stream.stop()


async def test_unattached_track_drops_until_keyframe() -> None:
    track, stream, upstream, counter = make_stream()
    sub = ForwardTrack("video", keyframe_retry_s=0)
    sub.attach(stream)
    await feed(track, counter, [0, FRAME, 2 * FRAME], set())
    assert sub.queued == 0 and sub.frames_dropped == 3
    assert upstream.calls >= 2, "waiting for a keyframe must re-ask after keyframe_retry_s"
    await feed(track, counter, [3 * FRAME, 4 * FRAME], {0})
    assert await drain(sub) == [(0, True), (FRAME, False)]
    await stream.stop()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # backward step of 2000 ticks: continue at last + one frame
        ([0, 3000, 6000, 4000, 7000], [0, 3000, 6000, 9000, 12000]),
        # forward jump of 10 s: same
        ([0, 3000, 6000, 906000, 909000], [0, 3000, 6000, 9000, 12000]),
        # aiortc's 32-bit "wrap" on a backward step (pitfall 3)
        ([0, 3000, (1 << 32) - 1000, (1 << 32) + 2000], [0, 3000, 6000, 9000]),
        # a 0.5 s gap (lost frames) is real time and is kept
        ([0, 3000, 48000, 51000], [0, 3000, 48000, 51000]),
        # equal timestamps would merge two frames at the far end
        ([0, 3000, 3000, 6000], [0, 3000, 6000, 9000]),
    ],
)
async def test_timestamps_are_rebased(source: list[int], expected: list[int]) -> None:
    track, stream, _, counter = make_stream()
    sub = ForwardTrack("video")
    sub.attach(stream)
    await feed(track, counter, source, set(range(len(source))))
    assert [pts for pts, _ in await drain(sub)] == expected
    await stream.stop()


async def test_source_switch_continues_timeline_and_asks_new_source() -> None:
    track1, stream1, _, counter1 = make_stream()
    sub = ForwardTrack("video")
    sub.attach(stream1)
    await feed(track1, counter1, [50_000 + i * FRAME for i in range(10)], {0})
    first = await drain(sub)
    assert first[-1][0] == 9 * FRAME

    # Rejoin: a new inbound stream whose timestamps start again at 0.
    track2, stream2, upstream2, counter2 = make_stream()
    sub.attach(stream2)
    assert stream1.subscribers == () and stream2.subscribers == (sub,)
    assert upstream2.calls == 1, "switching source must ask the new source for a keyframe"
    await feed(track2, counter2, [0, FRAME, 2 * FRAME, 3 * FRAME], {1})
    out = await drain(sub)
    assert out == [(10 * FRAME, True), (11 * FRAME, False), (12 * FRAME, False)]
    assert sub.rebases == 1
    await stream1.stop()
    await stream2.stop()


async def test_lagging_consumer_catches_up_at_next_keyframe() -> None:
    track, stream, upstream, counter = make_stream()
    sub = ForwardTrack("video", catch_up_frames=6)
    sub.attach(stream)
    await feed(track, counter, [i * FRAME for i in range(9)], {0})
    assert sub.queued == 9
    # The consumer starts late: it asks for a keyframe to skip the backlog...
    assert (await sub.recv()).is_keyframe and upstream.calls == 2
    # ...and the backlog is dropped when that keyframe arrives.
    await feed(track, counter, [9 * FRAME, 10 * FRAME], {0})
    assert sub.catch_ups == 1 and sub.frames_dropped == 8
    assert await drain(sub) == [(9 * FRAME, True), (10 * FRAME, False)]
    await stream.stop()


async def test_keyframe_requests_are_rate_limited_and_coalesced() -> None:
    _, stream, upstream, _ = make_stream(interval_ms=300)
    started = time.monotonic()
    for _ in range(5):
        stream.request_keyframe()
    assert upstream.calls == 1
    await upstream.wait(2, within=3)
    assert upstream.times[1] - started >= 0.28, "second PLI must wait for the interval"
    assert stream.keyframe_requests == 2 and stream.keyframe_requests_coalesced == 3
    await stream.stop()


async def test_a_joining_subscriber_does_not_wait_out_the_interval() -> None:
    """The keyframe asked for last went by before the newcomer attached: it
    gets its own request at once; while one is on its way, it waits for that."""
    track, stream, upstream, counter = make_stream(interval_ms=60_000)
    first = ForwardTrack("video")
    first.attach(stream)
    assert upstream.calls == 1
    await feed(track, counter, [0, FRAME], {0})  # the keyframe arrives
    late = ForwardTrack("video")
    late.attach(stream)
    assert upstream.calls == 2, "the newcomer must not wait for the interval"
    third = ForwardTrack("video")
    third.attach(stream)  # a keyframe is on its way: no extra request
    first.request_keyframe()  # loss reports still keep the interval
    assert upstream.calls == 2 and stream.keyframe_requests == 2
    await feed(track, counter, [2 * FRAME], {0})
    assert [k for _, k in await drain(late)] == [True]
    assert [k for _, k in await drain(third)] == [True]
    await stream.stop()


async def test_request_before_first_packet_is_retried_on_packet() -> None:
    track, stream, upstream, counter = make_stream(known_ssrcs=0)
    stream.request_keyframe()
    assert upstream.calls == 1 and stream.keyframe_requests == 0
    upstream.known_ssrcs = 1
    await feed(track, counter, [0], set())
    assert upstream.calls == 2 and stream.keyframe_requests == 1
    await stream.stop()


async def test_subscriber_keyframe_request_reaches_source() -> None:
    _, stream, upstream, _ = make_stream()
    sub = ForwardTrack("video")
    sub.attach(stream)
    sub.request_keyframe()
    assert upstream.calls == 2 and sub.keyframe_requests == 2
    await stream.stop()


async def test_recv_waits_without_source_and_stop_ends_it() -> None:
    sub = ForwardTrack("video")
    pending = asyncio.create_task(sub.recv())
    done, _ = await asyncio.wait({pending}, timeout=0.05)
    assert not done, "recv() on an unattached track must wait"
    sub.stop()
    with pytest.raises(MediaStreamError):
        await pending


async def test_audio_stall_drops_queue_and_continues() -> None:
    track, stream, upstream, counter = make_stream("audio")
    sub = ForwardTrack("audio", max_frames=5)
    sub.attach(stream)
    assert upstream.calls == 0, "audio never asks for keyframes"
    for i in range(12):
        track.feed(audio_packet(i * 960))
    await counter.wait(12)
    assert sub.max_queue_seen == 5 and sub.stalls == 2 and sub.frames_dropped == 10
    out = [(await sub.recv()).pts for _ in range(sub.queued)]
    assert out == [0, 960]
    await stream.stop()


async def test_taps_counters_and_failing_tap() -> None:
    track, stream, _, counter = make_stream()

    def broken(packet: object, arrival: float) -> None:
        raise RuntimeError("tap bug")

    stream.add_tap(broken)
    later = TapCounter()
    remove = stream.add_tap(later)
    sub = ForwardTrack("video")
    sub.attach(stream)
    await feed(track, counter, [0, FRAME, 2 * FRAME], {0})
    assert later.count == 3 and sub.queued == 3, "a failing tap must not stop forwarding"
    assert stream.tap_errors == 3
    assert (stream.frames, stream.keyframes, stream.bytes) == (3, 1, 300)
    assert later.arrivals[0] == later.packets[0].opaque
    remove()
    await feed(track, counter, [3 * FRAME], set())
    assert later.count == 3
    track.feed(None)
    async with asyncio.timeout(5):
        await stream.ended.wait()


def test_rate_meter() -> None:
    meter = RateMeter(window_s=3.0)
    for i in range(40):
        meter.add(1000, now=100.0 + i * 0.1)
    assert meter.bps(now=104.0) == pytest.approx(8 * 1000 * 10, rel=0.15)
    assert meter.bps(now=200.0) == 0.0
