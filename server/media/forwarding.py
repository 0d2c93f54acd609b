"""Fan-out of encoded frames: one InboundStream per publisher track, one ForwardTrack per output.

Nothing here decodes. Packets are ``av.Packet`` objects (see ``passthrough``);
VP8 packets carry ``is_keyframe``, Opus packets are all independently decodable.

Limits worth knowing: passthrough cannot adapt the bitrate per subscriber (no
encoder runs); every subscriber gets what the publisher sends.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .passthrough import deliver_to, packet_arrival
from .stats import RateMeter

logger = logging.getLogger(__name__)

Tap = Callable[[av.Packet, float], None]
"""A tap gets every inbound packet and its arrival time (monotonic); it must be cheap."""

DEFAULT_QUEUE_FRAMES = {"video": 60, "audio": 100}  # ~2 s each
DEFAULT_INTERVAL = {"video": 3000, "audio": 960}  # 30 fps at 90 kHz, 20 ms at 48 kHz


class InboundStream:
    """One publisher track: reads its packets and pushes them to subscribers and taps."""

    def __init__(
        self,
        track: MediaStreamTrack,
        kind: str | None = None,
        *,
        request_upstream: Callable[[], int] | None = None,
        keyframe_interval_ms: int = 300,
        owner: str = "",
        label: str = "",
    ) -> None:
        self.track = track
        self.kind = kind or track.kind
        self.owner = owner  # the publishing participant, for stats
        self.label = label or f"{owner or self.kind}-{self.kind}-{id(self):x}"
        self.frames = 0
        self.bytes = 0
        self.keyframes = 0
        self.keyframe_requests = 0  # PLIs actually sent upstream
        self.keyframe_requests_coalesced = 0
        self.tap_errors = 0
        self.first_arrival: float | None = None
        self.ended = asyncio.Event()
        self.rate = RateMeter()
        self._request_upstream = request_upstream
        self._interval_s = keyframe_interval_ms / 1000
        self._last_request = -1e9
        self._last_keyframe = -1e9
        self._deferred: asyncio.TimerHandle | None = None
        self._retry_on_packet = False
        self._subscribers: list[ForwardTrack] = []
        self._taps: list[Tap] = []
        self._task: asyncio.Task[None] | None = None
        self._direct = False

    def __repr__(self) -> str:
        return f"<InboundStream {self.label} frames={self.frames}>"

    @property
    def subscribers(self) -> tuple[ForwardTrack, ...]:
        return tuple(self._subscribers)

    def start(self) -> None:
        """Start receiving (idempotent): packets are pushed to us by the
        passthrough receiver when it can, else a task reads the track."""
        if self._task is not None or self._direct:
            return
        if deliver_to(self.track, self._on_packet):
            self._direct = True
        else:
            self._task = asyncio.create_task(self._run(), name=f"inbound-{self.label}")

    def _on_packet(self, packet: av.Packet | None) -> None:
        """Direct delivery, inside aiortc's RTP handling: never raise into it."""
        if self.ended.is_set():
            return
        if packet is None:
            self._finish()
            return
        try:
            self._dispatch(packet)
        except Exception:
            logger.exception("%s: dispatch failed", self)

    def _finish(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        self.ended.set()

    async def stop(self) -> None:
        """Stop reading; subscribers stay attached but get nothing more."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.ended.set()

    def add_tap(self, tap: Tap) -> Callable[[], None]:
        """Call ``tap(packet, arrival)`` for every packet; returns a function removing it."""
        self._taps.append(tap)
        return lambda: self.remove_tap(tap)

    def remove_tap(self, tap: Tap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    def request_keyframe(self, *, joining: bool = False) -> None:
        """Ask the publisher for a keyframe, at most one per interval (extra ones coalesce).

        `joining`: the asker (a new subscriber, the recorder starting) has seen
        no keyframe yet. If the keyframe asked for last has already arrived, it
        went by before the asker was there, so a new one is asked for at once
        instead of after the interval; joins are few, so this cannot flood the
        publisher the way repeated loss reports could.
        """
        if self.kind != "video" or self._request_upstream is None or self.ended.is_set():
            return
        if joining and self._last_keyframe >= self._last_request:
            self._send_request()
            return
        wait = self._last_request + self._interval_s - time.monotonic()
        if wait <= 0:
            self._send_request()
        elif self._deferred is None:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._send_deferred)
        else:
            self.keyframe_requests_coalesced += 1

    def _send_deferred(self) -> None:
        self._deferred = None
        if not self.ended.is_set():
            self._send_request()

    def _send_request(self) -> None:
        assert self._request_upstream is not None
        if self._deferred is not None:
            self._deferred.cancel()  # this request serves the deferred one too
            self._deferred = None
        sent = self._request_upstream()
        # Nothing received yet (no SSRC known): retry when the first packet shows up.
        self._retry_on_packet = not sent
        if sent:
            self._last_request = time.monotonic()
            self.keyframe_requests += 1

    def _subscribe(self, track: ForwardTrack) -> None:
        if track not in self._subscribers:
            self._subscribers.append(track)

    def _unsubscribe(self, track: ForwardTrack) -> None:
        if track in self._subscribers:
            self._subscribers.remove(track)

    async def _run(self) -> None:
        try:
            while True:
                try:
                    packet = await self.track.recv()
                except MediaStreamError:
                    break
                if not isinstance(packet, av.Packet):
                    logger.error("%s: track yields %s, not av.Packet", self, type(packet))
                    break
                self._dispatch(packet)
        finally:
            self._finish()

    def _dispatch(self, packet: av.Packet) -> None:
        arrival = packet_arrival(packet)
        size = packet.size
        self.frames += 1
        self.bytes += size
        self.rate.add(size, arrival)
        if self.first_arrival is None:
            self.first_arrival = arrival
        keyframe = packet.is_keyframe
        if keyframe and self.kind == "video":
            self.keyframes += 1
            self._last_keyframe = time.monotonic()
        elif self._retry_on_packet:
            self._retry_on_packet = False
            self.request_keyframe()
        for tap in tuple(self._taps):
            try:
                tap(packet, arrival)
            except Exception:
                self.tap_errors += 1
                if self.tap_errors == 1:
                    logger.exception("%s: tap %r failed", self, tap)
        for subscriber in tuple(self._subscribers):
            subscriber._push(packet, arrival)


class ForwardedPacket:
    """What a ForwardTrack yields: one encoded frame with its output timing.

    RTCRtpSender packetizes anything that is not a decoded Frame using only
    ``bytes(packet)``, ``pts`` and ``time_base``, so a plain object does: no
    av.Packet is allocated and no payload copied per subscriber and frame.
    """

    __slots__ = ("data", "is_keyframe", "opaque", "pts", "time_base")

    def __init__(
        self, data: bytes, pts: int, time_base: Any, is_keyframe: bool, arrival: float
    ) -> None:
        self.data = data
        self.pts = pts
        self.time_base = time_base
        self.is_keyframe = is_keyframe
        self.opaque = arrival

    def __bytes__(self) -> bytes:
        return self.data

    @property
    def dts(self) -> int:
        return self.pts

    @property
    def size(self) -> int:
        return len(self.data)


class ForwardTrack(MediaStreamTrack):
    """One subscriber output: a bounded queue of packets from the attached InboundStream.

    A stalled consumer never makes it grow beyond ``max_frames``: on overflow the
    queue is dropped and (video) forwarding resumes at the next keyframe, which
    is requested. A consumer lagging more than ``catch_up_frames`` skips to the
    next keyframe that arrives (queued frames before a keyframe are useless), so
    a slow start does not leave a permanent delay. Output timestamps are re-based
    to stay continuous and strictly increasing across source switches, backward
    steps and jumps > ``max_jump_s``.
    """

    def __init__(
        self,
        kind: str,
        *,
        max_frames: int | None = None,
        max_jump_s: float = 1.0,
        keyframe_retry_s: float = 1.0,
        catch_up_frames: int = 6,
        label: str = "",
    ) -> None:
        super().__init__()
        self.kind = kind
        self.label = label or f"{kind}-{id(self):x}"
        self.max_frames = max_frames or DEFAULT_QUEUE_FRAMES.get(kind, 60)
        self.catch_up_frames = catch_up_frames
        self.frames_forwarded = 0
        self.bytes_forwarded = 0
        self.keyframes_forwarded = 0
        self.keyframe_requests = 0
        self.frames_dropped = 0
        self.stalls = 0
        self.catch_ups = 0
        self.rebases = 0
        self.max_queue_seen = 0
        self.rate = RateMeter()
        self._max_jump_s = max_jump_s
        self._keyframe_retry_s = keyframe_retry_s
        self._last_kf_request = -1e9
        self._queue: collections.deque[tuple[av.Packet, float]] = collections.deque()
        # The pending recv() waits on this future (cheaper per frame than an Event).
        self._waiter: asyncio.Future[None] | None = None
        self._source: InboundStream | None = None
        self._need_keyframe = kind == "video"
        self._rebase_next = False
        self._started = False
        self._last_in: int | None = None
        self._last_out: int | None = None
        self._interval: float = DEFAULT_INTERVAL.get(kind, 3000)

    def __repr__(self) -> str:
        return f"<ForwardTrack {self.label} forwarded={self.frames_forwarded}>"

    @property
    def source(self) -> InboundStream | None:
        return self._source

    @property
    def queued(self) -> int:
        return len(self._queue)

    def attach(self, source: InboundStream) -> None:
        """Forward ``source`` from its next keyframe on (requested now)."""
        if source is self._source:
            return
        self.detach()
        self._source = source
        source._subscribe(self)
        self.request_keyframe(joining=True)

    def detach(self) -> None:
        """Stop forwarding; queued packets of the old source are dropped."""
        if self._source is not None:
            self._source._unsubscribe(self)
            self._source = None
        self.frames_dropped += len(self._queue)
        self._queue.clear()
        self._need_keyframe = self.kind == "video"
        self._rebase_next = True

    def request_keyframe(self, *, joining: bool = False) -> None:
        """Ask the source for a keyframe (e.g. the subscriber sent PLI/FIR)."""
        if self.kind != "video" or self._source is None:
            return
        self.keyframe_requests += 1
        self._last_kf_request = time.monotonic()
        self._source.request_keyframe(joining=joining)

    def stop(self) -> None:
        self.detach()
        super().stop()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def recv(self) -> ForwardedPacket:  # type: ignore[override]
        """Next packet with re-based pts; waits while nothing is queued."""
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            # The consumer (the pc's sender) just started; frames may have piled up
            # while it was connecting: a keyframe now lets us skip them.
            self._started = True
            if len(self._queue) > self.catch_up_frames:
                self.request_keyframe()
        packet, arrival = self._queue.popleft()
        time_base = packet.time_base  # a new Fraction at every read: read it once
        out = ForwardedPacket(
            bytes(packet),
            self._rebase(packet.pts or 0, time_base),
            time_base,
            packet.is_keyframe,
            arrival,
        )
        self.frames_forwarded += 1
        self.bytes_forwarded += out.size
        self.rate.add(out.size)
        if out.is_keyframe and self.kind == "video":
            self.keyframes_forwarded += 1
        return out

    def _rebase(self, pts: int, time_base: object) -> int:
        """Map a source pts to a continuous, strictly increasing output pts."""
        last_in, last_out = self._last_in, self._last_out
        self._last_in = pts
        if last_out is None or last_in is None:
            out = 0
        else:
            delta = pts - last_in
            max_jump = int(self._max_jump_s / float(time_base)) if time_base else 90000
            if self._rebase_next or delta <= 0 or delta > max_jump:
                self.rebases += 1
                out = last_out + max(1, round(self._interval))
            else:
                self._interval += (delta - self._interval) / 8
                out = last_out + delta
        self._rebase_next = False
        self._last_out = out
        return out

    def _push(self, packet: av.Packet, arrival: float) -> None:
        """Called by the source for every packet; never blocks, never grows unbounded."""
        video = self.kind == "video"
        if video and self._need_keyframe:
            if not packet.is_keyframe:
                self.frames_dropped += 1
                if time.monotonic() - self._last_kf_request > self._keyframe_retry_s:
                    self.request_keyframe()
                return
            self._need_keyframe = False
        elif video and packet.is_keyframe and len(self._queue) > self.catch_up_frames:
            self.catch_ups += 1
            self.frames_dropped += len(self._queue)
            self._queue.clear()
        if len(self._queue) >= self.max_frames:
            self.stalls += 1
            self.frames_dropped += len(self._queue)
            self._queue.clear()
            if video and not packet.is_keyframe:
                self.frames_dropped += 1
                self._need_keyframe = True
                self.request_keyframe()
                return
        self._queue.append((packet, arrival))
        if len(self._queue) > self.max_queue_seen:
            self.max_queue_seen = len(self._queue)
        self._wake()
