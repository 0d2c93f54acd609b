"""The Store contract: queues, small shared state and fan-out.

Two implementations keep exactly these semantics: `MemoryStore` (one process,
the default) and `RedisStore` (several processes or machines). The contract
tests in tests/contract run the same cases against both.

Queue rules the store enforces atomically:
- a holder (a kiosk device or an agent) has at most one ticket at a time;
- `call_next` hands a waiting, connected ticket to exactly one reviewer;
- ordering is priority class first (priority before normal), then FIFO by a
  global sequence number taken at join time;
- a requeued ticket keeps its original sequence number, so it goes back to
  the head of its class;
- a ticket number (叫号, e.g. A012) comes from a counter per queue and day,
  taken atomically at join time and kept across a restart; a new day starts
  at 1 again.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
# Delivered to a subscriber when messages may have been lost (the store's pub/sub
# reconnected after its server restarted): recompute from the shared state.
RESYNC: dict[str, Any] = {"kind": "resync"}


class TicketState:
    WAITING = "waiting"
    CALLED = "called"


@dataclass(frozen=True)
class Ticket:
    id: str
    queue: str
    holder: str
    place: str
    priority: bool
    priority_class: str
    seq: int
    joined_at: float
    state: str = TicketState.WAITING
    connected: bool = True
    grace_deadline: float | None = None
    reviewer: str | None = None
    called_at: float | None = None
    session_id: str | None = None
    number: str = ""  # what the applicant and reviewer see, e.g. "A012"; "" = none

    @property
    def rank(self) -> tuple[int, int]:
        """Sort key: priority class first, then FIFO."""
        return (0 if self.priority else 1, self.seq)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Ticket:
        return cls(**json.loads(raw))

    def evolve(self, **changes: Any) -> Ticket:
        return replace(self, **changes)


def format_number(prefix: str, n: int) -> str:
    return f"{prefix}{n:03d}"


class Subscription(abc.ABC):
    @abc.abstractmethod
    async def close(self) -> None: ...


class Store(abc.ABC):
    """Shared state behind every server process."""

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect; called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and subscriptions."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store answers (used by /healthz)."""

    # -- queues ------------------------------------------------------------
    @abc.abstractmethod
    async def enqueue(
        self,
        *,
        queue: str,
        holder: str,
        place: str,
        priority_class: str,
        priority: bool,
        now: float,
        number_prefix: str = "",
        day: str = "",
    ) -> tuple[Ticket, bool]:
        """Join a queue. Returns (ticket, created); a holder that already has a
        ticket gets that one back unchanged (created False).

        With a `number_prefix`, a new ticket is numbered prefix + the next value
        of the queue's counter for `day` (zero-padded to 3 digits): A001, A002...
        """

    @abc.abstractmethod
    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    @abc.abstractmethod
    async def ticket_of(self, holder: str) -> Ticket | None:
        """The holder's current ticket, waiting or called."""

    @abc.abstractmethod
    async def leave(self, ticket_id: str) -> Ticket | None:
        """Remove a ticket in any state; returns it, or None if it was gone."""

    @abc.abstractmethod
    async def set_connected(
        self, ticket_id: str, connected: bool, grace_deadline: float | None
    ) -> Ticket | None:
        """Mark the holder's connection; a disconnected waiting ticket keeps its
        place until grace_deadline but is not called meanwhile."""

    @abc.abstractmethod
    async def call_next(
        self, queues: list[str], reviewer: str, session_id: str, now: float
    ) -> Ticket | None:
        """Atomically take the best waiting, connected ticket across queues."""

    @abc.abstractmethod
    async def requeue(self, ticket_id: str) -> Ticket | None:
        """A called ticket whose session did not start goes back to waiting,
        keeping its original rank."""

    @abc.abstractmethod
    async def expire_grace(self, now: float) -> list[Ticket]:
        """Remove and return waiting tickets whose grace deadline has passed."""

    @abc.abstractmethod
    async def waiting(self, queue: str) -> list[Ticket]:
        """Waiting tickets of one queue in call order (disconnected included)."""

    @abc.abstractmethod
    async def called(self) -> list[Ticket]:
        """Every ticket currently in the called state."""

    # -- handling times (feed the wait estimate) ---------------------------
    @abc.abstractmethod
    async def add_handling_time(self, queue: str, seconds: float, window: int) -> None: ...

    @abc.abstractmethod
    async def handling_times(self, queue: str) -> list[float]:
        """Most recent first, at most `window` values."""

    # -- small key/value state (web sessions, counters, session records) ---
    @abc.abstractmethod
    async def kv_get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abc.abstractmethod
    async def kv_delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def kv_incr(self, key: str, ttl: float) -> int:
        """Increment a counter; the ttl starts at the first increment."""

    @abc.abstractmethod
    async def kv_expire(self, key: str, ttl: float) -> bool:
        """Reset a key's time to live; False if the key does not exist."""

    @abc.abstractmethod
    async def set_add(self, key: str, member: str, ttl: float) -> None: ...

    @abc.abstractmethod
    async def set_remove(self, key: str, member: str) -> None: ...

    @abc.abstractmethod
    async def set_members(self, key: str) -> set[str]: ...

    # -- fan-out -----------------------------------------------------------
    @abc.abstractmethod
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Deliver to every subscriber of channel in every process."""

    @abc.abstractmethod
    async def subscribe(self, channel: str, handler: MessageHandler) -> Subscription:
        """Call handler for each message published on channel until closed."""
