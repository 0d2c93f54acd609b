"""In-process Store: the default for a single server process.

Every method runs without awaiting in between, so each is atomic with
respect to the event loop, which gives the same guarantees as the Redis
store's Lua scripts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import defaultdict, deque
from itertools import islice
from typing import Any

from server.store.base import MessageHandler, Store, Subscription, Ticket, TicketState

log = logging.getLogger(__name__)


class _MemorySubscription(Subscription):
    def __init__(self, store: MemoryStore, channel: str, handler: MessageHandler) -> None:
        self._store = store
        self._channel = channel
        self._handler = handler

    async def close(self) -> None:
        handlers = self._store._subscribers.get(self._channel, [])
        if self._handler in handlers:
            handlers.remove(self._handler)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._tickets: dict[str, Ticket] = {}
        self._by_holder: dict[str, str] = {}
        self._seq = 0
        self._handling: dict[str, deque[float]] = {}
        self._kv: dict[str, tuple[str, float | None]] = {}
        self._sets: dict[str, tuple[set[str], float | None]] = {}
        self._subscribers: dict[str, list[MessageHandler]] = defaultdict(list)
        self._pending: set[asyncio.Task[None]] = set()

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        self._subscribers.clear()

    # -- queues ------------------------------------------------------------
    async def enqueue(
        self,
        *,
        queue: str,
        holder: str,
        place: str,
        priority_class: str,
        priority: bool,
        now: float,
    ) -> tuple[Ticket, bool]:
        existing = self._by_holder.get(holder)
        if existing is not None:
            return self._tickets[existing], False
        self._seq += 1
        ticket = Ticket(
            id=secrets.token_urlsafe(12),
            queue=queue,
            holder=holder,
            place=place,
            priority=priority,
            priority_class=priority_class,
            seq=self._seq,
            joined_at=now,
        )
        self._tickets[ticket.id] = ticket
        self._by_holder[holder] = ticket.id
        return ticket, True

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    async def ticket_of(self, holder: str) -> Ticket | None:
        tid = self._by_holder.get(holder)
        return self._tickets.get(tid) if tid else None

    async def leave(self, ticket_id: str) -> Ticket | None:
        ticket = self._tickets.pop(ticket_id, None)
        if ticket is not None:
            self._by_holder.pop(ticket.holder, None)
        return ticket

    async def set_connected(
        self, ticket_id: str, connected: bool, grace_deadline: float | None
    ) -> Ticket | None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            return None
        ticket = ticket.evolve(
            connected=connected, grace_deadline=None if connected else grace_deadline
        )
        self._tickets[ticket_id] = ticket
        return ticket

    async def call_next(
        self, queues: list[str], reviewer: str, session_id: str, now: float
    ) -> Ticket | None:
        wanted = set(queues)
        candidates = [
            t
            for t in self._tickets.values()
            if t.queue in wanted and t.state == TicketState.WAITING and t.connected
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda t: t.rank)
        called = best.evolve(
            state=TicketState.CALLED, reviewer=reviewer, called_at=now, session_id=session_id
        )
        self._tickets[best.id] = called
        return called

    async def requeue(self, ticket_id: str) -> Ticket | None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket.state != TicketState.CALLED:
            return None
        back = ticket.evolve(
            state=TicketState.WAITING, reviewer=None, called_at=None, session_id=None
        )
        self._tickets[ticket_id] = back
        return back

    async def expire_grace(self, now: float) -> list[Ticket]:
        expired = [
            t
            for t in self._tickets.values()
            if t.state == TicketState.WAITING
            and not t.connected
            and t.grace_deadline is not None
            and t.grace_deadline <= now
        ]
        for t in expired:
            await self.leave(t.id)
        return sorted(expired, key=lambda t: t.rank)

    async def waiting(self, queue: str) -> list[Ticket]:
        return sorted(
            (t for t in self._tickets.values() if t.queue == queue and t.state == "waiting"),
            key=lambda t: t.rank,
        )

    async def called(self) -> list[Ticket]:
        return [t for t in self._tickets.values() if t.state == TicketState.CALLED]

    # -- handling times ----------------------------------------------------
    async def add_handling_time(self, queue: str, seconds: float, window: int) -> None:
        times = self._handling.setdefault(queue, deque(maxlen=window))
        if times.maxlen != window:
            # keep the most recent values (the left end) when the window shrinks
            times = self._handling[queue] = deque(islice(times, window), maxlen=window)
        times.appendleft(float(seconds))

    async def handling_times(self, queue: str) -> list[float]:
        return list(self._handling.get(queue, ()))

    # -- key/value ---------------------------------------------------------
    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._kv.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= time.monotonic():
            del self._kv[key]
            return None
        return entry

    async def kv_get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._kv[key] = (value, time.monotonic() + ttl if ttl else None)

    async def kv_delete(self, key: str) -> None:
        self._kv.pop(key, None)

    async def kv_incr(self, key: str, ttl: float) -> int:
        entry = self._live(key)
        if entry is None:
            self._kv[key] = ("1", time.monotonic() + ttl)
            return 1
        value = int(entry[0]) + 1
        self._kv[key] = (str(value), entry[1])
        return value

    async def kv_expire(self, key: str, ttl: float) -> bool:
        entry = self._live(key)
        if entry is None:
            return False
        self._kv[key] = (entry[0], time.monotonic() + ttl)
        return True

    async def set_add(self, key: str, member: str, ttl: float) -> None:
        members = await self.set_members(key)
        members.add(member)
        self._sets[key] = (members, time.monotonic() + ttl)

    async def set_remove(self, key: str, member: str) -> None:
        entry = self._sets.get(key)
        if entry is not None:
            entry[0].discard(member)

    async def set_members(self, key: str) -> set[str]:
        entry = self._sets.get(key)
        if entry is None or (entry[1] is not None and entry[1] <= time.monotonic()):
            self._sets.pop(key, None)
            return set()
        return set(entry[0])

    # -- fan-out -----------------------------------------------------------
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        # Deliver asynchronously, as a broker would: a handler never runs
        # inside the publisher's critical section.
        for handler in list(self._subscribers.get(channel, ())):
            task = asyncio.get_running_loop().create_task(self._deliver(handler, message))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _deliver(handler: MessageHandler, message: dict[str, Any]) -> None:
        try:
            await handler(message)
        except Exception:
            log.exception("subscriber failed")

    async def subscribe(self, channel: str, handler: MessageHandler) -> Subscription:
        self._subscribers[channel].append(handler)
        return _MemorySubscription(self, channel, handler)
