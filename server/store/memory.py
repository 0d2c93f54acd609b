"""In-process Store: the default for a single server process.

Every method runs without awaiting in between, so each is atomic with
respect to the event loop, which gives the same guarantees as the Redis
store's Lua scripts. Given a journal path, every queue change is on disk
before the method returns (see `journal.py`), and a restart restores the
queues: tickets come back waiting, disconnected, with a fresh grace period,
and a ticket whose session died with the process goes back to the head of
its line. Web sessions, counters and sets are not journaled.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from server.store.base import (
    MessageHandler,
    Store,
    Subscription,
    Ticket,
    TicketState,
    format_number,
)
from server.store.journal import QueueJournal, QueueState, add_handling_time

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
    def __init__(
        self,
        journal: Path | None = None,
        *,
        restart_grace: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = QueueState()
        self._by_holder: dict[str, str] = {}
        self._journal_path = journal
        self._journal: QueueJournal | None = None
        self._restart_grace = restart_grace
        self._clock = clock
        self.restored = 0  # tickets brought back from the journal at start
        self._kv: dict[str, tuple[str, float | None]] = {}
        self._sets: dict[str, tuple[set[str], float | None]] = {}
        self._subscribers: dict[str, list[MessageHandler]] = defaultdict(list)
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._journal_path is None or self._journal is not None:
            return
        journal, state = QueueJournal.open(self._journal_path)
        deadline = self._clock() + self._restart_grace
        for ticket in list(state.tickets.values()):
            # Nobody is connected to a new process, and every session died
            # with the old one: back to waiting, same rank, grace from now.
            state.tickets[ticket.id] = ticket.evolve(
                state=TicketState.WAITING,
                reviewer=None,
                called_at=None,
                session_id=None,
                connected=False,
                grace_deadline=deadline,
            )
        self._state = state
        self._by_holder = {t.holder: t.id for t in state.tickets.values()}
        self.restored = len(state.tickets)
        self._journal = journal
        if self.restored:
            log.info("queue places restored from the journal", extra={"count": self.restored})

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        self._subscribers.clear()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _put(self, ticket: Ticket) -> Ticket:
        """Store a ticket; on disk before anyone is told."""
        self._state.tickets[ticket.id] = ticket
        if self._journal is not None:
            self._journal.append({"t": "put", "ticket": asdict(ticket)})
            self._journal.maybe_compact(self._state)
        return ticket

    def _drop(self, ticket_id: str) -> Ticket | None:
        ticket = self._state.tickets.pop(ticket_id, None)
        if ticket is not None:
            self._by_holder.pop(ticket.holder, None)
            if self._journal is not None:
                self._journal.append({"t": "del", "id": ticket_id})
                self._journal.maybe_compact(self._state)
        return ticket

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
        number_prefix: str = "",
        day: str = "",
    ) -> tuple[Ticket, bool]:
        existing = self._by_holder.get(holder)
        if existing is not None:
            return self._state.tickets[existing], False
        number = ""
        if number_prefix:
            n = self._state.next_number(queue, day)
            if self._journal is not None:  # a crash after this skips a number, never repeats one
                self._journal.append({"t": "num", "queue": queue, "day": day, "n": n})
            number = format_number(number_prefix, n)
        self._state.seq += 1
        ticket = Ticket(
            id=secrets.token_urlsafe(12),
            queue=queue,
            holder=holder,
            place=place,
            priority=priority,
            priority_class=priority_class,
            seq=self._state.seq,
            joined_at=now,
            number=number,
        )
        self._put(ticket)
        self._by_holder[holder] = ticket.id
        return ticket, True

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._state.tickets.get(ticket_id)

    async def ticket_of(self, holder: str) -> Ticket | None:
        tid = self._by_holder.get(holder)
        return self._state.tickets.get(tid) if tid else None

    async def leave(self, ticket_id: str) -> Ticket | None:
        return self._drop(ticket_id)

    async def set_connected(
        self, ticket_id: str, connected: bool, grace_deadline: float | None
    ) -> Ticket | None:
        ticket = self._state.tickets.get(ticket_id)
        if ticket is None:
            return None
        return self._put(
            ticket.evolve(connected=connected, grace_deadline=None if connected else grace_deadline)
        )

    async def call_next(
        self, queues: list[str], reviewer: str, session_id: str, now: float
    ) -> Ticket | None:
        wanted = set(queues)
        candidates = [
            t
            for t in self._state.tickets.values()
            if t.queue in wanted and t.state == TicketState.WAITING and t.connected
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda t: t.rank)
        return self._put(
            best.evolve(
                state=TicketState.CALLED, reviewer=reviewer, called_at=now, session_id=session_id
            )
        )

    async def requeue(self, ticket_id: str) -> Ticket | None:
        ticket = self._state.tickets.get(ticket_id)
        if ticket is None or ticket.state != TicketState.CALLED:
            return None
        return self._put(
            ticket.evolve(state=TicketState.WAITING, reviewer=None, called_at=None, session_id=None)
        )

    async def expire_grace(self, now: float) -> list[Ticket]:
        expired = [
            t
            for t in self._state.tickets.values()
            if t.state == TicketState.WAITING
            and not t.connected
            and t.grace_deadline is not None
            and t.grace_deadline <= now
        ]
        for t in expired:
            self._drop(t.id)
        return sorted(expired, key=lambda t: t.rank)

    async def waiting(self, queue: str) -> list[Ticket]:
        return sorted(
            (t for t in self._state.tickets.values() if t.queue == queue and t.state == "waiting"),
            key=lambda t: t.rank,
        )

    async def called(self) -> list[Ticket]:
        return [t for t in self._state.tickets.values() if t.state == TicketState.CALLED]

    # -- handling times ----------------------------------------------------
    async def add_handling_time(self, queue: str, seconds: float, window: int) -> None:
        add_handling_time(self._state.handling, queue, seconds, window)
        if self._journal is not None:
            self._journal.append({"t": "ht", "queue": queue, "s": float(seconds), "w": window})
            self._journal.maybe_compact(self._state)

    async def handling_times(self, queue: str) -> list[float]:
        return list(self._state.handling.get(queue, ()))

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
