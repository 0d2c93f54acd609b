"""A recorded N-party session through the real server, for tests of what is
archived and replayed: a kiosk, the reviewer, and colleagues it invites."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server import appkeys as K
from server.bench.party_client import Party, PartyPeer
from server.bench.source import EncodedClip, vp8_clip
from tests.conftest import RunningServer


async def invite(running: RunningServer, desk: Party, account: str, clip: EncodedClip) -> Party:
    """The desk invites `account`, who accepts and offers; returns the colleague."""
    client = await running.staff(account)
    party = Party(account, client, PartyPeer(clip))
    await desk.client.send({"type": "session.invite", "account": account})
    ringing = await desk.message("session.invite_result", result="ringing")
    assert ringing["notice"]["zh"] and ringing["account"] == account
    invited = await party.message("session.invited")
    assert invited["party"] == "colleague" and invited["inviter"]["name"]
    await client.send(
        {"type": "session.invite_answer", "invite_id": invited["invite_id"], "accept": True}
    )
    await desk.message("session.invite_result", result="accepted")
    paired = await party.message("session.paired")
    assert paired["party"] == "colleague"
    await party.offer()
    return party


async def all_see_all(parties: list[Party], frames: int) -> None:
    """Until every party has `frames` video and audio frames from every other."""
    holders = {p.name: p.roster["you"] for p in parties if p.roster}
    for party in parties:
        for other in parties:
            if other is not party:
                for kind in ("video", "audio"):
                    await party.wait_for_frames(holders[other.name], kind, frames)


async def record_party_session(
    running: RunningServer, colleagues: tuple[str, ...] = ("reviewer2", "city"), frames: int = 60
) -> Path:
    """kiosk-1 + reviewer + colleagues, each receiving `frames` from every other,
    ended by the reviewer; returns the finalised case folder."""
    clip = vp8_clip(160, 120, 150_000, 30)
    kiosk_client, desk_client = await running.pair()
    kiosk = Party("kiosk", kiosk_client, PartyPeer(clip))
    desk = Party("desk", desk_client, PartyPeer(clip))
    parties = [kiosk, desk]
    try:
        await asyncio.gather(kiosk.offer(), desk.offer())
        await kiosk.message("session.state", state="live")
        for account in colleagues:
            parties.append(await invite(running, desk, account, clip))
        await all_see_all(parties, frames)
        await desk.client.send({"type": "session.end", "outcome": "completed"})
        session_id = (await kiosk.message("session.ended"))["session_id"]
    finally:
        for party in parties:
            await party.close()
    recorder = running.app[K.RECORDER]
    async with asyncio.timeout(20):
        await recorder.wait_finalized(session_id)
    [folder] = recorder.root.glob(f"*/*/*/{session_id}")
    return folder
