"""A reviewer whose page dies mid-call: the server notices within seconds (the
silence of the reviewer's peer connection, or its close), tells the applicant,
and puts the applicant back at the head of the line (session ended
`reviewer_lost`). Real aiortc peers through the real server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server import appkeys as K
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from server.media.stats import packets_received
from tests.conftest import PASSWORD, Client, RunningServer

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}
ROOT = Path(__file__).resolve().parents[2]
# The applicant must be back in line well before ICE consent (~30 s) would notice.
BOUND_S = 10


@pytest.fixture
def clip():
    return vp8_clip(160, 120, 150_000, 30)


async def _two_waiting(running: RunningServer) -> tuple[Client, Client]:
    first, second = await running.kiosk("kiosk-1"), await running.kiosk("kiosk-2")
    for kiosk in (first, second):
        await kiosk.send(JOIN)
        await kiosk.expect("queue.status")
    return first, second


async def _expect_requeued(running: RunningServer, kiosk: Client, second: Client) -> str:
    """The applicant is told, then is first in line again, ahead of the one behind."""
    dropped = await kiosk.expect("session.state", timeout=BOUND_S, peer_connection="reconnecting")
    assert "审批人员" in dropped["notice"]["zh"]
    ended = await kiosk.expect("session.ended", timeout=BOUND_S)
    assert ended["outcome"] == "reviewer_lost" and ended["by"] == "server"
    status = await kiosk.expect("queue.status", timeout=BOUND_S, state="waiting")
    assert (status["position"], status["ahead"]) == (1, 0)
    behind = await second.expect("queue.status", timeout=BOUND_S, state="waiting", position=2)
    assert behind["ahead"] == 1
    # The case archive says how it ended.
    recorder = running.app[K.RECORDER]
    async with asyncio.timeout(15):
        await recorder.wait_finalized(ended["session_id"])
    [manifest] = (running.app[K.CONFIG].data_dir / "archive").glob(
        f"*/*/*/{ended['session_id']}/manifest.json"
    )
    assert json.loads(manifest.read_text())["outcome"] == "reviewer_lost"
    return str(ended["session_id"])


def _events(running: RunningServer, session_id: str) -> list[dict[str, Any]]:
    [events] = (running.app[K.CONFIG].data_dir / "archive").glob(f"*/*/*/{session_id}/events.jsonl")
    return [json.loads(line) for line in events.read_text().splitlines()]


async def test_reviewer_pc_closed_without_a_word(running: RunningServer, clip) -> None:
    kiosk, second = await _two_waiting(running)
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    paired = await kiosk.expect("session.paired")
    kiosk_peer, desk_peer = Peer(clip), Peer(clip)
    try:
        await asyncio.gather(kiosk_peer.negotiate(kiosk), desk_peer.negotiate(desk))
        await kiosk.expect("session.state", state="live")
        await kiosk_peer.wait_decoded("video", 10)
        # The watchdog can read what reaches the server's pcs (an aiortc upgrade
        # that breaks this fails here, not silently).
        media = running.app[K.MEDIA].get(paired["session_id"])
        assert media is not None
        for participant in media.participants.values():
            assert (packets_received(participant.pc) or 0) > 0
        # The reviewer's peer connection just stops; its WebSocket stays open and silent.
        await desk_peer.close()
        await _expect_requeued(running, kiosk, second)
    finally:
        await kiosk_peer.close()
        await desk_peer.close()


async def _spawn(running: RunningServer, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.interop.peer_proc",
        running.url,
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )


async def _live(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        assert await proc.stdout.readline() == b"LIVE\n"


@pytest.fixture
async def procs() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    started: list[asyncio.subprocess.Process] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def test_reviewer_process_frozen(
    running: RunningServer, clip, procs: list[asyncio.subprocess.Process]
) -> None:
    """A hung desk (SIGSTOP): its WebSocket stays open, it sends nothing more, no
    DTLS close, no ICE failure for half a minute. Only the silence tells."""
    kiosk, second = await _two_waiting(running)
    procs.append(reviewer := await _spawn(running, "reviewer", "reviewer", PASSWORD))
    await kiosk.expect("session.paired", timeout=30)
    kiosk_peer = Peer(clip)
    try:
        await kiosk_peer.negotiate(kiosk)
        await _live(reviewer)
        await kiosk.expect("session.state", state="live")
        reviewer.send_signal(signal.SIGSTOP)
        session_id = await _expect_requeued(running, kiosk, second)
        events = _events(running, session_id)
        dropped = [e for e in events if e["type"] == "participant.dropped"]
        assert dropped and dropped[0]["data"]["state"] == "silent", dropped
    finally:
        await kiosk_peer.close()


async def test_frozen_kiosk_is_not_shown_as_connected(
    running: RunningServer, clip, procs: list[asyncio.subprocess.Process]
) -> None:
    """The other way round: the desk is told within seconds, not after ~30 s of a
    green "connected" over a frozen picture; the kiosk keeps its rejoin grace."""
    procs.append(kiosk := await _spawn(running, "kiosk", running.kiosk_tokens["kiosk-1"]))
    desk = await running.staff("reviewer")
    while True:  # until the kiosk process has joined
        view = await desk.expect("desk.queues", timeout=30)
        if next(q for q in view["queues"] if q["item"] == "SCJG-001")["waiting"]:
            break
    await desk.send({"type": "desk.call_next"})
    await desk.expect("session.paired")
    desk_peer = Peer(clip)
    try:
        await desk_peer.negotiate(desk)
        await _live(kiosk)
        await desk.expect("session.state", state="live")
        kiosk.send_signal(signal.SIGSTOP)
        state = await desk.expect("session.state", timeout=BOUND_S, peer_connection="reconnecting")
        assert state["state"] == "reconnecting" and state["notice"]["zh"]
        await desk.send({"type": "session.end", "outcome": "incomplete"})
        assert (await desk.expect("session.ended"))["outcome"] == "incomplete"
    finally:
        await desk_peer.close()
