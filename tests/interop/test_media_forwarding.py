"""Real aiortc clients <-> MediaHub on loopback: forwarding, keyframes, rejoin, no server decode."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av
import pytest
from aiortc import RTCBundlePolicy, RTCRtpSender
from aiortc.codecs import opus, vpx

from server.bench.source import DecodeErrorCounter, PacketSourceTrack
from server.media import (
    InboundStream,
    MediaHub,
    MediaNegotiationError,
    MediaSession,
    SessionFullError,
    passthrough,
)
from tests.interop.media_helpers import ClientPeer, TapCounter

pytestmark = pytest.mark.timeout(60)


class DecoderCount:
    """How many VP8/Opus decoders aiortc created (clients decode, the server must not)."""

    def __init__(self) -> None:
        self.vp8 = 0
        self.opus = 0
        self._lock = threading.Lock()

    def bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


@pytest.fixture
def decoders(monkeypatch: pytest.MonkeyPatch) -> DecoderCount:
    count = DecoderCount()
    for name, cls in (("vp8", vpx.Vp8Decoder), ("opus", opus.OpusDecoder)):
        original = cls.__init__

        def init(self: Any, _original: Any = original, _name: str = name) -> None:
            count.bump(_name)
            _original(self)

        monkeypatch.setattr(cls, "__init__", init)
    return count


@pytest.fixture
def decode_errors() -> Iterator[DecodeErrorCounter]:
    with DecodeErrorCounter() as counter:
        yield counter


@pytest.fixture
async def hub() -> AsyncIterator[MediaHub]:
    media_hub = MediaHub()
    try:
        yield media_hub
    finally:
        await media_hub.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[ClientPeer]]:
    peers: list[ClientPeer] = []
    try:
        yield peers
    finally:
        for peer in peers:
            await peer.close()


class Recorder:
    """on_inbound callback: a TapCounter per (participant, kind), newest stream last."""

    def __init__(self, session: MediaSession) -> None:
        self.taps: dict[tuple[str, str], list[TapCounter]] = {}
        self.streams: dict[tuple[str, str], list[InboundStream]] = {}
        session.on_inbound(self.on_inbound)

    def on_inbound(self, participant: str, kind: str, stream: InboundStream) -> None:
        tap = TapCounter()
        stream.add_tap(tap)
        self.taps.setdefault((participant, kind), []).append(tap)
        self.streams.setdefault((participant, kind), []).append(stream)


def slot_of(session: MediaSession, participant: str, kind: str) -> Any:
    return next(s for p, s in session.output_slots() if p == participant and s.kind == kind)


def answer_sections(sdp: str) -> dict[str, str]:
    """The text of each m-section of an SDP, by kind."""
    sections: dict[str, str] = {}
    for chunk in sdp.split("m=")[1:]:
        sections[chunk.split(" ", 1)[0]] = chunk
    return sections


def new_peer(clients: list[ClientPeer], name: str) -> ClientPeer:
    peer = ClientPeer(name)
    clients.append(peer)
    return peer


@pytest.mark.parametrize("bundle", [RTCBundlePolicy.MAX_BUNDLE, RTCBundlePolicy.BALANCED])
async def test_two_party_forwarding_without_server_decode(
    hub: MediaHub,
    clients: list[ClientPeer],
    decoders: DecoderCount,
    decode_errors: DecodeErrorCounter,
    bundle: RTCBundlePolicy,
) -> None:
    session = hub.session("s-two")
    recorder = Recorder(session)
    states: list[tuple[str, str]] = []
    session.on_participant_state(lambda p, s: states.append((p, s)))
    a, b = ClientPeer("a", bundle_policy=bundle), ClientPeer("b", bundle_policy=bundle)
    clients += [a, b]
    await a.join(session)
    started = await b.join(session)
    for peer in (a, b):
        await peer.wait_frames("video", 30)
        await peer.wait_frames("audio", 30)
    first = max(a.received["video"].first_at or 0, b.received["video"].first_at or 0)
    print(f"accept_offer(b) -> first decoded video at both ends: {(first - started) * 1000:.0f} ms")

    assert decode_errors.errors == []
    for peer in (a, b):
        for kind, frame_type in (("video", "VideoFrame"), ("audio", "AudioFrame")):
            got = peer.received[kind]
            assert got.types == {frame_type}
            assert got.non_increasing == 0, f"{peer.name} {kind} pts went backwards"
    # The server never decodes: exactly one decoder per client receiving track.
    assert (decoders.vp8, decoders.opus) == (2, 2)
    # REMB for each publisher is estimated once per packet burst, not per packet
    # (what a burst is, is checked in test_media_aiortc_internals).
    for participant in ("a", "b"):
        receiver = session.participants[participant].receivers["video"]
        estimator = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
        assert isinstance(estimator, passthrough._BurstEstimator)
        assert estimator.samples > 0
    for participant in ("a", "b"):
        for kind in ("audio", "video"):
            packets = recorder.taps[(participant, kind)][0].packets
            assert packets and all(type(p) is av.Packet for p in packets)
    assert recorder.taps[("a", "video")][0].packets[0].is_keyframe
    assert ("a", "connected") in states and ("b", "connected") in states
    assert states[0] == ("a", "connecting")

    sections = answer_sections(a.answer_sdp or "")
    assert "VP8/90000" in sections["video"] and "H264" not in sections["video"]
    assert "opus/48000" in sections["audio"]
    assert not any(c in sections["audio"] for c in ("PCMU", "PCMA", "G722"))

    rows = await hub.stream_stats()
    assert {(r["participant"], r["kind"], r["direction"]) for r in rows} == {
        (p, k, d) for p in "ab" for k in ("audio", "video") for d in ("in", "out")
    }
    for row in rows:
        assert row["session"] == "s-two" and row["frames_forwarded"] > 0
        assert row["bitrate_bps"] > 0, row
        if row["direction"] == "out":
            assert row["source"] == {"a": "b", "b": "a"}[row["participant"]]


async def test_late_subscriber_gets_keyframe_from_publisher(
    hub: MediaHub, clients: list[ClientPeer], decode_errors: DecodeErrorCounter
) -> None:
    session = hub.session("s-late")
    recorder = Recorder(session)
    a = new_peer(clients, "a")
    await a.join(session)
    # a publishes alone for about a second; its only keyframe so far was the first.
    await recorder.taps[("a", "video")][0].wait(30)
    source = a.sources["video"]
    assert source.keyframes_sent == 1

    b = new_peer(clients, "b")
    started = await b.join(session)
    await b.wait_frames("video", 20, within=5)
    first = b.received["video"].first_at
    assert first is not None
    print(f"late joiner: accept_offer -> first decoded video {(first - started) * 1000:.0f} ms")
    assert source.keyframe_requests >= 1 and source.keyframes_sent >= 2
    assert decode_errors.errors == []

    # A PLI from the subscriber's own receiver crosses the server to the publisher.
    a_out = next(
        slot for pid, slot in session.output_slots() if pid == "b" and slot.kind == "video"
    )
    before_requests, before_keyframes = source.keyframe_requests, source.keyframes_sent
    receiver = next(t.receiver for t in b.pc.getTransceivers() if t.kind == "video")
    # Within the rate-limit interval of the join request the PLI is deferred, not lost.
    assert passthrough.request_keyframe(receiver) == 1
    await b.wait_for(lambda: source.keyframes_sent > before_keyframes, within=5)
    assert source.keyframe_requests > before_requests
    assert a_out.track.keyframe_requests >= 2
    await b.wait_frames("video", b.frames("video") + 10, within=5)
    assert decode_errors.errors == []


class StateLog:
    """on_participant_state callback with a way to wait for a given (participant, state)."""

    def __init__(self, session: MediaSession) -> None:
        self.entries: list[tuple[str, str]] = []
        self._changed = asyncio.Event()
        session.on_participant_state(self.on_state)

    def on_state(self, participant: str, state: str) -> None:
        self.entries.append((participant, state))
        self._changed.set()

    def of(self, participant: str) -> list[str]:
        return [s for p, s in self.entries if p == participant]

    async def wait(self, participant: str, state: str, count: int = 1) -> None:
        async with asyncio.timeout(10):
            while self.of(participant).count(state) < count:
                self._changed.clear()
                await self._changed.wait()


async def test_rejoin_after_drop_resumes_both_ways(
    hub: MediaHub, clients: list[ClientPeer], decode_errors: DecodeErrorCounter
) -> None:
    session = hub.session("s-rejoin")
    recorder = Recorder(session)
    states = StateLog(session)
    a, b = new_peer(clients, "a"), new_peer(clients, "b")
    await a.join(session)
    await b.join(session)
    await b.wait_frames("video", 30)
    await a.wait_frames("video", 30)
    b_video_out = slot_of(session, "b", "video").track

    await a.pc.close()  # the kiosk drops off the network
    await states.wait("a", "closed")
    assert states.of("b") == ["connecting", "connected"], "b is not affected"
    assert slot_of(session, "b", "video").track is b_video_out, "b keeps its ForwardTrack"
    frames_before = {kind: b.frames(kind) for kind in ("audio", "video")}

    a2 = new_peer(clients, "a")  # new pc, same participant
    started = await a2.join(session, "a")
    await a2.wait_frames("video", 20)
    await b.wait_frames("video", frames_before["video"] + 20)
    await b.wait_frames("audio", frames_before["audio"] + 20)
    first = a2.received["video"].first_at
    assert first is not None
    print(f"rejoin: accept_offer -> first decoded video {(first - started) * 1000:.0f} ms")

    assert slot_of(session, "b", "video").track is b_video_out
    assert len(recorder.streams[("a", "video")]) == 2, "rejoin opens a new inbound stream"
    assert b_video_out.source is recorder.streams[("a", "video")][1]
    assert states.of("a") == ["connecting", "connected", "closed", "connecting", "connected"]
    for kind, limit in (("video", 45000), ("audio", 24000)):
        got = b.received[kind]
        assert got.non_increasing == 0, f"b {kind}: pts not monotonic across the rejoin"
        assert got.max_step <= limit, f"b {kind}: pts jumped {got.max_step} across the rejoin"
    assert decode_errors.errors == []


async def test_rejoin_replaces_live_connection(
    hub: MediaHub, clients: list[ClientPeer], decode_errors: DecodeErrorCounter
) -> None:
    session = hub.session("s-replace")
    states = StateLog(session)
    a, b = new_peer(clients, "a"), new_peer(clients, "b")
    await a.join(session)
    await b.join(session)
    await b.wait_frames("video", 10)
    old_closed = asyncio.Event()
    a.pc.on(
        "connectionstatechange",
        lambda: a.pc.connectionState in ("closed", "failed") and old_closed.set(),
    )

    a2 = new_peer(clients, "a")  # e.g. the tablet switched from Wi-Fi to 4G
    await a2.join(session, "a")
    async with asyncio.timeout(10):
        await old_closed.wait()
    await a2.wait_frames("video", 20)
    await b.wait_frames("video", b.frames("video") + 20)
    assert states.of("a") == ["connecting", "connected", "connecting", "connected"]
    assert b.received["video"].non_increasing == 0
    assert decode_errors.errors == []


async def test_third_participant_and_removal(hub: MediaHub, clients: list[ClientPeer]) -> None:
    session = hub.session("s-full")
    a, b, c = new_peer(clients, "a"), new_peer(clients, "b"), new_peer(clients, "c")
    await a.join(session)
    await b.join(session)
    with pytest.raises(SessionFullError):
        await c.join(session)
    await session.remove_participant("b")
    assert slot_of(session, "a", "video").track.source is None
    await c.join(session)
    await a.wait_frames("video", 10)
    await c.wait_frames("video", 10)
    await session.close()
    assert hub.get("s-full") is None
    assert await hub.stream_stats() == []


async def test_offer_without_vp8_or_bad_sdp_is_refused(
    hub: MediaHub, clients: list[ClientPeer]
) -> None:
    session = hub.session("s-codecs")
    states = StateLog(session)
    h264 = new_peer(clients, "h264")
    for transceiver in h264.pc.getTransceivers():
        if transceiver.kind == "video":
            caps = RTCRtpSender.getCapabilities("video").codecs
            transceiver.setCodecPreferences([c for c in caps if c.mimeType == "video/H264"])
    with pytest.raises(MediaNegotiationError):
        await h264.join(session)
    assert states.of("h264") == [], "a rejected offer changes nothing"
    assert "h264" not in session.participants, "a failed first offer holds no place"
    with pytest.raises(MediaNegotiationError):
        await session.accept_offer("junk", "v=0\r\nthis is not sdp\r\n", [])


async def test_send_only_client_gets_no_outputs(
    hub: MediaHub, clients: list[ClientPeer], decode_errors: DecodeErrorCounter
) -> None:
    session = hub.session("s-sendonly")
    kiosk = ClientPeer("kiosk", direction="sendonly")
    clients.append(kiosk)
    desk = new_peer(clients, "desk")
    await kiosk.join(session)
    await desk.join(session)
    await desk.wait_frames("video", 20)
    for kind in ("audio", "video"):
        slot = slot_of(session, "kiosk", kind)
        assert not slot.sending and slot.track.source is None
    assert kiosk.received == {}
    assert decode_errors.errors == []


async def test_second_camera_is_drained_and_tapped_not_routed(
    hub: MediaHub, clients: list[ClientPeer], decoders: DecoderCount
) -> None:
    """A desk that offers one video m-line gets the face camera only."""
    session = hub.session("s-doccam")
    recorder = Recorder(session)
    kiosk = new_peer(clients, "kiosk")
    document_camera = PacketSourceTrack("video")
    kiosk.pc.addTransceiver(document_camera, direction="sendonly")
    desk = new_peer(clients, "desk")
    await kiosk.join(session)
    await desk.join(session)
    await recorder.taps[("kiosk", "video:1")][0].wait(20)
    await desk.wait_frames("video", 20)
    assert set(desk.received) == {"audio", "video"}
    assert recorder.streams[("kiosk", "video:1")][0].subscribers == ()
    assert decoders.vp8 == 2, "only the two clients' receiving tracks decode"


async def test_second_camera_reaches_a_desk_that_offers_a_second_video_line(
    hub: MediaHub, clients: list[ClientPeer], decoders: DecoderCount
) -> None:
    """The kiosk's document camera goes to the desk's second video m-line, passthrough,
    and survives the kiosk's rejoin."""
    session = hub.session("s-doccam2")
    recorder = Recorder(session)
    kiosk = new_peer(clients, "kiosk")
    face = kiosk.sources["video"]
    document_camera = PacketSourceTrack("video")
    doc_sender = kiosk.pc.addTransceiver(document_camera, direction="sendonly").sender
    passthrough.on_keyframe_request(doc_sender, document_camera.request_keyframe)
    desk = new_peer(clients, "desk")
    desk.pc.addTransceiver("video", direction="recvonly")
    await kiosk.join(session)
    await desk.join(session)
    await desk.wait_frames("video", 20)
    await desk.wait_frames("video:1", 20)
    assert set(desk.received) == {"audio", "video", "video:1"}
    doc_stream = recorder.streams[("kiosk", "video:1")][0]
    assert len(doc_stream.subscribers) == 1
    face_stream = recorder.streams[("kiosk", "video")][0]
    desk_slots = [s for p, s in session.output_slots() if p == "desk" and s.kind == "video"]
    assert [s.track.source for s in desk_slots] == [face_stream, doc_stream]
    # Each camera's packets go to its own line: the face source's count is not the doc's.
    assert face is not document_camera
    assert decoders.vp8 == 3, "the desk decodes two videos, the kiosk one; the server none"

    # The kiosk rejoins with a new pc: the desk's second line carries the new stream.
    kiosk2 = ClientPeer("kiosk")
    clients.append(kiosk2)
    camera2 = PacketSourceTrack("video")
    sender2 = kiosk2.pc.addTransceiver(camera2, direction="sendonly").sender
    passthrough.on_keyframe_request(sender2, camera2.request_keyframe)
    await kiosk.pc.close()
    before = desk.frames("video:1")
    await kiosk2.join(session, "kiosk")
    await recorder.taps[("kiosk", "video:1")][1].wait(20)
    await desk.wait_frames("video:1", before + 20, within=15)
    desk_slots = [s for p, s in session.output_slots() if p == "desk" and s.kind == "video"]
    assert desk_slots[1].track.source is recorder.streams[("kiosk", "video:1")][1]
