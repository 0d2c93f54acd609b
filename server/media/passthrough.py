"""Encoded-frame passthrough for aiortc 1.16: the ONLY module touching aiortc internals.

aiortc's receiver always decodes. This module swaps the receiver's decoder thread
for one that hands the encoded frames on as ``av.Packet`` objects, for tracks
that were marked with :func:`mark_passthrough`; every other track (test clients
in the same process, say) still decodes as usual.

Private aiortc details relied upon (checked by
``tests/interop/test_media_aiortc_internals.py``; pin ``aiortc==1.16.*``):

- ``aiortc.rtcrtpreceiver.decoder_worker(loop, input_q, output_q, decode_error)``
  is a module-level function that ``RTCRtpReceiver.receive()`` looks up by
  global name when it starts the decoder thread (after the pc's "track" event).
  ``input_q`` is a ``queue.Queue`` of ``(RTCRtpCodecParameters, JitterFrame)``
  tuples ended by ``None``; the worker must end the track by putting ``None``
  on ``output_q``.
- ``output_q`` is ``RemoteStreamTrack._queue`` (an ``asyncio.Queue``) whose items
  ``RemoteStreamTrack.recv()`` returns unchanged (``None`` ends the track).
- ``JitterFrame.data`` (depayloaded bytes of one frame) and
  ``JitterFrame.timestamp`` (RTP timestamp already unwrapped by the receiver's
  ``TimestampMapper``, so it starts at 0; a backward step shows as +2**32).
- ``RTCRtpReceiver._RTCRtpReceiver__jitter_buffer`` is a ``JitterBuffer(capacity,
  prefetch)``; audio uses ``prefetch=4``, which holds every Opus frame until 4
  more arrived (80 ms), and video frames leave when the next frame starts
  (+1 frame, ~33 ms). :func:`reduce_audio_latency` and
  :func:`reduce_video_latency` swap in a subclass (before the first packet)
  that releases a frame as soon as it is complete: an Opus packet at once, a
  VP8 frame at its last packet (RTP marker bit, RFC 7741) with none missing.
  It reads ``JitterBuffer._origin``, ``._packets``, ``._capacity``,
  ``.remove(n)``, ``RtpPacket.marker`` and ``RtpPacket._data`` (the payload the
  receiver depayloaded before ``add``).
- ``RTCRtpReceiver._RTCRtpReceiver__decoder_queue`` is the ``queue.Queue`` that
  ``_handle_rtp_packet`` (on the event loop) ``put``s each ``(codec,
  JitterFrame)`` into and ``__stop_decoder`` puts ``None`` into; it is created
  in ``__init__`` and handed to the decoder thread in ``receive()``.
  :func:`mark_passthrough` with a receiver swaps it for a :class:`_DirectQueue`
  that turns each frame into a packet right there on the loop: no thread hop,
  no lock, no wake-up of the loop per frame (the decoder thread aiortc still
  starts returns at once; ``_handle_rtp_packet`` only tests that
  ``__decoder_thread`` is set, and ``__stop_decoder`` joins it).
- ``RTCRtpReceiver._send_rtcp_pli(media_ssrc)`` (coroutine) sends a PLI upstream;
  ``RTCRtpReceiver._RTCRtpReceiver__rtx_ssrc`` (dict rtx ssrc -> media ssrc)
  lets us skip RTX SSRCs reported by ``getSynchronizationSources()``.
- ``RTCRtpSender._handle_rtcp_packet`` calls ``self._send_keyframe()`` on an
  incoming PLI or FIR, so an instance attribute override intercepts it.
- ``decoder_worker`` (run by the decoder thread of a decoding receiver) gets
  its decoder from the module global ``aiortc.rtcrtpreceiver.get_decoder``
  and calls ``decoder.decode(JitterFrame)`` per frame; a decode error is an
  ``av.FFmpegError`` that it logs and skips. :func:`observe_decoding` wraps
  the decoders that ``get_decoder`` returns, to count results at the source.
- ``RTCRtpSender`` packetizes a track's ``av.Packet`` without encoding, using
  ``bytes(packet)``, ``packet.pts`` and ``packet.time_base`` (public behaviour,
  used by ``MediaPlayer(decode=False)``).

Per-packet costs trimmed (the bench measures them; see the functions):

- ``aiortc.clock.current_ntp_time`` and ``current_ms`` go through ``datetime``
  (3 us a call); the sender calls the first twice per RTP packet and the
  DTLS transport the second once per packet received, always as attributes of
  the ``aiortc.clock`` module. :func:`install` replaces both with the same
  values computed from ``time.time_ns()``.
- ``RTCRtpReceiver._RTCRtpReceiver__remote_bitrate_estimator`` (video only) is
  a ``RemoteBitrateEstimator`` whose ``add(arrival_time_ms=, abs_send_time=,
  payload_size=, ssrc=)`` ``_handle_rtp_packet`` calls for every packet with
  an abs-send-time extension; a ``(bitrate, ssrcs)`` result is sent as REMB.
  :func:`batch_bitrate_estimation` wraps it so that it runs once per burst of
  packets sent together (a video frame) instead of once per packet, and
  swaps its ``incoming_bitrate`` (a ``RateCounter(1000, 8000)`` with
  ``add(value, now_ms)``, ``rate(now_ms)``, ``reset()``, whose window is a
  ring of 1000 one-millisecond buckets walked one by one, in Python, as time
  passes) for :class:`~server.media.counters.WindowRate`, which gives the same rates,
  and its ``estimator`` (an ``OveruseEstimator``, whose
  ``update_min_frame_period(ts_delta)`` keeps ``ts_delta_hist``, at most
  ``MIN_FRAME_PERIOD_HISTORY_LENGTH`` long) for a subclass computing the same
  minimum with the builtin ``min``.

Each packet's arrival time (``time.monotonic()`` when the jitter buffer released
the frame) travels in ``packet.opaque``; read it with :func:`packet_arrival`.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc import clock as _clock
from aiortc import rtcrtpreceiver as _rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rate import MIN_FRAME_PERIOD_HISTORY_LENGTH, OveruseEstimator
from aiortc.rtp import RtpPacket

# DecodeObserver is re-exported: observe_decoding() reports to one.
from .counters import DecodeObserver as DecodeObserver
from .counters import WindowRate

logger = logging.getLogger(__name__)

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48000)

_MARKER = "_remote_window_passthrough"
_passthrough_queues: weakref.WeakSet[asyncio.Queue[Any]] = weakref.WeakSet()
_original_decoder_worker: Callable[..., None] | None = None
_install_lock = threading.Lock()
_pending: set[asyncio.Task[None]] = set()
_original_get_decoder: Callable[..., Any] | None = None


def is_vp8_keyframe(data: bytes) -> bool:
    """True if ``data`` (one VP8 frame) is a keyframe: bit 0 of the frame tag is 0."""
    return bool(data) and not (data[0] & 0x01)


def packet_arrival(packet: av.Packet) -> float:
    """Arrival time (``time.monotonic()``) of a passthrough packet, or now if unknown."""
    arrival = packet.opaque
    return arrival if isinstance(arrival, float) else time.monotonic()


def make_packet(data: bytes, pts: int, kind: str, arrival: float | None = None) -> av.Packet:
    """Build the ``av.Packet`` a passthrough track yields for one encoded frame."""
    packet = av.Packet(data)
    packet.pts = pts
    packet.dts = pts
    if kind == "video":
        packet.time_base = VIDEO_TIME_BASE
        packet.is_keyframe = is_vp8_keyframe(data)
    else:
        packet.time_base = AUDIO_TIME_BASE
        packet.is_keyframe = True
    packet.opaque = time.monotonic() if arrival is None else arrival
    return packet


def _passthrough_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
) -> None:
    """Turn each ``(codec, JitterFrame)`` into an ``av.Packet`` on ``output_q``; end with None."""
    put = output_q.put_nowait
    while True:
        task = input_q.get()
        if task is None:
            break
        codec, frame = task
        kind = "video" if codec.mimeType.lower().startswith("video/") else "audio"
        packet = make_packet(frame.data, frame.timestamp, kind, time.monotonic())
        try:
            loop.call_soon_threadsafe(put, packet)
        except RuntimeError:  # loop closed: nobody is listening any more
            return
    try:
        loop.call_soon_threadsafe(put, None)
    except RuntimeError:
        pass


PacketSink = Callable[[av.Packet | None], None]


class _DirectQueue:
    """Stands in for a receiver's decoder queue: frames become packets on the loop.

    They go to the track's queue, or straight to a sink set with
    :func:`deliver_to` (which saves a queue and a task switch per frame).
    """

    def __init__(self, output_q: asyncio.Queue[Any], kind: str) -> None:
        self.sink: PacketSink = output_q.put_nowait
        self._kind = kind

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self.sink(None)  # ends the track, as the decoder thread would
            return
        frame = task[1]
        self.sink(make_packet(frame.data, frame.timestamp, self._kind, time.monotonic()))


_direct_queues: weakref.WeakKeyDictionary[MediaStreamTrack, _DirectQueue] = (
    weakref.WeakKeyDictionary()
)


def deliver_to(track: MediaStreamTrack, sink: PacketSink) -> bool:
    """Hand a direct-mode track's packets (then None at its end) to `sink`,
    called on the event loop inside aiortc's RTP handling: it must be cheap and
    must not raise. False when the track is not in direct mode."""
    direct = _direct_queues.get(track)
    if direct is None:
        return False
    direct.sink = sink
    return True


def _decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """Replacement for aiortc's ``decoder_worker``: passthrough if marked, else decode."""
    if isinstance(input_q, _DirectQueue):
        # Packets are delivered on the loop: this thread has nothing to do. It
        # ends at once (never holding the process open); the receiver only
        # checks that its thread object exists and joins it when stopping.
        return
    elif output_q in _passthrough_queues:
        _passthrough_worker(loop, input_q, output_q)
    else:
        assert _original_decoder_worker is not None
        # get_decoder runs in this thread: it finds the track's observer here.
        _decoding.observer = _track_observers.get(output_q)
        _original_decoder_worker(loop, input_q, output_q, decode_error)


