"""Plain counters the media plane feeds from aiortc's per-packet path
(wired in by ``passthrough``, the only module touching aiortc internals)."""

from __future__ import annotations

import collections
from typing import Any


class DecodeObserver:
    """Counts what a decoding receiver's decoder did, frame by frame.

    ``decode()`` is called on aiortc's decoder thread; the counters are plain
    ints (read them from the loop, they only grow). A failure is a decode that
    raised (aiortc logs and skips it) or a video frame that decoded to nothing
    (libvpx gives one picture per frame unless the frame is unusable).
    """

    def __init__(self) -> None:
        self.frames_in = 0
        self.pictures_out = 0
        self.exceptions = 0
        self.empty = 0

    @property
    def failures(self) -> int:
        return self.exceptions + self.empty

    def decoded(self, kind: str, frames: list[Any]) -> None:
        self.frames_in += 1
        self.pictures_out += len(frames)
        if not frames and kind == "video":
            self.empty += 1

    def failed(self, kind: str, exc: BaseException) -> None:
        self.frames_in += 1
        self.exceptions += 1


class WindowRate:
    """``aiortc.rate.RateCounter`` semantics (bytes over the last `window_ms`
    milliseconds, scaled) kept as a deque of samples, so time passing costs
    nothing: the original clears every elapsed millisecond's bucket."""

    def __init__(self, window_ms: int, scale: int) -> None:
        self._window = window_ms
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._samples: collections.deque[tuple[int, int]] = collections.deque()
        self._origin_ms: int | None = None
        self._total = 0

    def _erase_old(self, now_ms: int) -> None:
        new_origin = now_ms - self._window + 1
        if self._origin_ms is not None and self._origin_ms < new_origin:
            self._origin_ms = new_origin
            samples = self._samples
            while samples and samples[0][0] < new_origin:
                self._total -= samples.popleft()[1]

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        self._samples.append((now_ms, value))
        self._total += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active = now_ms - self._origin_ms + 1
            if self._samples and active > 1:
                return round(self._scale * self._total / active)
        return None
