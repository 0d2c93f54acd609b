"""A whole video session through the real server: queue, signaling, media
forwarding, rejoin, end, and the recorded case archive checked with PyAV."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pytest

from recording.verify import main as verify_main
from server import appkeys as K
from server.bench.driver import Peer
from server.bench.source import DecodeErrorCounter, vp8_clip
from tests.conftest import RunningServer
from tests.metrics_text import matching

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


async def _wait_frames(peer: Peer, kind: str, count: int) -> None:
    await peer.wait_decoded(kind, count)


async def _manifest(running: RunningServer, session_id: str) -> Path:
    """The signed manifest of a session, once finalisation is done."""
    async with asyncio.timeout(15):
        await running.app[K.RECORDER].wait_finalized(session_id)
    [manifest] = (running.app[K.CONFIG].data_dir / "archive").glob(
        f"*/*/*/{session_id}/manifest.json"
    )
    return manifest


def _decode_all(path: Path) -> tuple[int, float]:
    """Decode every frame of a file (raises on a decode error); (frames, seconds)."""
    frames = 0
    last = 0.0
    with av.open(str(path)) as container:
        stream = container.streams[0]
        for frame in container.decode(stream):
            frames += 1
            last = float(frame.pts * frame.time_base)
    return frames, last


@pytest.fixture
def small_clip():
    return vp8_clip(160, 120, 150_000, 30)


async def test_session_media_both_ways_recorded_and_verified(
    running: RunningServer, small_clip, tmp_path: Path
) -> None:
    kiosk, desk = await running.pair()
    kiosk_peer, desk_peer = Peer(small_clip), Peer(small_clip)
    with DecodeErrorCounter() as errors:
        try:
            await asyncio.gather(kiosk_peer.negotiate(kiosk), desk_peer.negotiate(desk))
            await kiosk.expect("session.state", state="live")
            await _wait_frames(kiosk_peer, "video", 60)
            await _wait_frames(desk_peer, "video", 60)
            await _wait_frames(desk_peer, "audio", 50)

            # Camera off on the kiosk: the desk is told in plain words.
            await kiosk.send({"type": "media.state", "audio": True, "video": False})
            state = await desk.expect("session.state", peer_media={"audio": True, "video": False})
            assert state["notice"]["zh"]

            metrics = await (await running.sessions[0].get("/metrics")).text()
            assert matching(metrics, "rw_stream_frames_total", direction="out")

            for peer in (kiosk_peer, desk_peer):
                peer.stop_sending()
            sent = {p: p.sources["video"].packets_sent for p in (kiosk_peer, desk_peer)}
            await desk.send({"type": "session.end", "outcome": "completed"})
            ended = await kiosk.expect("session.ended")
            assert ended["outcome"] == "completed"
            session_id = ended["session_id"]
        finally:
            await kiosk_peer.close()
            await desk_peer.close()
    assert errors.errors == []

    # The reviewer is free again.
    view = await desk.expect("desk.queues")
    assert view["queues"]

    manifest_path = await _manifest(running, session_id)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["outcome"] == "completed" and manifest["item"] == "SCJG-001"
    assert {p["role"] for p in manifest["participants"]} == {"kiosk", "reviewer"}
    folder = manifest_path.parent
    videos = sorted(folder.glob("media/*-video-1.webm"))
    assert len(videos) == 2
    by_holder = {"kiosk": kiosk_peer, "reviewer": desk_peer}
    for video in videos:
        frames, _ = _decode_all(video)
        peer = by_holder[video.name.split("-", 1)[0]]
        # The recorder taps the stream before its first packet and the sources
        # stopped before the end: the file holds every frame sent, within 1%.
        assert abs(frames - sent[peer]) <= 0.01 * sent[peer] + 1, (video.name, frames, sent[peer])
    for audio in folder.glob("media/*-audio-1.webm"):
        frames, _ = _decode_all(audio)
        assert frames > 50
    assert verify_main([str(folder)]) == 0
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    types = [e["type"] for e in events]
    for expected in (
        "session.created",
        "recording.notice_shown",
        "participant.joined",
        "segment.opened",
        "media.state",
        "participant.left",
        "archive.finalized",
    ):
        assert expected in types, expected


async def test_participant_rejoins_with_a_new_connection(
    running: RunningServer, small_clip
) -> None:
    kiosk, desk = await running.pair()
    kiosk_peer, desk_peer = Peer(small_clip), Peer(small_clip)
    second = Peer(small_clip)
    try:
        await asyncio.gather(kiosk_peer.negotiate(kiosk), desk_peer.negotiate(desk))
        await _wait_frames(desk_peer, "video", 30)
        # The kiosk's connection dies (page reload): a new peer connection, a new offer.
        await kiosk_peer.close()
        await second.negotiate(kiosk)
        before = desk_peer.decoded["video"]
        await _wait_frames(desk_peer, "video", before + 30)
        await _wait_frames(second, "video", 30)
        await desk.send({"type": "session.end"})
        session_id = (await kiosk.expect("session.ended"))["session_id"]
    finally:
        for peer in (kiosk_peer, desk_peer, second):
            await peer.close()
    manifest_path = await _manifest(running, session_id)
    folder = manifest_path.parent
    kiosk_files = sorted(p.name for p in folder.glob("media/kiosk-*-video-*.webm"))
    assert len(kiosk_files) == 2, kiosk_files
    manifest = json.loads(manifest_path.read_text())
    assert [g for g in manifest["gaps"] if g["participant"].startswith("kiosk")]
    assert verify_main([str(folder)]) == 0
