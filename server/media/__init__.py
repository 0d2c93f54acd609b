"""Media plane: server-terminated WebRTC that forwards encoded VP8/Opus frames, never transcoding.

- ``hub``: MediaHub / MediaSession (SDP in, SDP out; routing; stats).
- ``forwarding``: InboundStream (publisher fan-out, taps) and ForwardTrack (subscriber output).
- ``passthrough``: the only module touching aiortc internals.
"""

from .forwarding import ForwardTrack, InboundStream, RateMeter, Tap
from .hub import (
    MediaHub,
    MediaNegotiationError,
    MediaSession,
    SessionClosedError,
    SessionFullError,
)
from .passthrough import packet_arrival

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
