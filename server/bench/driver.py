"""Benchmark clients: a kiosk and a desk per session, through the real
queue and signaling, each an aiortc peer publishing pre-encoded media and
decoding what it receives (so decode errors and join times are real).

A peer made with ``decode_video=False`` does not decode the video it
receives: it counts the complete encoded frames that leave its jitter buffer
(every packet of the frame arrived), through the same passthrough receiver
path the server uses. Frames lost are counted the same way on both paths;
decode errors only exist where frames are decoded."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.bench.source import FPS, EncodedClip, Pacer, PacketSourceTrack, opus_clip
from server.media import passthrough
from signaling.client import SignalingClient, login


@dataclass(eq=False)
class Peer:
    """One participant's media: sends a clip, decodes (or counts) what comes back."""

    clip: EncodedClip
    config: RTCConfiguration | None = None
    audio_clip: EncodedClip | None = None
    phase_locked: bool = False
    # False: received video is counted as complete encoded frames, not decoded.
    decode_video: bool = True
    pc: RTCPeerConnection = field(init=False)
    sources: dict[str, PacketSourceTrack] = field(default_factory=dict)
    # Frames out of each received track: decoded pictures, or complete encoded
    # frames for video when `decode_video` is False.
    decoded: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    first_video: float | None = None
    first_video_event: asyncio.Event = field(default_factory=asyncio.Event)
    session_id: str | None = None  # the server session this peer was paired into
    paired_at: float | None = None
    answered_at: float | None = None
    connected_at: float | None = None
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # What this peer's decoders did (counted at the decoder, per kind).
    decoding: dict[str, passthrough.DecodeObserver] = field(
        default_factory=lambda: {k: passthrough.DecodeObserver() for k in ("audio", "video")}
    )
    # Video frames missing between decoded ones (steps of the decoded pts).
    video_gaps: int = 0
    _last_video_pts: int | None = None

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection(self.config or RTCConfiguration(iceServers=[]))
        pacer = Pacer()
        for kind in ("audio", "video"):
            clip = self.clip if kind == "video" else (self.audio_clip or opus_clip())
            track = PacketSourceTrack(kind, clip, pacer=pacer, phase_locked=self.phase_locked)
            self.sources[kind] = track
            sender = self.pc.addTrack(track)
            passthrough.on_keyframe_request(sender, track.request_keyframe)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()

    def _on_track(self, track: MediaStreamTrack) -> None:
        passthrough.observe_decoding(self.decoding[track.kind], track)
        if track.kind == "video":
            # Like a browser, decode a frame once it is complete, not when the
            # next one starts (aiortc's default adds a frame of delay).
            for transceiver in self.pc.getTransceivers():
                if transceiver.receiver.track is track:
                    passthrough.reduce_video_latency(transceiver.receiver)
                    if not self.decode_video:
                        # Complete frames come out as av.Packet (pts = RTP
                        # timestamp, as a decoded frame's), never decoded.
                        passthrough.mark_passthrough(track, transceiver.receiver)
        self.tasks.append(asyncio.get_running_loop().create_task(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.decoded[track.kind] += 1
            if track.kind == "video":
                self._count_gap(frame.pts)
            if track.kind == "video" and self.first_video is None:
                self.first_video = time.monotonic()
                self.first_video_event.set()
            async with self.progress:
                self.progress.notify_all()

    async def wait_decoded(self, kind: str, count: int, within: float = 15) -> None:
        """Until `count` frames of `kind` have been decoded (TimeoutError otherwise)."""
        async with asyncio.timeout(within), self.progress:
            await self.progress.wait_for(lambda: self.decoded[kind] >= count)

    def _count_gap(self, pts: int | None) -> None:
        # The server forwards the publisher's timestamps (steps of one frame
        # interval), so a step of n intervals means n - 1 frames never arrived.
        if pts is None:
            return
        last, self._last_video_pts = self._last_video_pts, pts
        if last is not None and pts > last:
            self.video_gaps += max(0, round((pts - last) / VIDEO_TICKS) - 1)

    def counts(self) -> dict[str, Any]:
        """Counters for a measuring window: video frames sent, received (decoded,
        or complete encoded frames on the encoded path), missing, failed."""
        received = self.decoded["video"]
        return {
            "session": self.session_id,
            "path": self.video_path,
            "sent": self.video_sent,
            "received": received,
            "decoded": received if self.decode_video else 0,
            "gaps": self.video_gaps,
            "decode_failures": sum(d.failures for d in self.decoding.values()),
        }

    @property
    def video_path(self) -> str:
        """How this peer takes the video it receives: "decoded" or "encoded"."""
        return "decoded" if self.decode_video else "encoded"

    @property
    def video_sent(self) -> int:
        return self.sources["video"].packets_sent

    async def negotiate(self, client: SignalingClient) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await client.send({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp})
        answer = await client.expect("rtc.answer", timeout=30)
        self.answered_at = time.monotonic()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    def stop_sending(self) -> None:
        for track in self.sources.values():
            track.stop()

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class BenchSession:
    index: int
    kiosk: Peer
    desk: Peer
    call_at: float = 0.0
    clients: list[SignalingClient] = field(default_factory=list)
    http: list[aiohttp.ClientSession] = field(default_factory=list)

    def stamps(self) -> list[dict[str, Any]]:
        """Each end's join steps (`time.monotonic()`, one clock for every process
        of the machine) with the server session it was paired into.

        The queue is shared, so a desk's call-next may pair it with a kiosk of
        another `BenchSession` (even of another client process): join times are
        put together per server session by `join_steps`, not per BenchSession.
        """
        out = []
        for role, peer in (("kiosk", self.kiosk), ("desk", self.desk)):
            out.append(
                {
                    "role": role,
                    "session": peer.session_id,
                    "call": self.call_at if role == "desk" else None,
                    "paired": peer.paired_at,
                    "answered": peer.answered_at,
                    "connected": peer.connected_at,
                    "first_video": peer.first_video,
                }
            )
        return out

    @property
    def peers(self) -> tuple[Peer, Peer]:
        return (self.kiosk, self.desk)

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()
        for client in self.clients:
            await client.close()
        for http in self.http:
            await http.close()


async def prepare(
    base_url: str,
    index: int,
    token: str,
    reviewer: str,
    password: str,
    clip: EncodedClip,
    decode: tuple[bool, bool] = (True, True),
) -> tuple[BenchSession, SignalingClient, SignalingClient]:
    """Kiosk joins the queue, desk signs in; nobody is called yet. `decode`
    says whether the kiosk and the desk decode the video they receive."""
    session = BenchSession(
        index=index,
        kiosk=Peer(clip, decode_video=decode[0]),
        desk=Peer(clip, decode_video=decode[1]),
    )
    kiosk_http = aiohttp.ClientSession(base_url=base_url)
    desk_http = aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    session.http += [kiosk_http, desk_http]
    kiosk = await SignalingClient.connect(kiosk_http, token=token)
    await kiosk.send({"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True})
    await kiosk.expect("queue.status")
    await login(desk_http, reviewer, password)
    desk = await SignalingClient.connect(desk_http)
    session.clients += [kiosk, desk]
    return session, kiosk, desk


async def _paired(client: SignalingClient, peer: Peer, timeout: float) -> None:
    message = await client.expect("session.paired", timeout)
    peer.paired_at = time.monotonic()
    peer.session_id = message["session_id"]


async def answer_call(session: BenchSession, kiosk: SignalingClient, timeout: float = 30) -> None:
    """The kiosk's side, like the page: negotiate as soon as a reviewer calls it
    (whichever reviewer: the queue decides), then wait for the first video."""
    await _paired(kiosk, session.kiosk, timeout)
    await session.kiosk.negotiate(kiosk)
    async with asyncio.timeout(timeout):
        await session.kiosk.first_video_event.wait()


async def place_call(session: BenchSession, desk: SignalingClient, timeout: float = 30) -> None:
    """The desk's side: call next, negotiate, wait for the first video."""
    session.call_at = time.monotonic()
    await desk.send({"type": "desk.call_next"})
    await _paired(desk, session.desk, timeout)
    await session.desk.negotiate(desk)
    async with asyncio.timeout(timeout):
        await session.desk.first_video_event.wait()


async def call_and_join(
    session: BenchSession, kiosk: SignalingClient, desk: SignalingClient, timeout: float = 30
) -> None:
    """Both sides of one call whose kiosk is the one the desk will get."""
    await asyncio.gather(answer_call(session, kiosk, timeout), place_call(session, desk, timeout))


VIDEO_TICKS = 90000 // FPS


def decodes(ordinal: int, share: float) -> bool:
    """Whether receiver number `ordinal` (2 * session index + 0 kiosk / 1 desk)
    decodes its video, so that a `share` of all receivers do, spread evenly
    (share 1: every one; 0.5: every other one; 0: none)."""
    if not 0 <= share <= 1:
        raise ValueError(f"decode share must be within 0..1, got {share}")
    return math.floor((ordinal + 1) * share + 1e-9) > math.floor(ordinal * share + 1e-9)


JOIN_STEPS = ("paired", "answered", "connected", "first_video")


def join_steps(stamps: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Per server session: ms from the desk's call-next until each step was done
    at both ends (`first_video` is the join time). Incomplete sessions are left out."""
    by_session: dict[str, dict[str, dict[str, Any]]] = {}
    for stamp in stamps:
        if stamp["session"] is not None:
            by_session.setdefault(stamp["session"], {})[stamp["role"]] = stamp
    out = []
    for ends in by_session.values():
        desk, kiosk = ends.get("desk"), ends.get("kiosk")
        if desk is None or kiosk is None:
            continue
        if any(end[step] is None for end in (desk, kiosk) for step in JOIN_STEPS):
            continue
        call = desk["call"]
        out.append({step: (max(desk[step], kiosk[step]) - call) * 1000 for step in JOIN_STEPS})
    return out


def window_counts(start: dict[str, Any], end: dict[str, Any]) -> dict[str, Any]:
    """One peer's `Peer.counts()` over a window (`end` minus `start`)."""
    out = dict(end)
    for key in ("sent", "received", "decoded", "gaps", "decode_failures"):
        out[key] = end[key] - start[key]
    return out


def stream_losses(peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per forwarded video stream (publisher → the other end of its server
    session): frames sent, received and lost in the window, and the path the
    receiver took ("decoded", or "encoded": complete frames counted undecoded).

    `peers` are window counts with a `role` and a `session`. Lost frames are
    the larger of the gaps the receiver saw in its received sequence and sent
    minus received (the in-flight tail was drained before counting; the frames
    in flight when the window opened make `received` exceed `sent` by about
    one or two, which the gap count does not miss).
    """
    by_session: dict[str, dict[str, dict[str, Any]]] = {}
    for peer in peers:
        if peer["session"] is not None:
            by_session.setdefault(peer["session"], {})[peer["role"]] = peer
    out = []
    for session, ends in sorted(by_session.items()):
        for sender, receiver in (("kiosk", "desk"), ("desk", "kiosk")):
            if sender not in ends or receiver not in ends:
                continue
            sent, got = ends[sender]["sent"], ends[receiver]
            out.append(
                {
                    "session": session,
                    "from": sender,
                    "path": got["path"],
                    "sent": sent,
                    "received": got["received"],
                    "decoded": got["decoded"],
                    "lost": max(got["gaps"], sent - got["received"]),
                    "decode_failures": got["decode_failures"],
                }
            )
    return out


async def end(session: BenchSession) -> None:
    desk = session.clients[1]
    await desk.send({"type": "session.end", "outcome": "completed"})
    await desk.expect("session.ended", timeout=20)
