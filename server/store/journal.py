"""Crash-safe journal of the in-memory store's queue state.

The in-memory store is the default, so a crash of the one server process
must not lose a place in line that a kiosk was already told about. Every
change to a ticket is appended here as one JSON line and flushed to disk
(fdatasync) before the store returns, i.e. before anyone is told.

Records, one per line:

    {"t": "put", "ticket": {...}}                 a ticket created or changed
    {"t": "del", "id": "..."}                     a ticket gone
    {"t": "seq", "n": 17}                         the join sequence counter
    {"t": "ht", "queue": "...", "s": 12.5, "w": 20}  a handling time (window w)
    {"t": "num", "queue": "...", "day": "20261203", "n": 12}  the ticket counter

At start the file is replayed, then rewritten as a compact snapshot (a temp
file renamed over it). A torn last line, left by a crash in the middle of a
write, was never acknowledged and is dropped; a bad line anywhere else means
the file was damaged, and the server refuses to start rather than guess.
The file is locked, so two server processes cannot share one data dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from server.store.base import Ticket

log = logging.getLogger(__name__)

COMPACT_AFTER_LINES = 5000


class JournalError(RuntimeError):
    """The journal cannot be used (damaged, or locked by another process)."""


@dataclass
class QueueState:
    """What the journal restores: tickets, the sequence counter, handling times."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    seq: int = 0
    handling: dict[str, deque[float]] = field(default_factory=dict)
    numbers: dict[str, tuple[str, int]] = field(default_factory=dict)  # queue: (day, n)

    def next_number(self, queue: str, day: str) -> int:
        last_day, n = self.numbers.get(queue, (day, 0))
        n = n + 1 if last_day == day else 1
        self.numbers[queue] = (day, n)
        return n

    def apply(self, record: dict[str, Any]) -> None:
        kind = record["t"]
        if kind == "put":
            ticket = Ticket(**record["ticket"])
            self.tickets[ticket.id] = ticket
            self.seq = max(self.seq, ticket.seq)
        elif kind == "del":
            self.tickets.pop(record["id"], None)
        elif kind == "seq":
            self.seq = max(self.seq, int(record["n"]))
        elif kind == "num":
            self.numbers[record["queue"]] = (str(record["day"]), int(record["n"]))
        elif kind == "ht":
            add_handling_time(self.handling, record["queue"], float(record["s"]), int(record["w"]))
        else:
            raise ValueError(f"unknown record type {kind!r}")

    def records(self) -> list[dict[str, Any]]:
        """The state as a minimal list of records (the snapshot)."""
        out: list[dict[str, Any]] = [{"t": "seq", "n": self.seq}]
        for queue, times in self.handling.items():
            window = times.maxlen or len(times)
            out += [{"t": "ht", "queue": queue, "s": s, "w": window} for s in reversed(times)]
        out += [{"t": "num", "queue": q, "day": d, "n": n} for q, (d, n) in self.numbers.items()]
        out += [{"t": "put", "ticket": asdict(t)} for t in self.tickets.values()]
        return out


def add_handling_time(
    handling: dict[str, deque[float]], queue: str, seconds: float, window: int
) -> None:
    """Most recent first; a shrinking window keeps the most recent values."""
    times = handling.setdefault(queue, deque(maxlen=window))
    if times.maxlen != window:
        times = handling[queue] = deque(islice(times, window), maxlen=window)
    times.appendleft(float(seconds))


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _read(path: Path) -> QueueState:
    state = QueueState()
    if not path.exists():
        return state
    lines = path.read_bytes().split(b"\n")
    last = len(lines) - 1  # the text after the final newline: empty, or a torn write
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            state.apply(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            if number - 1 == last:
                log.warning("queue journal: torn last line dropped", extra={"line": number})
                continue
            raise JournalError(f"{path}: line {number} is damaged ({exc})") from None
    return state


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class QueueJournal:
    """The open, locked journal file; `append` returns once the line is on disk."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._fd = -1
        self._lines = 0

    @classmethod
    def open(cls, path: Path) -> tuple[QueueJournal, QueueState]:
        """Lock, replay and compact the journal at `path` (created when missing)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise JournalError(
                f"{path} is in use by another server process "
                "(the memory store serves one process; use the Redis store for several)"
            ) from None
        try:
            state = _read(path)
            journal = cls(path, lock_fd)
            journal._rewrite(state)
        except BaseException:
            os.close(lock_fd)
            raise
        return journal, state

    def _rewrite(self, state: QueueState) -> None:
        """Replace the file with a snapshot of `state`, atomically."""
        records = state.records()
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"".join(_line(r) for r in records))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._lines = len(records)

    def append(self, record: dict[str, Any]) -> None:
        os.write(self._fd, _line(record))
        os.fdatasync(self._fd)
        self._lines += 1

    def maybe_compact(self, state: QueueState) -> None:
        """Rewrite once the file holds many more lines than the live state needs."""
        if self._lines > COMPACT_AFTER_LINES + 2 * len(state.tickets):
            self._rewrite(state)

    def close(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._lock_fd = -1
