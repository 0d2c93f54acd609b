"""Append-only, hash-chained JSONL audit logs.

Each line is the canonical JSON of one event::

    {"seq": 1, "time": "2026-03-05T08:09:10.123Z", "type": "session.called",
     "actor": "reviewer:wang", "data": {...}, "prev": "<hash of line seq-1>",
     "hash": "<sha256 of this object without 'hash'>"}

`prev` of the first line is `ZERO_HASH` for a session log; for the daily system
log it is the last hash of the previous day's file. Editing, deleting or
reordering lines breaks the chain (`verify_chain` names the first broken line);
deleting the *last* line leaves a valid chain, which is why a session manifest
records the line count and last hash.

Torn last line: `append` writes one line and fsyncs before it returns. A line
without its newline, or a last line that is not JSON, was never acknowledged, so
reopening the log truncates it (it stays out of the chain). The dropped bytes are
kept in `AuditLog.dropped`, so the caller can log a `recovered` event recording
their size and hash. Anything else that does not parse stops the open with
`AuditError`: only the last line can be torn.

One writer per file per process: `append` takes a lock, so threads may share a
log; `append` blocks on fsync (events are rare), so from asyncio call it via
`asyncio.to_thread` where a millisecond matters.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from recording.canonical import (
    FILE_MODE,
    ZERO_HASH,
    Clock,
    canonical_json,
    fsync_dir,
    iso_utc,
    make_dirs,
    sha256_hex,
    utc_now,
)

FIELDS: dict[str, type | tuple[type, ...]] = {
    "seq": int,
    "time": str,
    "type": str,
    "actor": (str, type(None)),
    "data": dict,
    "prev": str,
    "hash": str,
}


class AuditError(Exception):
    """An audit log that cannot be continued (corrupt before its last line)."""


def event_hash(event: dict[str, Any]) -> str:
    """The hash of an event: SHA-256 of its canonical JSON without `hash`."""
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "hash"}))


def _field_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "not a JSON object"
    for name, kind in FIELDS.items():
        if name not in event:
            return f"missing field {name!r}"
        if not isinstance(event[name], kind) or isinstance(event[name], bool):
            return f"field {name!r} has the wrong type"
    return None


class AuditLog:
    """One hash-chained JSONL file, opened for appending (see the module doc)."""

    def __init__(
        self, path: str | os.PathLike[str], *, first_prev: str = ZERO_HASH, clock: Clock = utc_now
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self.dropped = b""
        """Bytes of a torn last line removed on open (empty when there was none)."""
        self._seq, self._last_hash, self._size = self._load_tail(first_prev)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _load_tail(self, first_prev: str) -> tuple[int, str, int]:
        """Read the chain state, truncating a torn last line; create the file if absent."""
        if not self.path.exists():
            self.path.touch(mode=FILE_MODE)
            fsync_dir(self.path.parent)
            return 0, first_prev, 0
        data = self.path.read_bytes()
        keep = len(data)
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
        elif data:
            start = data.rfind(b"\n", 0, len(data) - 1) + 1
            try:
                json.loads(data[start:])
            except ValueError:
                keep = start
        if keep < len(data):
            self.dropped = data[keep:]
            os.truncate(self.path, keep)
            with open(self.path, "rb+") as f:
                os.fsync(f.fileno())
            data = data[:keep]
        if not data:
            return 0, first_prev, 0
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
        try:
            last = json.loads(data[start:])
        except ValueError:
            last = None
        problem = _field_problem(last)
        if problem:
            line = data.count(b"\n")
            raise AuditError(f"{self.path}: line {line}: {problem}; cannot continue the chain")
        return last["seq"], last["hash"], keep

    @property
    def seq(self) -> int:
        """Sequence number of the last line (0 when empty)."""
        return self._seq

    @property
    def last_hash(self) -> str:
        """Hash of the last line (the chain start when empty)."""
        return self._last_hash

    def append(
        self,
        type: str,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
        *,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Write one event durably (flush + fsync) and return it."""
        if not type or not isinstance(type, str):
            raise ValueError("event type must be a non-empty string")
        if actor is not None and not isinstance(actor, str):
            raise ValueError("actor must be a string or None")
        with self._lock:
            if self._fd is None:
                raise ValueError(f"{self.path}: audit log is closed")
            event: dict[str, Any] = {
                "seq": self._seq + 1,
                "time": iso_utc(when or self._clock()),
                "type": type,
                "actor": actor,
                "data": dict(data or {}),
                "prev": self._last_hash,
            }
            event["hash"] = sha256_hex(canonical_json(event))
            line = canonical_json(event) + b"\n"
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view) :]
                os.fsync(self._fd)
            except BaseException:
                os.ftruncate(self._fd, self._size)  # no partial line stays behind
                raise
            self._seq += 1
            self._last_hash = event["hash"]
            self._size += len(line)
        return event

    def close(self) -> None:
        """Close the file (appending afterwards raises)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All events of a log, in file order (raises `AuditError` on a line that is not JSON)."""
    events = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                events.append(json.loads(raw))
            except ValueError:
                raise AuditError(f"{path}: line {n}: not valid JSON") from None
    return events


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of walking a chain: the first problem (or None), lines, last hash."""

    problem: str | None
    lines: int
    last_hash: str


def check_chain(
    path: str | os.PathLike[str],
    *,
    first_prev: str = ZERO_HASH,
    before: str = "the start of the chain",
) -> ChainCheck:
    """Walk a log checking sequence, hashes and links; stop at the first problem.

    `before` names what line 1's `prev` should match, for the message.
    """
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop() != b""  # text after the last newline: an unfinished line
    expected_prev = first_prev
    count = 0
    for n, raw in enumerate(lines, start=1):
        try:
            event = json.loads(raw)
        except ValueError:
            return ChainCheck(f"line {n}: not valid JSON", count, expected_prev)
        problem = _field_problem(event)
        if problem is None and event_hash(event) != event["hash"]:
            problem = "hash does not match its content"
        if problem is None and event["seq"] != n:
            problem = f"sequence {event['seq']} where {n} expected"
        if problem is None and event["prev"] != expected_prev:
            problem = f"prev does not match {before if n == 1 else f'line {n - 1}'}"
        if problem:
            return ChainCheck(f"line {n}: {problem}", count, expected_prev)
        expected_prev = event["hash"]
        count = n
    if torn:
        return ChainCheck(f"line {count + 1}: incomplete last line", count, expected_prev)
    return ChainCheck(None, count, expected_prev)


def verify_chain(path: str | os.PathLike[str], *, first_prev: str = ZERO_HASH) -> str | None:
    """None when the chain is intact, else its first problem as a sentence."""
    return check_chain(path, first_prev=first_prev).problem


class SystemAuditLog:
    """Daily logs `<archive_root>/system/YYYY-MM-DD.jsonl` forming one chain.

    The first line of a day links to the last line of the newest earlier file
    (zeros when there is none). The day never goes backwards: if the clock
    steps back over midnight, events keep going to the newest file, so the chain
    stays linear. The day is taken in `tz` (UTC unless given); event times are
    always UTC. A torn line found when a file is reopened is dropped and noted
    in a `recovered` event.
    """

    def __init__(
        self, archive_root: str | os.PathLike[str], *, clock: Clock = utc_now, tz: tzinfo = UTC
    ) -> None:
        self.folder = Path(archive_root) / "system"
        make_dirs(self.folder)
        self._clock = clock
        self._tz = tz
        self._lock = threading.Lock()
        self._log: AuditLog | None = None
        self._day = ""

    def _day_files(self) -> list[Path]:
        return sorted(self.folder.glob("????-??-??.jsonl"))

    def _switch(self, day: str) -> None:
        prev = ZERO_HASH
        torn: list[dict[str, Any]] = []
        if self._log is not None:
            prev = self._log.last_hash
            self._log.close()
        else:
            for older in reversed([p for p in self._day_files() if p.stem < day]):
                with AuditLog(older) as log:  # also drops a torn tail there
                    if log.dropped:
                        torn.append(dropped_info(log))
                    if log.seq:
                        prev = log.last_hash
                        break
        self._log = AuditLog(self.folder / f"{day}.jsonl", first_prev=prev, clock=self._clock)
        self._day = day
        if self._log.dropped:
            torn.append(dropped_info(self._log))
        for info in torn:
            self._log.append("recovered", None, info)

    def append(
        self,
        type: str,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Write one event (`when`: default now) to its day's file, durably, and return it."""
        with self._lock:
            now = when or self._clock()
            day = now.astimezone(self._tz).date().isoformat()
            if not self._day:
                newest = self._day_files()
                if newest:
                    day = max(day, newest[-1].stem)
            if day > self._day:
                self._switch(day)
            assert self._log is not None
            return self._log.append(type, actor, data, when=now)

    def close(self) -> None:
        """Close the current day file."""
        with self._lock:
            if self._log is not None:
                self._log.close()


def dropped_info(log: AuditLog) -> dict[str, Any]:
    """Event data describing the torn line that `log` dropped when it was opened."""
    return {
        "file": log.path.name,
        "dropped_bytes": len(log.dropped),
        "dropped_sha256": sha256_hex(log.dropped),
    }
