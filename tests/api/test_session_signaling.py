"""A live session with real aiortc peers through the real server: a rejected
offer leaves the call alone, each session.state is pushed once, and
session.ended says which side ended it."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender

from signaling.client import SignalingClient
from tests.conftest import RunningServer
from tests.interop.media_helpers import ClientPeer


async def _connect(client: SignalingClient, peer: ClientPeer) -> None:
    await client.send({"type": "rtc.offer", "sdp": await peer.offer()})
    await peer.accept((await client.expect("rtc.answer", timeout=20))["sdp"])


async def _live(
    running: RunningServer,
) -> tuple[SignalingClient, SignalingClient, list[ClientPeer]]:
    kiosk, desk = await running.pair()
    peers = [ClientPeer("kiosk"), ClientPeer("desk")]
    await _connect(kiosk, peers[0])
    await _connect(desk, peers[1])
    for client in (kiosk, desk):
        await client.expect("session.state", timeout=20, state="live")
    for peer in peers:
        await peer.wait_frames("video", 5, within=20)
    return kiosk, desk, peers


async def _h264_pcmu_offer() -> str:
    """A well-formed offer from a real peer that only offers H264 and PCMU."""
    pc = RTCPeerConnection()
    for kind, mime in (("audio", "audio/PCMU"), ("video", "video/H264")):
        transceiver = pc.addTransceiver(kind, direction="sendrecv")
        codecs = RTCRtpSender.getCapabilities(kind).codecs
        transceiver.setCodecPreferences([c for c in codecs if c.mimeType == mime])
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def _states(client: SignalingClient) -> list[dict[str, Any]]:
    return [m for m in client.history if m["type"] == "session.state"]


async def test_rejected_offer_leaves_the_call_alone(running: RunningServer) -> None:
    kiosk, desk, peers = await _live(running)
    try:
        for bad in ("v=0\r\nthis is not SDP\r\n", await _h264_pcmu_offer()):
            await kiosk.send({"type": "rtc.offer", "sdp": bad})
            err = await kiosk.expect("error", timeout=20)
            assert (err["code"], err["ref"]) == ("media_failed", "rtc.offer")
            for peer in peers:  # media still flows both ways
                await peer.wait_frames("video", peer.frames("video") + 10, within=20)
        for client in (kiosk, desk):
            await client.send({"type": "ping"})
            await client.expect("pong")
            last = _states(client)[-1]
            assert (last["state"], last["peer_connection"]) == ("live", "connected")
    finally:
        for peer in peers:
            await peer.close()


async def test_each_session_state_is_pushed_once(running: RunningServer) -> None:
    kiosk, desk, peers = await _live(running)
    try:
        await kiosk.send({"type": "media.state", "audio": False, "video": True})
        await desk.expect("session.state", peer_media={"audio": False, "video": True})
        await desk.send({"type": "session.end"})
        for client in (kiosk, desk):
            ended = await client.expect("session.ended")
            assert ended["by"] == "reviewer"
            states = _states(client)
            repeats = [a for a, b in pairwise(states) if a == b]
            assert not repeats, repeats
            assert states[-1]["state"] == "live"
    finally:
        for peer in peers:
            await peer.close()


async def test_session_ended_by_names_the_side(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    await kiosk.send({"type": "session.end", "outcome": "cancelled"})
    for client in (kiosk, desk):
        ended = await client.expect("session.ended")
        assert (ended["outcome"], ended["by"]) == ("cancelled", "applicant")
    # The reviewer vanishing before media flowed: the server ends it.
    k2, d2 = await running.pair(kiosk="kiosk-2", reviewer="reviewer2")
    await d2.close()
    ended = await k2.expect("session.ended")
    assert (ended["outcome"], ended["by"]) == ("reviewer_left", "server")
