"""The bench's encoded-count path (video counted as complete encoded frames,
not decoded) accounts sent, received and lost frames like the decoded path."""

from __future__ import annotations

import av
from aiortc import RTCSessionDescription

from server.bench.driver import Peer, decodes, stream_losses
from server.bench.source import PacketSourceTrack, vp8_clip
from server.media import passthrough

DROPPED = 12  # the frame each publisher takes from its clip but never sends


class _DroppingTrack(PacketSourceTrack):
    """Counts frame DROPPED as sent (its pts is used up) but never hands it to
    aiortc: the receiver sees a hole of one frame in a clean RTP stream."""

    async def recv(self) -> av.Packet:
        packet = await super().recv()
        if self.packets_sent == DROPPED + 1:
            packet = await super().recv()
        return packet


def _drop_one_frame(peer: Peer) -> None:
    sender = next(s for s in peer.pc.getSenders() if s.track and s.track.kind == "video")
    track = _DroppingTrack("video", peer.clip)
    sender.replaceTrack(track)
    passthrough.on_keyframe_request(sender, track.request_keyframe)
    peer.sources["video"] = track


async def _connect(a: Peer, b: Peer) -> None:
    await a.pc.setLocalDescription(await a.pc.createOffer())
    await b.pc.setRemoteDescription(a.pc.localDescription)
    await b.pc.setLocalDescription(await b.pc.createAnswer())
    answer = b.pc.localDescription
    await a.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type=answer.type))


async def test_encoded_path_counts_a_dropped_frame_as_lost_and_decodes_nothing() -> None:
    clip = vp8_clip()
    # The kiosk decodes what it receives; the desk counts encoded frames.
    kiosk, desk = Peer(clip), Peer(clip, decode_video=False)
    for peer in (kiosk, desk):
        _drop_one_frame(peer)
    try:
        await _connect(kiosk, desk)
        for peer in (kiosk, desk):
            await peer.wait_decoded("video", DROPPED + 20)
            peer.stop_sending()
        sent = {"kiosk": kiosk.video_sent, "desk": desk.video_sent}
        # Every frame but the dropped one arrives: the in-flight tail drains.
        await desk.wait_decoded("video", sent["kiosk"] - 1)
        await kiosk.wait_decoded("video", sent["desk"] - 1)
        counts = []
        for role, peer in (("kiosk", kiosk), ("desk", desk)):
            counts.append(peer.counts() | {"role": role, "session": "s", "sent": sent[role]})
        streams = {s["from"]: s for s in stream_losses(counts)}

        to_desk, to_kiosk = streams["kiosk"], streams["desk"]
        assert to_desk["path"] == "encoded"
        assert to_kiosk["path"] == "decoded"
        for stream in (to_desk, to_kiosk):
            assert stream["received"] == stream["sent"] - 1
            assert stream["lost"] == 1  # the dropped frame, and only it
            assert stream["decode_failures"] == 0
        assert desk.video_gaps == kiosk.video_gaps == 1
        # The encoded path counted frames, not packets, and decoded no video.
        assert to_desk["decoded"] == 0
        assert desk.decoding["video"].frames_in == 0
        assert kiosk.decoding["video"].frames_in >= to_kiosk["received"]
        assert desk.decoding["audio"].frames_in > 0  # audio is still decoded
    finally:
        await kiosk.close()
        await desk.close()


def test_a_decode_share_is_spread_over_the_receivers() -> None:
    assert [decodes(k, 1.0) for k in range(4)] == [True] * 4
    assert [decodes(k, 0.0) for k in range(4)] == [False] * 4
    assert [decodes(k, 0.5) for k in range(6)] == [False, True] * 3
    assert sum(decodes(k, 0.4) for k in range(40)) == 16
    assert sum(decodes(k, 0.25) for k in range(40)) == 10
