"""Queue rules on top of the Store: join, leave, grace, call next, estimates.

The Store makes each step atomic; this module decides what the steps mean
for the people involved and tells them (through Connections).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from server.auth import Identity
from server.catalogue import NORMAL_CLASS, Catalogue
from server.config import QueueConfig
from server.connections import Connections
from server.store import Store, Ticket, TicketState
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import DeskQueues, QueueLeft, QueueStatus

log = logging.getLogger(__name__)
AuditHook = Callable[[str, str | None, dict[str, Any]], None]


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
        connections.on_queues_changed(self._push_updates)

    # -- applicants --------------------------------------------------------
    async def join(self, ident: Identity, item_code: str, priority_class: str) -> Ticket:
        item = self.catalogue.items.get(item_code)
        if item is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no service item {item_code[:64]!r}")
        if "video" not in item.modes:
            raise ProtocolError(ErrorCode.WRONG_STATE, "this item is not handled by video")
        if priority_class != NORMAL_CLASS and not self.catalogue.is_priority(priority_class):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"unknown priority class {priority_class!r}")
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
            await self.connections.to_holder(t.holder, QueueLeft(reason="expired"))
        if expired:
            await self.connections.queues_changed({t.queue for t in expired})
        return expired

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
            await self.connections.queues_changed({ticket.queue})
        return ticket

    async def finish(self, ticket_id: str, handling_seconds: float | None) -> None:
        """The session for this ticket is over; its handling time feeds estimates."""
        ticket = await self.store.leave(ticket_id)
        if ticket is not None and handling_seconds is not None:
            await self.store.add_handling_time(
                ticket.queue, handling_seconds, self.cfg.handling_window
            )
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
        avg = await self.average_handling(ticket.queue)
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
        for conn in self.connections.local(ticket.holder):
            await conn.send(await self.status(ticket))

    async def desk_view(self, reviewer: Identity) -> DeskQueues:
        now = self.clock()
        rows = []
        for q in self.queues_of(reviewer):
            waiting = await self.store.waiting(q)
            item = self.catalogue.item_for_queue(q)
            rows.append(
                {
                    "queue": q,
                    "item": item.code,
                    "names": item.names.to_json(),
                    "waiting": len(waiting),
                    "priority_waiting": sum(1 for t in waiting if t.priority),
                    "away": sum(1 for t in waiting if not t.connected),
                    "longest_wait_s": int(now - min(t.joined_at for t in waiting))
                    if waiting
                    else 0,
                }
            )
        return DeskQueues(queues=rows)

    async def _push_updates(self, queues: set[str]) -> None:
        """Recompute what local kiosks and desks see for the changed queues."""
        for conn in self.connections.all():
            ident = conn.ident
            if ident.role in ("kiosk", "agent"):
                ticket = await self.store.ticket_of(ident.holder)
                if ticket is not None and ticket.queue in queues:
                    if ticket.state == TicketState.WAITING:
                        await conn.send(await self.status(ticket))
            elif ident.role == "reviewer" and queues & set(self.queues_of(ident)):
                await conn.send(await self.desk_view(ident))
