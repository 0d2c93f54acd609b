"""The bench counts decode failures at the clients' decoders, not from log text."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from aiortc import RTCSessionDescription

from server.bench.driver import Peer
from server.bench.source import DecodeErrorCounter, EncodedClip, vp8_clip

CORRUPTED = 5  # index of the damaged frame in the publisher's clip


def _damaged(clip: EncodedClip) -> EncodedClip:
    frames = list(clip.frames)
    # Its 3-byte frame tag promises a first partition far longer than what
    # follows: libvpx cannot decode it (a frame merely cut in half sometimes
    # still decodes, with concealment).
    frames[CORRUPTED] = frames[CORRUPTED][:3] + bytes(10)
    return EncodedClip(tuple(frames), clip.keyframe, clip.loop_start)


@pytest.fixture
def quiet_aiortc() -> Iterator[None]:
    """Like the bench client (root logger at ERROR): aiortc's warnings are never emitted."""
    log = logging.getLogger("aiortc")
    level = log.level
    log.setLevel(logging.ERROR)
    yield
    log.setLevel(level)


async def _connect(a: Peer, b: Peer) -> None:
    await a.pc.setLocalDescription(await a.pc.createOffer())
    await b.pc.setRemoteDescription(a.pc.localDescription)
    await b.pc.setLocalDescription(await b.pc.createAnswer())
    answer = b.pc.localDescription
    await a.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type=answer.type))


async def test_a_corrupted_frame_is_counted_with_aiortc_logging_off(quiet_aiortc: None) -> None:
    clip = vp8_clip()
    publisher, clean = Peer(_damaged(clip)), Peer(clip)
    try:
        with DecodeErrorCounter() as counter:
            await _connect(publisher, clean)
            # Both decode what the other sends: only the damaged clip fails.
            await clean.wait_decoded("video", CORRUPTED + 20)
            await publisher.wait_decoded("video", CORRUPTED + 20)
        received_damaged = clean.counts()
        # Each failure makes the receiver ask for a keyframe, which replays the
        # clip from its start, damaged frame included: one failure or a few.
        failures = clean.decoding["video"].exceptions
        assert failures >= 1
        assert received_damaged["decode_failures"] == failures
        assert received_damaged["gaps"] == failures  # a frame that failed is a frame lost
        assert publisher.counts()["decode_failures"] == 0
        assert publisher.counts()["gaps"] == 0
        assert len(counter.errors) == failures
        assert all(e.startswith("video: ") for e in counter.errors)
        assert counter.frames_in >= 2 * (CORRUPTED + 20)
    finally:
        await publisher.close()
        await clean.close()
