"""Sign-in events for the system audit log, without flooding it or leaking input.

- A username that is no account is recorded as `unknown:<keyed hash>` (HMAC
  with the server secret), so an ID number or a password typed into the
  username field never lands in the log, while repeats of the same input can
  still be told apart.
- Attempts refused before their password is checked (address throttled,
  account locked) are not written one by one: they are counted per reason,
  username and address bucket (a throttled address: per address only, since
  its usernames were not even looked at), and written as one
  `login.refused_aggregate` event per key at the end of each
  `auth.audit_aggregate_seconds` interval and at shutdown. At most `MAX_KEYS`
  keys are kept per interval; further ones are counted under one overflow key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.login_limits import keyed_hash

log = logging.getLogger(__name__)
SystemWriter = Callable[[str, str | None, dict[str, Any]], None]
MAX_KEYS = 1000
OVERFLOW = ("overflow", None, None)


def username_label(secret: str, username: str, known: bool) -> str:
    """The username as the audit log may show it."""
    return username if known else f"unknown:{keyed_hash(secret, username)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Count:
    count: int
    since: str


class RefusalAggregator:
    def __init__(self, write: SystemWriter, interval: float) -> None:
        self.write = write
        self.interval = interval
        self._counts: dict[tuple[str, str | None, str | None], _Count] = {}

    def add(self, reason: str, label: str | None, bucket: str) -> None:
        key: tuple[str, str | None, str | None] = (reason, label, bucket)
        if key not in self._counts and len(self._counts) >= MAX_KEYS:
            key = OVERFLOW
        entry = self._counts.get(key)
        if entry is None:
            self._counts[key] = _Count(1, _now())
        else:
            entry.count += 1

    def flush(self) -> int:
        """Write one event per key counted since the last flush; returns how many."""
        counts, self._counts = self._counts, {}
        until = _now()
        for (reason, label, bucket), entry in counts.items():
            self.write(
                "login.refused_aggregate",
                None,
                {
                    "reason": reason,
                    "username": label,
                    "address": bucket,
                    "count": entry.count,
                    "since": entry.since,
                    "until": until,
                },
            )
        return len(counts)

    async def run(self) -> None:
        """Flush at the end of every interval (cancel to stop; then call flush)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.flush()
            except Exception:
                log.exception("login refusal flush failed")
