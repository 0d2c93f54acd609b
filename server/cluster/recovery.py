"""A process that died: a surviving one cleans up after it.

Every heartbeat each process looks for members whose registry entry expired
(server/cluster/registry.py). The first to take the store lock
`cluster:reap:<id>` (an atomic increment: only the first gets 1) acts, the
others skip it:

- each session the dead process owned ends: its participants (connected to
  other processes) get `session.ended` with outcome `server_lost`, the
  applicant's called ticket goes back to the head of its queue (same rank:
  the kiosk then gets its `queue.status`), a live one is written to the
  register as interrupted (`session_interruptions`), and every session is in
  the system audit log (`cluster.session_lost`);
- waiting applicants whose socket was on the dead process keep their place
  for the usual grace (marked away), unless they are back on a live process;
- the member leaves the registry (`cluster.process_lost` audited).

Its recordings stay in its data dir: the next start there seals them
(recording/recovery.py, outcome "interrupted") and `verify` passes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.cluster.registry import PROCS, Registry, presence_key, proc_key, reap_key
from server.cluster.routing import (
    holder_key,
    owned_key,
    session_key,
    staff_key,
)
from server.register.models import SessionInterruption
from server.store import TicketState
from signaling.messages import SessionEnded

log = logging.getLogger(__name__)
LOST = "server_lost"  # the session.ended outcome (signaling/PROTOCOL.md)
LOCK_TTL = 300.0


class Recovery:
    def __init__(self, app: web.Application, registry: Registry) -> None:
        self.app = app
        self.registry = registry
        self.store = app[K.STORE]
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.registry.cfg.heartbeat_seconds)
            try:
                await self.sweep()
            except Exception:
                log.exception("cluster sweep failed")

    async def sweep(self) -> list[str]:
        """Clean up after every dead member this process wins the lock for."""
        if not self.registry.steady():
            return []  # just started, or the store was out: the others may be fine
        asked = time.monotonic()
        live, dead = await self.registry.members()
        if time.monotonic() - asked > self.registry.cfg.heartbeat_seconds:
            return []  # the store stalled while answering: look again next time
        if not self.registry.steady():
            return []
        reaped = []
        for proc_id in dead:
            if proc_id == self.registry.id:
                continue
            if await self.store.kv_incr(reap_key(proc_id), LOCK_TTL) != 1:
                continue  # another survivor is on it
            await self.reap(proc_id, [p.id for p in live])
            reaped.append(proc_id)
        return reaped

    async def reap(self, proc_id: str, live: list[str]) -> None:
        log.warning("cluster member lost", extra={"member": proc_id})
        sessions = sorted(await self.store.set_members(owned_key(proc_id)))
        requeued = interrupted = 0
        for session_id in sessions:
            raw = await self.store.kv_get(session_key(session_id))
            if raw is None:
                continue
            record = json.loads(raw)
            back = await self._end_session(proc_id, session_id, record)
            requeued += back
            interrupted += bool(record.get("started"))
            await self.store.set_remove(owned_key(proc_id), session_id)
        away = await self._mark_away(proc_id, live)
        await self.store.set_remove(PROCS, proc_id)
        await self.store.kv_delete(proc_key(proc_id))
        self.app[K.RECORDER].system(
            "cluster.process_lost",
            None,
            {
                "process": proc_id,
                "noticed_by": self.registry.id,
                "sessions": len(sessions),
                "interrupted": interrupted,
                "requeued": requeued,
                "away": away,
            },
        )
        await self.app[K.CONNECTIONS].supervision_changed()

    async def _end_session(self, proc_id: str, session_id: str, record: dict[str, Any]) -> bool:
        holders = [str(h) for h in record.get("holders") or []]
        connections = self.app[K.CONNECTIONS]
        for holder in holders:
            raw = await self.store.kv_get(holder_key(holder))
            if raw and json.loads(raw).get("session") == session_id:
                await self.store.kv_delete(holder_key(holder))
        ticket = await self.store.get_ticket(str(record.get("ticket")))
        back = (
            ticket is not None
            and ticket.state == TicketState.CALLED
            and ticket.session_id == session_id
        )
        live = bool(record.get("started"))
        # In the register before anyone is told.
        await asyncio.to_thread(
            self._write_register, session_id, proc_id, record, holders, live, back
        )
        # Told first, then the queue.status of the requeue follows (PROTOCOL.md).
        for holder in holders:
            await connections.to_holder(
                holder, SessionEnded(session_id=session_id, outcome=LOST, by="server")
            )
        if back:
            assert ticket is not None
            await self.app[K.QUEUES].requeue(ticket.id)
        self.app[K.RECORDER].system(
            "cluster.session_lost",
            None,
            {"session": session_id, "process": proc_id, "live": live, "requeued": back},
        )
        await self.store.kv_delete(session_key(session_id))
        return back

    def _write_register(
        self,
        session_id: str,
        proc_id: str,
        record: dict[str, Any],
        holders: list[str],
        live: bool,
        requeued: bool,
    ) -> None:
        with self.app[K.REGISTER].write() as s:
            if s.get(SessionInterruption, session_id) is not None:
                return
            s.add(
                SessionInterruption(
                    session_id=session_id,
                    process=proc_id[:128],
                    noticed_by=self.registry.id[:128],
                    item=record.get("item"),
                    place=record.get("place"),
                    live=live,
                    requeued=requeued,
                    participants=holders,
                    ended_at=datetime.now(UTC),
                )
            )

    async def _mark_away(self, proc_id: str, live: list[str]) -> int:
        """Waiting holders whose socket was there: away, with the grace to come back."""
        back_elsewhere: set[str] = set()
        for other in live:
            back_elsewhere |= await self.store.set_members(presence_key(other))
        queues = self.app[K.QUEUES]
        deadline = queues.clock() + self.app[K.CONFIG].queue.grace_seconds
        away, changed = 0, set()
        for holder in await self.store.set_members(presence_key(proc_id)):
            await self.store.set_remove(presence_key(proc_id), holder)
            raw = await self.store.kv_get(staff_key(holder))
            if raw and json.loads(raw).get("owner") == proc_id:
                await self.store.kv_delete(staff_key(holder))
            if holder in back_elsewhere:
                continue
            ticket = await self.store.ticket_of(holder)
            if ticket is None or ticket.state != TicketState.WAITING or not ticket.connected:
                continue
            await self.store.set_connected(ticket.id, False, deadline)
            queues.audit("queue.away", holder, {"queue": ticket.queue, "ticket": ticket.id})
            changed.add(ticket.queue)
            away += 1
        if changed:
            await self.app[K.CONNECTIONS].queues_changed(changed)
        return away
