"""A four-party session through the real server: kiosk, reviewer and two
colleagues invited by account; every one decodes every other's video and
receives their audio; a colleague leaves and comes back; the archive has each
participant's recordings, the manifest their parties and stays, `verify` passes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from recording.verify import main as verify_main
from server import appkeys as K
from server.bench.party_client import Party, PartyPeer
from server.bench.source import DecodeErrorCounter, vp8_clip
from tests.conftest import RunningServer
from tests.interop.party_session import all_see_all, invite

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def clip():
    return vp8_clip(160, 120, 150_000, 30)


async def test_four_parties_through_the_server(running: RunningServer, clip) -> None:
    kiosk_client, desk_client = await running.pair()
    kiosk = Party("kiosk", kiosk_client, PartyPeer(clip))
    desk = Party("desk", desk_client, PartyPeer(clip))
    parties = [kiosk, desk]
    try:
        with DecodeErrorCounter() as errors:
            await asyncio.gather(kiosk.offer(), desk.offer())
            await kiosk.message("session.state", state="live")
            second = await invite(running, desk, "reviewer2", clip)
            parties.append(second)
            third = await invite(running, desk, "city", clip)
            parties.append(third)
            await all_see_all(parties, 30)
            assert kiosk.renegotiations >= 1 and desk.renegotiations >= 1
            roster = desk.roster
            assert roster is not None
            assert {p["party"] for p in roster["participants"]} == {
                "applicant",
                "reviewer",
                "colleague",
            }

            # reviewer2 leaves mid-session: the others carry on, told who is left.
            await second.client.send({"type": "session.leave"})
            ended = await second.message("session.ended")
            assert ended["outcome"] == "left"
            await desk.wait(
                lambda: desk.roster is not None and len(desk.roster["participants"]) == 3
            )
            await second.close()
            parties.remove(second)
            before = {p.name: p.peer.decoded["video"] for p in parties}
            for party in parties:
                await party.peer.wait_decoded("video", before[party.name] + 30)

            # ... and is invited back: a new pc, the free slots carry it.
            second = await invite(running, desk, "reviewer2", clip)
            parties.append(second)
            await all_see_all(parties, 30)

            await desk.client.send({"type": "session.end", "outcome": "completed"})
            ended = await kiosk.message("session.ended")
            session_id = ended["session_id"]
            for party in parties[1:]:
                await party.message("session.ended")
        assert errors.errors == []
    finally:
        for party in parties:
            await party.close()

    async with asyncio.timeout(20):
        await running.app[K.RECORDER].wait_finalized(session_id)
    [manifest_path] = (running.app[K.CONFIG].data_dir / "archive").glob(
        f"*/*/*/{session_id}/manifest.json"
    )
    folder: Path = manifest_path.parent
    manifest = json.loads(manifest_path.read_text())
    by_account = {p["account"]: p for p in manifest["participants"]}
    assert set(by_account) >= {"reviewer", "reviewer2", "city"}
    assert by_account["reviewer2"]["party"] == "colleague"
    assert len(by_account["reviewer2"]["stays"]) == 2, "left once, came back"
    assert all(s["left"] for p in manifest["participants"] for s in p["stays"])
    for p in manifest["participants"]:
        kinds = {Path(f).name.split("-")[-2] for f in p["media"]}
        assert kinds == {"audio", "video"}, (p["account"], p["media"])
        assert all((folder / f).stat().st_size > 0 for f in p["media"])
    assert len([f for f in by_account["reviewer2"]["media"] if "-video-" in f]) == 2
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    added = [e for e in events if e["type"] == "participant.added"]
    assert [e["data"]["party"] for e in added] == ["colleague"] * 3
    left = [e for e in events if e["type"] == "participant.left"]
    assert any(e["data"].get("reason") == "left" for e in left)
    assert verify_main([str(folder)]) == 0
