"""Queue rules on top of the Store: join, leave, grace, call next, estimates.

The Store makes each step atomic; this module decides what the steps mean
for the people involved and tells them (through Connections).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from server.auth import Identity
from server.catalogue import NORMAL_CLASS, Catalogue
from server.config import QueueConfig
from server.connections import Connection, Connections
from server.store import Store, Ticket, TicketState
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import DeskQueues, QueueLeft, QueueStatus

log = logging.getLogger(__name__)
AuditHook = Callable[[str, str | None, dict[str, Any]], None]
# A place released by the grace sweep is remembered this long, so a kiosk that
# comes back later is told `queue.left` with reason `expired`.
EXPIRED_NOTICE_SECONDS = 24 * 3600


def _expired_key(holder: str) -> str:
    return f"queue:expired:{holder}"


class QueueService:
    def __init__(
        self,
        store: Store,
        catalogue: Catalogue,
        cfg: QueueConfig,
        connections: Connections,
        audit: AuditHook,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.cfg = cfg
        self.connections = connections
        self.audit = audit
        self.clock = clock
        self._dirty: set[str] = set()
        self._flush: asyncio.TimerHandle | asyncio.Task[None] | None = None
        connections.on_queues_changed(self._mark_dirty)
        connections.on_resync(lambda: self._mark_dirty(set(self.catalogue.queue_keys())))

    # -- applicants --------------------------------------------------------
    def check_join(self, item_code: str, priority_class: str) -> None:
        """The values of a queue.join: bad_field, then not_found, then wrong_state."""
        if priority_class != NORMAL_CLASS and not self.catalogue.is_priority(priority_class):
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"unknown priority class {priority_class[:32]!r}"
            )
        item = self.catalogue.items.get(item_code)
        if item is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no service item {item_code[:64]!r}")
        if "video" not in item.modes:
            raise ProtocolError(ErrorCode.WRONG_STATE, "this item is not handled by video")

    async def join(self, ident: Identity, item_code: str, priority_class: str) -> Ticket:
        self.check_join(item_code, priority_class)
        item = self.catalogue.items[item_code]
        now = self.clock()
        ticket, created = await self.store.enqueue(
            queue=item.queue_key,
            holder=ident.holder,
            place=ident.place or "",
            priority_class=priority_class,
            priority=priority_class != NORMAL_CLASS,
            now=now,
            number_prefix=item.ticket_prefix,
            day=self.catalogue.local_time(now).strftime("%Y%m%d"),
        )
        if created:
            self.audit(
                "queue.joined",
                ident.holder,
                {
                    "queue": ticket.queue,
                    "ticket": ticket.id,
                    "number": ticket.number,
                    "priority_class": priority_class,
                },
            )
            await self.connections.queues_changed({ticket.queue})
        else:
            await self.push_status(ticket)
        return ticket

    async def leave(self, ident: Identity) -> Ticket | None:
        ticket = await self.store.ticket_of(ident.holder)
        if ticket is None or ticket.state != TicketState.WAITING:
            return None
        gone = await self.store.leave(ticket.id)
        if gone is not None:
            self.audit("queue.left", ident.holder, {"queue": gone.queue, "ticket": gone.id})
            await self.connections.to_holder(ident.holder, QueueLeft(reason="left"))
            await self.connections.queues_changed({gone.queue})
        return gone

    async def disconnected(self, ident: Identity) -> None:
        """The holder's last connection closed: keep the place for the grace."""
        ticket = await self.store.ticket_of(ident.holder)
        if ticket is None or ticket.state != TicketState.WAITING:
            return
        deadline = self.clock() + self.cfg.grace_seconds
        await self.store.set_connected(ticket.id, False, deadline)
        self.audit("queue.away", ident.holder, {"queue": ticket.queue, "ticket": ticket.id})
        await self.connections.queues_changed({ticket.queue})

    async def reconnected(self, ident: Identity) -> Ticket | None:
        """Same holder back (page reload): the same place."""
        ticket = await self.store.ticket_of(ident.holder)
        if ticket is None:
            return None
        if not ticket.connected:
            ticket = await self.store.set_connected(ticket.id, True, None) or ticket
            self.audit("queue.back", ident.holder, {"queue": ticket.queue, "ticket": ticket.id})
            await self.connections.queues_changed({ticket.queue})
        elif ticket.state == TicketState.WAITING:
            await self.push_status(ticket)
        return ticket

    async def sweep(self, now: float | None = None) -> list[Ticket]:
        """Release places whose grace has run out (any process may run this)."""
        expired = await self.store.expire_grace(self.clock() if now is None else now)
        for t in expired:
            self.audit("queue.released", t.holder, {"queue": t.queue, "ticket": t.id})
            # The holder is offline (that is why the grace ran out): tell it when it is back.
            await self.store.kv_set(_expired_key(t.holder), t.id, EXPIRED_NOTICE_SECONDS)
        if expired:
            await self.connections.queues_changed({t.queue for t in expired})
        return expired

    async def tell_if_expired(self, conn: Connection) -> bool:
        """A kiosk back without a place: `queue.left` (expired) if the sweep took it."""
        key = _expired_key(conn.ident.holder)
        if await self.store.kv_get(key) is None:
            return False
        await self.store.kv_delete(key)
        await conn.send(QueueLeft(reason="expired"))
        return True

    # -- reviewers ---------------------------------------------------------
    def queues_of(self, reviewer: Identity) -> list[str]:
        codes = [c for c in reviewer.items if c in self.catalogue.items]
        return self.catalogue.queue_keys(codes)

    async def call_next(self, reviewer: Identity, session_id: str) -> Ticket | None:
        queues = self.queues_of(reviewer)
        ticket = await self.store.call_next(queues, reviewer.subject, session_id, self.clock())
        if ticket is not None:
            self.audit(
                "queue.called",
                reviewer.subject,
                {"queue": ticket.queue, "ticket": ticket.id, "session": session_id},
            )
            await self.connections.queues_changed({ticket.queue})
        return ticket

    async def requeue(self, ticket_id: str) -> Ticket | None:
        """The reviewer vanished (before the session started, or lost mid-call):
        the applicant goes back to the head of the line, same rank."""
        ticket = await self.store.requeue(ticket_id)
        if ticket is not None:
            self.audit(
                "queue.requeued", ticket.holder, {"queue": ticket.queue, "ticket": ticket.id}
            )
            # Through the bus, like the session.ended before it, so it arrives after it;
            # sent even though it may equal the last status pushed before the call.
            await self.connections.to_holder(ticket.holder, await self.status(ticket))
            await self.connections.queues_changed({ticket.queue})
        return ticket

    async def finish(
        self, ticket_id: str, handling_seconds: float | None, reviewer: str | None = None
    ) -> None:
        """The session for this ticket is over; its handling time feeds estimates.

        The reviewer's desk (holder `reviewer`) gets a fresh desk.queues even if
        it looks the same: it is the cue that the desk is free for the next call."""
        ticket = await self.store.leave(ticket_id)
        if ticket is None:
            return
        if handling_seconds is not None:
            await self.store.add_handling_time(
                ticket.queue, handling_seconds, self.cfg.handling_window
            )
        for conn in self.connections.local(reviewer or ""):
            conn.forget_push("desk.queues")
        await self.connections.queues_changed({ticket.queue})

    async def reviewer_online(self, reviewer: Identity, online: bool) -> None:
        changed = set()
        for q in self.queues_of(reviewer):
            key = f"desk:online:{q}"
            if (reviewer.subject in await self.store.set_members(key)) != online:
                changed.add(q)
            if online:
                await self.store.set_add(key, reviewer.subject, 24 * 3600)
            else:
                await self.store.set_remove(key, reviewer.subject)
        if changed:
            # The applicants' estimates (or "nobody online") change with it.
            await self.connections.queues_changed(changed)

    # -- estimates and pushes ----------------------------------------------
    async def average_handling(self, queue: str) -> float:
        times = await self.store.handling_times(queue)
        return sum(times) / len(times) if times else self.cfg.default_handling_seconds

    async def status(self, ticket: Ticket) -> QueueStatus:
        waiting = await self.store.waiting(ticket.queue)
        ahead = sum(1 for t in waiting if t.rank < ticket.rank)
        reviewers = len(await self.store.set_members(f"desk:online:{ticket.queue}"))
        return self._status(ticket, ahead, reviewers, await self.average_handling(ticket.queue))

    def _status(self, ticket: Ticket, ahead: int, reviewers: int, avg: float) -> QueueStatus:
        # Nobody on duty: no honest estimate; the kiosk shows the service hours.
        estimate = (ahead + 0.5) * avg / reviewers if reviewers else None
        item = self.catalogue.item_for_queue(ticket.queue)
        hours = self.catalogue.hours_for(item, ticket.place)
        state = (
            "called"
            if ticket.state == TicketState.CALLED
            else ("waiting" if ticket.connected else "away")
        )
        return QueueStatus(
            ticket=ticket.id,
            item=ticket.queue.split("@", 1)[0],
            priority_class=ticket.priority_class,
            position=ahead + 1,
            ahead=ahead,
            estimated_wait_s=None if estimate is None else math.ceil(estimate),
            state=state,
            ticket_number=ticket.number,
            reviewers_online=reviewers,
            hours=None
            if hours is None
            else {
                **hours.to_json(),
                "open_now": hours.open_at(self.catalogue.local_time(self.clock())),
            },
        )

    async def push_status(self, ticket: Ticket) -> None:
        """An explicit answer (a repeated join, a reload): sent even if unchanged."""
        status = await self.status(ticket)
        for conn in self.connections.local(ticket.holder):
            await conn.push(status, again=True)

    async def desk_view(
        self, reviewer: Identity, rows: dict[str, dict[str, Any]] | None = None
    ) -> DeskQueues:
        """The summary of the reviewer's queues (rows: per-queue cache of one flush)."""
        now = self.clock()
        cache = {} if rows is None else rows
        for q in self.queues_of(reviewer):
            if q not in cache:
                cache[q] = await self._desk_row(q, now)
        return DeskQueues(queues=[cache[q] for q in self.queues_of(reviewer)])

    async def _desk_row(self, q: str, now: float) -> dict[str, Any]:
        waiting = await self.store.waiting(q)
        item = self.catalogue.item_for_queue(q)
        return {
            "queue": q,
            "item": item.code,
            "names": item.names.to_json(),
            "waiting": len(waiting),
            "priority_waiting": sum(1 for t in waiting if t.priority),
            "away": sum(1 for t in waiting if not t.connected),
            "longest_wait_s": int(now - min(t.joined_at for t in waiting)) if waiting else 0,
        }

    # -- coalesced fan-out -------------------------------------------------
    async def _mark_dirty(self, queues: set[str]) -> None:
        """A queue changed (from any process): flush once per coalescing window."""
        self._dirty |= queues
        if self._flush is None:
            loop = asyncio.get_running_loop()
            delay = self.cfg.push_coalesce_ms / 1000
            self._flush = loop.call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        self._flush = asyncio.get_running_loop().create_task(self._push_updates())

    async def _push_updates(self) -> None:
        """Each local kiosk in a changed queue gets its own status, each local desk
        serving one the summary of its queues; an unchanged message is not resent."""
        queues, self._dirty = self._dirty, set()
        try:
            for q in sorted(queues):
                waiting = sorted(await self.store.waiting(q), key=lambda t: t.rank)
                present = [
                    (n, t) for n, t in enumerate(waiting) if self.connections.local(t.holder)
                ]
                if not present:
                    continue
                reviewers = len(await self.store.set_members(f"desk:online:{q}"))
                avg = await self.average_handling(q)
                for ahead, ticket in present:
                    status = self._status(ticket, ahead, reviewers, avg)
                    for conn in self.connections.local(ticket.holder):
                        await conn.push(status)
            rows: dict[str, dict[str, Any]] = {}
            for conn in self.connections.with_role("reviewer"):
                if queues & set(self.queues_of(conn.ident)):
                    await conn.push(await self.desk_view(conn.ident, rows))
        except Exception:
            log.exception("queue push failed")
        finally:
            self._flush = None
            if self._dirty:
                await self._mark_dirty(set())

    async def close(self) -> None:
        """Stop a pending flush (shutdown)."""
        flush, self._flush = self._flush, None
        if isinstance(flush, asyncio.TimerHandle):
            flush.cancel()
        elif flush is not None:
            flush.cancel()
