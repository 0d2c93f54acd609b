"""MediaSession: server-terminated peer connections that forward encoded media.

Transport-agnostic: SDP strings in, SDP strings out. One RTCPeerConnection per
participant; a rejoin is a new offer (aiortc has no ICE restart), which replaces
and closes the previous pc while the session, the other side's outputs and the
routing survive.

Routing uses *slots*: each participant's pc has, per kind, a list of send
transceivers (one per audio/video m-line the client offered). A slot is
*assigned* to one source, (other participant, track key), and keeps it while
that participant stays in the session: participant by participant in rank
order, each one's primary track ("audio"/"video") then its extra tracks. A
slot whose source left is free for the next newcomer. Two parties need one
slot per kind; each further participant needs one more slot per kind on the
others' pcs: the client re-offers on its *current* pc with more m-lines
(``accept_offer(..., renegotiate=True)``), so its own inbound streams and
their recordings carry on. `routes` says which mid carries whom.

Codecs: VP8 (+RTX) and Opus only, so forwarding never transcodes. Inbound tracks
are marked passthrough (``passthrough``): the server never decodes. Limits:
no per-subscriber bitrate adaptation (no encoder runs). A participant's extra
tracks of one kind ("video:1", the kiosk's document camera) go to the others'
slots past the primary ones: a desk that offers a second video m-line gets it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from . import passthrough
from .forwarding import ForwardTrack, InboundStream
from .negotiation import (
    IceServerLike,
    check_offer,
    codec_preferences,
    ice_server,
    offered_kinds,
    repair_bundle,
)
from .slots import (
    Participant,
    Slot,
    mark_wanted,
    mid_order,
    mlines,
    transceiver_of,
    wanted_sources,
)
from .stats import packets_received, rtp_stats

logger = logging.getLogger(__name__)

StateCallback = Callable[[str, str], Any]
InboundCallback = Callable[[str, str, InboundStream], Any]

# How long a slot added by a renegotiation waits before media goes out on it (see _release).
RENEGOTIATION_SETTLE_S = 0.3
_STATES = {"new": "connecting", "connecting": "connecting", "connected": "connected"}
_STATES.update(failed="failed", closed="closed")


class SessionFullError(Exception):
    """The session already has ``max_participants`` participants."""


class SessionClosedError(Exception):
    """The media session was closed."""


class MediaNegotiationError(ValueError):
    """The offer could not be answered (bad SDP, no VP8/Opus, ...)."""


class MediaSession:
    """The media of one video session: participants' pcs and the routing between them."""

    def __init__(
        self,
        session_id: str,
        *,
        max_participants: int = 2,
        keyframe_interval_ms: int = 300,
        queue_frames: Mapping[str, int] | None = None,
        silence_s: float | None = None,
        on_close: Callable[[MediaSession], None] | None = None,
    ) -> None:
        passthrough.install()
        self.session_id = session_id
        self.max_participants = max_participants
        self.keyframe_interval_ms = keyframe_interval_ms
        self.silence_s = silence_s
        self.queue_frames = dict(queue_frames or {})
        self.participants: dict[str, Participant] = {}
        self.closed = False
        self._on_close = on_close
        self._state_callbacks: list[StateCallback] = []
        self._inbound_callbacks: list[InboundCallback] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._joins = 0

    def __repr__(self) -> str:
        return f"<MediaSession {self.session_id} {list(self.participants)}>"

    def on_participant_state(self, callback: StateCallback) -> None:
        """Call ``callback(participant_id, state)``; state: connecting/connected/failed/closed,
        or silent (connected, but nothing arrived for ``silence_s``: the pc is closed)."""
        self._state_callbacks.append(callback)

    def on_inbound(self, callback: InboundCallback) -> None:
        """Call ``callback(participant_id, key, stream)`` for every new inbound stream.

        ``key`` is "audio" or "video" ("video:1" for a participant's second video
        track). Called before the stream's first packet, so a tap added there sees
        them all. Packets are VP8 (video) or Opus (audio) ``av.Packet`` objects; a
        rejoin makes a new stream (a new recording segment).
        """
        self._inbound_callbacks.append(callback)

    def participant_state(self, participant_id: str) -> str | None:
        p = self.participants.get(participant_id)
        return p.state if p else None

    def slots_needed(
        self, participant_id: str, members: Iterable[str] | None = None
    ) -> dict[str, int]:
        """Per kind, the m-lines a participant needs to receive every other's tracks.

        ``members``: everyone in the session (also those who have not offered
        yet); by default the participants with a pc here."""
        ids = list(self.participants) if members is None else list(members)
        others = [pid for pid in dict.fromkeys(ids) if pid != participant_id]
        needed = {}
        for kind in ("audio", "video"):
            extra = sum(
                1
                for pid in others
                if pid in self.participants
                for k in self.participants[pid].inbound
                if k.startswith(kind + ":")
            )
            needed[kind] = len(others) + extra
        return needed

    def routes(self, participant_id: str) -> list[dict[str, Any]]:
        """What each of a participant's negotiated m-lines carries: mid, kind, from, track.

        ``from`` is None for a free slot (its source left, or nobody to carry yet)."""
        p = self.participants.get(participant_id)
        if p is None:
            return []
        rows = []
        for kind, slots in p.slots.items():
            for slot in slots:
                if slot.transceiver.mid is None or not slot.wanted:
                    continue
                owner, key = slot.assigned or (None, None)
                rows.append(
                    {"mid": slot.transceiver.mid, "kind": kind, "from": owner, "track": key}
                )
        return sorted(rows, key=lambda r: mid_order(r["mid"]))

    async def accept_offer(
        self,
        participant_id: str,
        offer_sdp: str,
        ice_servers: Iterable[IceServerLike] = (),
        *,
        renegotiate: bool = False,
        rank: int | None = None,
        receive_only: bool = False,
    ) -> str:
        """Answer a participant's offer with a new pc (closing any previous one).

        ``rank`` orders the participant among the sources (lower first; by
        default the order of first offers): the applicant before the reviewer
        before the others, whoever offered first.
        With ``renegotiate`` and a live pc, the offer is applied to that pc
        instead (more m-lines to receive a newcomer): its inbound streams and
        recordings carry on. A ``receive_only`` participant (a supervisor's spot
        check) is never a source: whatever it sends is dropped, and nobody is
        given a slot for it. An offer that fails `check_offer` changes nothing:
        the current pc carries on."""
        async with self._locks.setdefault(participant_id, asyncio.Lock()):
            if self.closed:
                raise SessionClosedError(self.session_id)
            try:
                check_offer(offer_sdp)
            except ValueError as exc:
                raise MediaNegotiationError(f"{participant_id}: {exc}") from None
            participant = self.participants.get(participant_id)
            if participant is None:
                if len(self.participants) >= self.max_participants:
                    raise SessionFullError(f"{self.session_id}: {self.max_participants} max")
                participant = self.participants[participant_id] = Participant(participant_id)
                self._joins += 1
                participant.order = self._joins if rank is None else rank
            participant.receive_only = participant.receive_only or receive_only
            pc = participant.pc
            if (
                renegotiate
                and pc is not None
                and pc.signalingState == "stable"
                and pc.connectionState not in ("failed", "closed")
            ):
                return await self._renegotiate(participant, pc, offer_sdp)
            await self._close_pc(participant)
            for stream in participant.inbound.values():
                self._spawn(stream.stop())  # ended with the old pc; outputs stay attached
            participant.inbound, participant.receivers = {}, {}
            config = RTCConfiguration(iceServers=[ice_server(s) for s in ice_servers])
            pc = RTCPeerConnection(config)
            participant.pc = pc
            self._set_state(participant, "connecting")
            pc.on("connectionstatechange", lambda: self._on_pc_state(participant, pc))
            pc.on("track", lambda track: self._on_track(participant, pc, track))
            try:
                kinds = offered_kinds(offer_sdp)
                if not kinds:
                    raise ValueError("the offer has no audio or video m-line")
                for kind in kinds:
                    self._add_slot(participant, pc, kind)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
                repair_bundle(pc, offer_sdp)
                mark_wanted(participant, offer_sdp)
                self._route()
                await pc.setLocalDescription(await pc.createAnswer())
                self._route()  # slots negotiated recvonly/inactive are detached now
                if self.closed:
                    raise SessionClosedError(self.session_id)
            except Exception as exc:
                await self._close_pc(participant)
                self._set_state(participant, "failed")
                if not participant.joined:  # never joined: do not hold a place
                    self.participants.pop(participant_id, None)
                if isinstance(exc, SessionClosedError):
                    raise
                raise MediaNegotiationError(f"{participant_id}: {exc}") from exc
            participant.joined = True
            return pc.localDescription.sdp

    async def _renegotiate(self, participant: Participant, pc: RTCPeerConnection, sdp: str) -> str:
        """Apply a further offer to a participant's current pc: new m-lines get slots."""
        known = {t.mid for t in pc.getTransceivers() if t.mid is not None}
        added: list[Slot] = []
        try:
            for mid, kind, _ in mlines(sdp):
                if mid not in known:
                    added.append(self._add_slot(participant, pc, kind, held=True))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            repair_bundle(pc, sdp)
            mark_wanted(participant, sdp)
            self._route()
            await pc.setLocalDescription(await pc.createAnswer())
            self._route()
        except Exception as exc:
            logger.warning("%s: renegotiation with %s failed: %s", self, participant, exc)
            raise MediaNegotiationError(f"{participant.participant_id}: {exc}") from exc
        if added:
            self._spawn(self._release(added))
        return pc.localDescription.sdp

    async def _release(self, slots: list[Slot]) -> None:
        """Start feeding slots added by a renegotiation, RENEGOTIATION_SETTLE_S later.

        Until the client has applied the answer it has no receiver for the new
        SSRCs; aiortc's RTP router then hands a packet of an unknown SSRC to the
        only receiver of its payload type (the existing video line), which
        decodes garbage. A browser demuxes by MID and would not mind."""
        await asyncio.sleep(RENEGOTIATION_SETTLE_S)
        for slot in slots:
            slot.held = False
        if not self.closed:
            self._route()

    async def remove_participant(self, participant_id: str) -> None:
        """Close a participant's pc and forget them (they left for good)."""
        async with self._locks.setdefault(participant_id, asyncio.Lock()):
            participant = self.participants.pop(participant_id, None)
            if participant is None:
                return
            await self._close_pc(participant)
            self._set_state(participant, "closed")
            for stream in participant.inbound.values():
                await stream.stop()
            self._route()
        self._locks.pop(participant_id, None)

    async def close(self) -> None:
        """Close every pc and stream of the session."""
        if self.closed:
            return
        self.closed = True
        for participant in list(self.participants.values()):
            await self._close_pc(participant)
            self._set_state(participant, "closed")
            for stream in participant.inbound.values():
                await stream.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._on_close is not None:
            self._on_close(self)

    def inbound_streams(self) -> list[tuple[str, str, InboundStream]]:
        """(participant_id, kind, stream) for every current inbound stream."""
        return [
            (p.participant_id, kind, stream)
            for p in self.participants.values()
            for kind, stream in p.inbound.items()
        ]

    def output_slots(self) -> list[tuple[str, Slot]]:
        """(participant_id, slot) for every output of the current pcs."""
        return [
            (p.participant_id, slot)
            for p in self.participants.values()
            for slots in p.slots.values()
            for slot in slots
        ]

    async def stream_stats(self) -> list[dict[str, Any]]:
        """One dict per inbound stream and per output (see MediaHub.stream_stats)."""
        rows = []
        for p in self.participants.values():
            for kind, stream in p.inbound.items():
                rtp = await rtp_stats(p.receivers.get(kind), kind, "inbound-rtp")
                rows.append(
                    self._row(p.participant_id, kind, "in", stream.rate.bps(), rtp)
                    | {
                        "frames_forwarded": stream.frames,
                        "keyframe_requests": stream.keyframe_requests,
                        "frames_dropped": 0,
                        "subscribers": len(stream.subscribers),
                        "active": not stream.ended.is_set(),
                    }
                )
            for kind, slots in p.slots.items():
                for slot in slots:
                    rtp = await rtp_stats(slot.sender, kind, "remote-inbound-rtp")
                    source = slot.track.source
                    rows.append(
                        self._row(p.participant_id, kind, "out", slot.track.rate.bps(), rtp)
                        | {
                            "frames_forwarded": slot.track.frames_forwarded,
                            "keyframe_requests": slot.track.keyframe_requests,
                            "frames_dropped": slot.track.frames_dropped,
                            "source": source.owner if source else None,
                            "active": slot.track.readyState == "live",
                        }
                    )
        return rows

    def _row(
        self, participant_id: str, kind: str, direction: str, bps: float, rtp: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "session": self.session_id,
            "participant": participant_id,
            "kind": kind,
            "direction": direction,
            "bitrate_bps": round(bps),
            **rtp,
        }

    def _add_slot(
        self, participant: Participant, pc: RTCPeerConnection, kind: str, held: bool = False
    ) -> Slot:
        track = ForwardTrack(
            kind,
            max_frames=self.queue_frames.get(kind),
            label=f"{self.session_id}/{participant.participant_id}/{kind}-out",
        )
        transceiver = pc.addTransceiver(track, direction="sendrecv")
        transceiver.setCodecPreferences(codec_preferences(kind))
        passthrough.on_keyframe_request(transceiver.sender, track.request_keyframe)
        slot = Slot(kind, track, transceiver, held=held)
        participant.slots.setdefault(kind, []).append(slot)
        return slot

    def _on_track(
        self, participant: Participant, pc: RTCPeerConnection, track: MediaStreamTrack
    ) -> None:
        if participant.pc is not pc or participant.receive_only:
            return  # a receive-only participant's media is never forwarded nor recorded
        receiver = transceiver_of(pc, track).receiver
        passthrough.mark_passthrough(track, receiver)
        kind = track.kind
        if kind == "audio":
            passthrough.reduce_audio_latency(receiver)
        else:
            passthrough.reduce_video_latency(receiver)
            passthrough.batch_bitrate_estimation(receiver)
        key, n = kind, 0
        while key in participant.inbound:  # a second camera (document camera): "video:1"
            n += 1
            key = f"{kind}:{n}"
        stream = InboundStream(
            track,
            kind,
            request_upstream=lambda: passthrough.request_keyframe(receiver),
            keyframe_interval_ms=self.keyframe_interval_ms,
            owner=participant.participant_id,
            label=f"{self.session_id}/{participant.participant_id}/{key}-in",
        )
        participant.inbound[key] = stream
        participant.receivers[key] = receiver
        for callback in self._inbound_callbacks:
            self._call(callback, participant.participant_id, key, stream)
        stream.start()
        self._route()

    def _route(self) -> None:
        """Attach every output slot to the inbound stream of the source it is assigned.

        Assignments stick (see the module docstring): a slot keeps its source
        while that participant stays; free slots take the unassigned sources
        participant by participant (rank order), each one's primary track
        then its extra tracks ("video:1", the kiosk's document camera), so a
        desk's second video m-line gets the kiosk's document camera when the
        kiosk ranks first. A client that wants more tracks offers more m-lines.
        """
        for participant in self.participants.values():
            others = sorted(
                (p for p in self.participants.values() if p is not participant),
                key=lambda p: p.order,
            )
            for kind, slots in participant.slots.items():
                wanted = wanted_sources(others, kind)
                for slot in slots:
                    if slot.assigned not in wanted or not slot.sending:
                        slot.assigned = None
                taken = {slot.assigned for slot in slots}
                free = [slot for slot in slots if slot.assigned is None and slot.sending]
                for source_key in wanted:
                    if source_key not in taken and free:
                        free.pop(0).assigned = source_key
                for slot in slots:
                    source = None
                    if slot.assigned is not None:
                        owner, key = slot.assigned
                        source = self.participants[owner].inbound.get(key)
                    if slot.held:
                        continue
                    if source is not None and slot.sending:
                        if slot.track.source is not source:
                            slot.track.attach(source)
                    elif slot.track.source is not None:
                        slot.track.detach()

    def _on_pc_state(self, participant: Participant, pc: RTCPeerConnection) -> None:
        if participant.pc is not pc:
            return  # a replaced pc: its end is not news
        state = _STATES.get(pc.connectionState, pc.connectionState)
        self._set_state(participant, state)
        if state == "failed":
            self._spawn(pc.close())
        elif state == "connected" and self.silence_s:
            self._spawn(self._watch_silence(participant, pc, self.silence_s))

    async def _watch_silence(
        self, participant: Participant, pc: RTCPeerConnection, silence_s: float
    ) -> None:
        """Fail a connected pc from which nothing (no RTP, no RTCP) arrived for silence_s.

        A browser tab that dies sends nothing more, but ICE consent freshness
        (aioice: six missed checks five seconds apart) takes about half a minute
        to notice. A live peer always sends something: its media, or at least
        RTCP receiver reports for the media the server forwards to it.
        """
        step = min(0.5, silence_s / 4)
        last = packets_received(pc)
        heard = asyncio.get_running_loop().time()
        while participant.pc is pc and pc.connectionState == "connected" and not self.closed:
            await asyncio.sleep(step)
            now_count = packets_received(pc)
            now = asyncio.get_running_loop().time()
            if now_count is None:
                return  # cannot be measured here: rely on ICE consent alone
            if now_count != last:
                last, heard = now_count, now
            elif now - heard >= silence_s and participant.pc is pc:
                logger.info(
                    "%s: nothing from %s for %.1f s: connection failed",
                    self,
                    participant.participant_id,
                    now - heard,
                )
                self._set_state(participant, "silent")
                await self._close_silent(participant, pc)
                return

    async def _close_silent(self, participant: Participant, pc: RTCPeerConnection) -> None:
        async with self._locks.setdefault(participant.participant_id, asyncio.Lock()):
            if participant.pc is pc:  # not replaced by a new offer meanwhile
                await self._close_pc(participant)

    def _set_state(self, participant: Participant, state: str) -> None:
        if participant.state == state:
            return
        participant.state = state
        for callback in self._state_callbacks:
            self._call(callback, participant.participant_id, state)

    async def _close_pc(self, participant: Participant) -> None:
        pc, participant.pc = participant.pc, None
        for slots in participant.slots.values():
            for slot in slots:
                slot.track.stop()
        participant.slots = {}
        if pc is not None:
            await pc.close()

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception:
            logger.exception("%s: callback %r failed", self, callback)
            return
        if inspect.isawaitable(result):
            self._spawn(result)

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
