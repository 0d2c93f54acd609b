"""Receive-only offers: a supervisor's spot check (监督旁听) publishes nothing.

The server refuses an observer's offer with any m-line that would send
(sendrecv or sendonly); the media plane also drops whatever such a pc might
send anyway (`MediaSession.accept_offer(receive_only=True)`).
"""

from __future__ import annotations

from signaling.errors import ErrorCode, ProtocolError

_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def sending_mlines(sdp: str) -> list[str]:
    """The kinds of the m-lines of an SDP offer that would send media."""
    rows: list[list[str]] = []
    for line in sdp.splitlines():
        line = line.strip()
        if line.startswith("m="):
            rows.append([line[2:].split(" ", 1)[0], "sendrecv"])  # the SDP default
        elif rows and line.startswith("a=") and line[2:] in _DIRECTIONS:
            rows[-1][1] = line[2:]
    sending = ("sendrecv", "sendonly")
    return [kind for kind, d in rows if kind in ("audio", "video") and d in sending]


def check_receive_only(sdp: str) -> None:
    """Raise ProtocolError (media_failed) when the offer would send anything."""
    sending = sending_mlines(sdp)
    if sending:
        raise ProtocolError(
            ErrorCode.MEDIA_FAILED,
            "an observer receives only: every m-line must be recvonly or inactive",
        )
