"""Audio and video of one participant stay aligned in the recording: a
source flashes and clicks together once a second; the recorded files show
the flash and the click within 40 ms of each other."""

from __future__ import annotations

import asyncio
import statistics
from array import array
from pathlib import Path

import av

from server import appkeys as K
from server.bench.driver import Peer
from server.bench.source import click_clip, flash_clip, vp8_clip
from tests.conftest import RunningServer

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


def _flash_times(path: Path) -> list[float]:
    times = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            plane = bytes(frame.planes[0])
            if (
                sum(plane[:: max(1, len(plane) // 500)]) / len(plane[:: max(1, len(plane) // 500)])
                > 128
            ):
                times.append(float(frame.pts * frame.time_base))
    return times


def _click_times(path: Path) -> list[float]:
    times = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            assert frame.format.name == "fltp", frame.format.name
            samples = array("f", bytes(frame.planes[0]))[: frame.samples]
            loud = next((n for n, v in enumerate(samples) if abs(v) > 0.2), None)
            if loud is not None:
                onset = float(frame.pts * frame.time_base) + loud / frame.sample_rate
                if not times or onset - times[-1] > 0.5:
                    times.append(onset)
    return times


async def test_audio_and_video_aligned_within_40_ms(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    source = Peer(flash_clip(), audio_clip=click_clip(), phase_locked=True)
    other = Peer(vp8_clip(160, 120, 150_000, 30))
    try:
        await asyncio.gather(source.negotiate(kiosk), other.negotiate(desk))
        await other.wait_decoded("video", 200, within=20)  # about 6 s of video
        await desk.send({"type": "session.end"})
        session_id = (await kiosk.expect("session.ended"))["session_id"]
    finally:
        await source.close()
        await other.close()
    archive = running.app[K.CONFIG].data_dir / "archive"
    async with asyncio.timeout(15):
        await running.app[K.RECORDER].wait_finalized(session_id)
    [video] = archive.glob("*/*/*/*/media/kiosk-*-video-1.webm")
    audio = video.with_name(video.name.replace("-video-", "-audio-"))
    flashes, clicks = _flash_times(video), _click_times(audio)
    assert len(flashes) >= 4 and len(clicks) >= 4, (flashes, clicks)
    offsets = [min(clicks, key=lambda c, f=f: abs(c - f)) - f for f in flashes]
    assert all(abs(o) < 0.5 for o in offsets), offsets
    print("a/v offsets (s):", [round(o, 4) for o in offsets])
    assert abs(statistics.median(offsets)) < 0.040, offsets
