"""Media plane: server-terminated WebRTC that forwards encoded VP8/Opus frames, never transcoding.

- ``hub``: MediaHub, one per process (sessions, stats).
- ``session``: MediaSession (SDP in, SDP out; routing; participant states).
- ``slots``: Participant and Slot, and the SDP m-line bookkeeping the routing reads.
- ``negotiation``: codec preferences (VP8/Opus), ICE servers, BUNDLE repair.
- ``forwarding``: InboundStream (publisher fan-out, taps) and ForwardTrack (subscriber output).
- ``passthrough``: the only module touching aiortc internals.
"""

from .forwarding import ForwardTrack, InboundStream, Tap
from .hub import (
    MediaHub,
    MediaNegotiationError,
    MediaSession,
    SessionClosedError,
    SessionFullError,
)
from .passthrough import packet_arrival
from .stats import RateMeter

__all__ = [
    "ForwardTrack",
    "InboundStream",
    "MediaHub",
    "MediaNegotiationError",
    "MediaSession",
    "RateMeter",
    "SessionClosedError",
    "SessionFullError",
    "Tap",
    "packet_arrival",
]
