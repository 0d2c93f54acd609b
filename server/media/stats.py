"""Small measurement helpers for the media plane's /metrics rows."""

from __future__ import annotations

import collections
import time
from typing import Any


class RateMeter:
    """Bytes counted into a sliding window of a few seconds, reported as bits/s."""

    def __init__(self, window_s: float = 3.0, step_s: float = 0.25) -> None:
        self.window_s = window_s
        self.step_s = step_s
        self.total = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, nbytes: int, now: float | None = None) -> None:
        """Count ``nbytes`` that went by at ``now``."""
        now = time.monotonic() if now is None else now
        if not self._samples or now - self._samples[-1][0] >= self.step_s:
            self._samples.append((now, self.total))
            while len(self._samples) > 2 and now - self._samples[1][0] > self.window_s:
                self._samples.popleft()
        self.total += nbytes

    def bps(self, now: float | None = None) -> float:
        """Bits per second over the window (0 when idle longer than the window)."""
        now = time.monotonic() if now is None else now
        for t, total in self._samples:
            if now - t <= self.window_s:
                elapsed = now - t
                return (self.total - total) * 8 / elapsed if elapsed > 0.1 else 0.0
        return 0.0


async def rtp_stats(endpoint: Any, kind: str, stats_type: str) -> dict[str, Any]:
    """packets_lost and jitter (seconds) from a receiver's or sender's getStats()."""
    out: dict[str, Any] = {"packets_lost": None, "jitter": None}
    if endpoint is None:
        return out
    try:
        report = await endpoint.getStats()
    except Exception:
        return out
    clock = 90000 if kind == "video" else 48000
    for stats in report.values():
        if stats.type == stats_type:
            out["packets_lost"] = stats.packetsLost
            out["jitter"] = stats.jitter / clock if stats.jitter is not None else None
    return out


def packets_received(pc: Any) -> int | None:
    """Datagrams (RTP, RTCP, DTLS) that reached the pc's transport so far.

    ICE consent checks are answered below this layer and are not counted, so a
    peer whose page died stops moving this number at once. aiortc has no public
    way to read it without collecting every sender's and receiver's stats; its
    DTLS transport's own report is cheap. None when it cannot be read.
    """
    total, seen = 0, False
    try:
        transports = {id(t.receiver.transport): t.receiver.transport for t in pc.getTransceivers()}
        for transport in transports.values():
            for stats in transport._get_stats().values():
                if stats.type == "transport":
                    total += int(stats.packetsReceived)
                    seen = True
    except Exception:
        return None
    return total if seen else None