setattr(_decoder_worker, _MARKER, True)


def install() -> None:
    """Install the passthrough-aware decoder worker into aiortc (idempotent)."""
    global _original_decoder_worker
    with _install_lock:
        _install_fast_clock()
        current = _rtcrtpreceiver.decoder_worker
        if getattr(current, _MARKER, False):
            return
        _original_decoder_worker = current
        _rtcrtpreceiver.decoder_worker = _decoder_worker
        global _original_get_decoder
        if not getattr(_rtcrtpreceiver.get_decoder, _MARKER, False):
            _original_get_decoder = _rtcrtpreceiver.get_decoder
            _rtcrtpreceiver.get_decoder = _observed_get_decoder


_NTP_EPOCH_OFFSET_NS = 2_208_988_800 * 1_000_000_000  # 1900-01-01 to 1970-01-01


def ntp_time() -> int:
    """64-bit NTP time now: what ``aiortc.clock.current_ntp_time()`` returns, without datetime."""
    seconds, ns = divmod(time.time_ns() + _NTP_EPOCH_OFFSET_NS, 1_000_000_000)
    return (seconds << 32) | ((ns << 32) // 1_000_000_000)


def ntp_ms() -> int:
    """Milliseconds since the NTP epoch: what ``aiortc.clock.current_ms()`` returns."""
    return (time.time_ns() + _NTP_EPOCH_OFFSET_NS) // 1_000_000


setattr(ntp_time, _MARKER, True)
setattr(ntp_ms, _MARKER, True)


def _install_fast_clock() -> None:
    if not getattr(_clock.current_ntp_time, _MARKER, False):
        _clock.current_ntp_time = ntp_time
    if not getattr(_clock.current_ms, _MARKER, False):
        _clock.current_ms = ntp_ms


ABS_SEND_TIME_HZ = 1 << 18  # abs-send-time: 6.18 fixed-point seconds, 24 bits
_BURST = ABS_SEND_TIME_HZ // 500  # packets sent within 2 ms of a burst's first one


class _BurstEstimator:
    """Feeds aiortc's ``RemoteBitrateEstimator`` one sample per burst of packets.

    The estimator works on groups of packets sent within 5 ms of each other
    (WebRTC's inter-arrival groups: size summed, last send time, last
    arrival); the packets of one video frame leave the publisher together, so
    handing it each burst (sent within 2 ms) as one packet of the summed size,
    with the burst's last send and arrival times, gives it the same groups at
    a quarter of the calls. A burst is handed over when the next one starts,
    33 ms later at most, against a REMB interval of a second.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.samples = 0  # calls into the real estimator
        self._ssrc: int | None = None
        self._first = 0
        self._last = 0
        self._arrival = 0
        self._size = 0

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        if ssrc == self._ssrc and (abs_send_time - self._first) % (1 << 24) < _BURST:
            self._last = abs_send_time
            self._arrival = arrival_time_ms
            self._size += payload_size
            return None
        result = None
        if self._ssrc is not None:
            self.samples += 1
            result = self.inner.add(
                arrival_time_ms=self._arrival,
                abs_send_time=self._last,
                payload_size=self._size,
                ssrc=self._ssrc,
            )
        self._ssrc = ssrc
        self._first = self._last = abs_send_time
        self._arrival = arrival_time_ms
        self._size = payload_size
        return result


class _OveruseEstimator(OveruseEstimator):
    """aiortc's Kalman filter, with the shortest of the last 60 frame periods
    taken by the builtin ``min`` instead of a Python loop (once per packet
    group, it was the estimator's largest single cost)."""

    def update_min_frame_period(self, ts_delta: float) -> float:
        history = self.ts_delta_hist
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            history.pop(0)
        shortest = min(min(history, default=ts_delta), ts_delta)
        history.append(ts_delta)
        return shortest


def batch_bitrate_estimation(receiver: RTCRtpReceiver) -> bool:
    """Run the receiver's REMB estimator once per packet burst (a video frame)
    instead of once per packet. False for a receiver without one (audio)."""
    attr = "_RTCRtpReceiver__remote_bitrate_estimator"
    inner = getattr(receiver, attr, None)
    if inner is None or isinstance(inner, _BurstEstimator):
        return False
    if not callable(getattr(inner, "add", None)):
        raise TypeError(f"receiver has no bitrate estimator {attr}: aiortc changed")
    counter = getattr(inner, "incoming_bitrate", None)
    if counter is None or not callable(getattr(counter, "rate", None)):
        raise TypeError("RemoteBitrateEstimator has no incoming_bitrate counter: aiortc changed")
    inner.incoming_bitrate = WindowRate(counter._window_size, counter._scale)
    if type(inner.estimator) is not OveruseEstimator:
        raise TypeError("RemoteBitrateEstimator.estimator is no OveruseEstimator: aiortc changed")
    inner.estimator = _OveruseEstimator()
    setattr(receiver, attr, _BurstEstimator(inner))
    return True


def is_installed() -> bool:
    """True if aiortc currently uses our decoder worker."""
    return bool(getattr(_rtcrtpreceiver.decoder_worker, _MARKER, False))


_decoding = threading.local()
_track_observers: weakref.WeakKeyDictionary[asyncio.Queue[Any], DecodeObserver] = (
    weakref.WeakKeyDictionary()
)
_global_observers: list[DecodeObserver] = []


class _ObservedDecoder:
    """An aiortc decoder whose every ``decode()`` is reported to observers."""

    def __init__(self, inner: Any, kind: str, observer: DecodeObserver | None) -> None:
        self._inner = inner
        self._kind = kind
        self._observer = observer

    def _observers(self) -> list[DecodeObserver]:
        own = [self._observer] if self._observer is not None else []
        return own + list(_global_observers)

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        try:
            frames = self._inner.decode(encoded_frame)
        except Exception as exc:
            for observer in self._observers():
                observer.failed(self._kind, exc)
            raise
        for observer in self._observers():
            observer.decoded(self._kind, frames)
        return frames


def _observed_get_decoder(codec: Any) -> Any:
    assert _original_get_decoder is not None
    kind = "video" if codec.mimeType.lower().startswith("video/") else "audio"
    observer = getattr(_decoding, "observer", None)
    return _ObservedDecoder(_original_get_decoder(codec), kind, observer)


setattr(_observed_get_decoder, _MARKER, True)


def observe_decoding(observer: DecodeObserver, track: MediaStreamTrack | None = None) -> None:
    """Report every decode of `track` (a decoding remote track; call in the pc's
    "track" handler, before its decoder starts) or, without a track, of every
    decoding receiver in the process, to `observer`. Undo with
    :func:`stop_observing`."""
    install()
    if track is None:
        _global_observers.append(observer)
        return
    q = getattr(track, "_queue", None)
    if not isinstance(q, asyncio.Queue):
        raise TypeError(f"not an aiortc RemoteStreamTrack (no asyncio.Queue _queue): {track!r}")
    _track_observers[q] = observer


def stop_observing(observer: DecodeObserver) -> None:
    """Stop reporting process-wide decodes to `observer`."""
    if observer in _global_observers:
        _global_observers.remove(observer)


def mark_passthrough(track: MediaStreamTrack, receiver: RTCRtpReceiver | None = None) -> None:
    """Make a remote track yield ``av.Packet`` objects instead of decoded frames.

    Call it in the pc's "track" handler (before the receiver starts). With the
    track's receiver, frames are handed over on the event loop directly (the
    fast path); without, a worker thread converts them.
    """
    install()
    q = getattr(track, "_queue", None)
    if not isinstance(q, asyncio.Queue):
        raise TypeError(f"not an aiortc RemoteStreamTrack (no asyncio.Queue _queue): {track!r}")
    _passthrough_queues.add(q)
    if receiver is not None:
        attr = "_RTCRtpReceiver__decoder_queue"
        if not isinstance(getattr(receiver, attr, None), queue.Queue):
            raise TypeError(f"receiver has no decoder queue {attr}: aiortc changed")
        direct = _DirectQueue(q, track.kind)
        setattr(receiver, attr, direct)
        _direct_queues[track] = direct


def is_passthrough(track: MediaStreamTrack) -> bool:
    """True if ``track`` was marked with :func:`mark_passthrough`."""
    q = getattr(track, "_queue", None)
    return q is not None and q in _passthrough_queues


def reduce_audio_latency(receiver: RTCRtpReceiver) -> bool:
    """Forward each Opus frame when it arrives instead of 5 frames later (-80 ms).

    Call before the receiver gets its first packet (in the "track" handler).
    The far end's own jitter buffer still absorbs reordering and jitter.
    """
    attr = "_RTCRtpReceiver__jitter_buffer"
    buffer = getattr(receiver, attr, None)
    if not isinstance(buffer, JitterBuffer) or getattr(buffer, "_is_video", True):
        return False
    setattr(receiver, attr, _PromptJitterBuffer(buffer.capacity, is_video=False))
    return True


class _PromptJitterBuffer(JitterBuffer):
    """A frame leaves as soon as it is complete: at its marker packet (VP8, RFC
    7741) with none of it missing, or at once for Opus (one packet, one frame,
    RFC 7587). aiortc waits for the first packet of the next frame (one frame
    later); a video frame without a marker still leaves that way.
    """

    def __init__(self, capacity: int, *, is_video: bool) -> None:
        super().__init__(capacity=capacity, prefetch=0, is_video=is_video)
        self._one_packet_frames = not is_video

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        assert self._origin is not None
        timestamp = None
        parts: list[RtpPacket] = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                # The frame is not complete, and nothing follows it that would
                # end it the aiortc way: no need to scan again.
                return None
            if timestamp is not None and packet.timestamp != timestamp:
                break
            timestamp = packet.timestamp
            parts.append(packet)
            if packet.marker or self._one_packet_frames:
                self.remove(count + 1)
                return JitterFrame(
                    data=b"".join(p._data for p in parts),  # type: ignore[attr-defined]
                    timestamp=timestamp,
                )
        return super()._remove_frame(sequence_number)


def reduce_video_latency(receiver: RTCRtpReceiver) -> bool:
    """Forward each video frame when its last packet is in, not one frame later (-33 ms).

    Call before the receiver gets its first packet (in the "track" handler).
    """
    attr = "_RTCRtpReceiver__jitter_buffer"
    buffer = getattr(receiver, attr, None)
    if not isinstance(buffer, JitterBuffer) or not getattr(buffer, "_is_video", False):
        return False
    setattr(receiver, attr, _PromptJitterBuffer(buffer.capacity, is_video=True))
    return True


def media_ssrcs(receiver: RTCRtpReceiver) -> list[int]:
    """SSRCs the receiver saw in the last 10 s, RTX SSRCs excluded, newest first."""
    rtx: dict[int, int] = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
    sources = sorted(receiver.getSynchronizationSources(), key=lambda s: s.timestamp)
    return [s.source for s in reversed(sources) if s.source not in rtx]


def request_keyframe(receiver: RTCRtpReceiver) -> int:
    """Send an RTCP PLI upstream for the receiver's media SSRC(s); return how many.

    Zero if nothing was received yet (the publisher's first frame is a keyframe).
    """
    ssrcs = media_ssrcs(receiver)
    for ssrc in ssrcs:
        task = asyncio.ensure_future(_send_pli(receiver, ssrc))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    return len(ssrcs)


async def _send_pli(receiver: RTCRtpReceiver, ssrc: int) -> None:
    try:
        await receiver._send_rtcp_pli(ssrc)
    except Exception:  # transport gone: the publisher left, nothing to ask
        logger.debug("PLI for ssrc %d not sent", ssrc, exc_info=True)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Make ``sender`` call ``callback()`` when its remote peer sends PLI or FIR."""
    original = sender._send_keyframe

    def _send_keyframe() -> None:
        try:
            callback()
        finally:
            original()

    sender._send_keyframe = _send_keyframe  # type: ignore[method-assign]
