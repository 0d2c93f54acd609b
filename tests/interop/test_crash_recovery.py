"""kill -9 of the server mid-session: the recording is readable up to about a
second before the kill, and the next start recovers and signs the case."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import av

from recording.verify import main as verify_main
from server.bench import driver
from server.bench.server_proc import seeded, spawn
from server.bench.source import vp8_clip
from tests.ports import free_port


def _readable_seconds(path: Path) -> float:
    """Decode a cut file; the span of decodable frames in seconds. Only the
    packet the kill cut in half may fail, and only as the very last one."""
    first = last = None
    packets = failed = 0
    with av.open(str(path)) as container:
        stream = container.streams[0]
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                failed = packets
                continue
            for frame in frames:
                t = float(frame.pts * frame.time_base)
                first = t if first is None else first
                last = t
    assert failed in (0, packets), f"{path.name}: packet {failed} of {packets} is corrupt"
    assert first is not None and last is not None, f"{path.name}: nothing decodable"
    return last - first


async def test_kill_9_loses_at_most_about_a_second(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = await spawn(data_dir, port, 1)
    accounts = seeded(data_dir)
    clip = vp8_clip(160, 120, 150_000, 30)
    session, kiosk, desk = await driver.prepare(
        f"http://127.0.0.1:{port}",
        0,
        accounts["kiosks"][0],
        accounts["reviewers"][0],
        accounts["password"],
        clip,
    )
    try:
        await driver.call_and_join(session, kiosk, desk)
        # Record for a while: wait for 4 s of decoded video at the desk.
        await session.desk.wait_decoded("video", 120, within=20)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
        await proc.wait()
    finally:
        await session.close()

    [marker] = list((data_dir / "archive").glob("*/*/*/*/.open"))
    folder = marker.parent
    events = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    opened = {
        (e["data"]["participant"], e["data"]["kind"]): e["data"]["start"]
        for e in events
        if e["type"] == "segment.opened"
    }
    assert len(opened) == 4
    for (participant, kind), start in opened.items():
        path = folder / f"media/{participant}-{kind}-1.webm"
        recorded = killed_at - datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        readable = _readable_seconds(path)
        # Segments open a little before their first packet; a cut file keeps
        # everything up to its last flushed cluster (clusters of at most 1 s).
        assert readable >= recorded - 1.6, (path.name, readable, recorded)

    # The next start recovers the session: chain closed, manifest signed.
    proc = await spawn(data_dir, free_port(), 1)
    proc.terminate()
    await proc.wait()
    assert not (folder / ".open").exists()
    types = [json.loads(x)["type"] for x in (folder / "events.jsonl").read_text().splitlines()]
    assert "recovered" in types
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["outcome"] == "interrupted"
    assert verify_main([str(folder)]) == 0
