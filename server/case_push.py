"""`case.updated` pushes: every committed case change reaches, without polling,
the staff sockets that may read the case (its item's reviewers, agents of its
place, supervisors; in every process, through the Connections bus).

The case service calls its listeners in the worker thread that ran the
change (after the commit). `on_change` only hands the message to the event
loop (`call_soon_threadsafe`); one task sends them in the order they came.
"""

from __future__ import annotations

import asyncio
import logging

from server.connections import Connections
from server.register.cases import CaseChange
from signaling.messages import CaseUpdated

log = logging.getLogger(__name__)


def case_updated(change: CaseChange) -> CaseUpdated:
    c = change.summary
    return CaseUpdated(
        number=c.number,
        state=c.state,
        item=c.item,
        place=c.place,
        remaining_working_days=c.remaining_working_days,
        overdue=c.overdue,
        due_soon=c.due_soon,
        change=change.change,
        reason=change.reason or None,
    )


class CasePush:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[CaseUpdated] | None = None

    def on_change(self, change: CaseChange) -> None:
        """A case listener (any thread): queue the push on the loop."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            return  # not serving (a tool, or shutting down): nobody to tell
        message = case_updated(change)
        try:
            loop.call_soon_threadsafe(queue.put_nowait, message)
        except RuntimeError:  # the loop closed in between
            pass

    async def run(self) -> None:
        """Send queued pushes in order until cancelled (one task in the server)."""
        self._loop = asyncio.get_running_loop()
        self._queue = queue = asyncio.Queue()
        try:
            while True:
                msg = await queue.get()
                try:
                    await self.connections.to_case_readers(msg.item, msg.place, msg)
                except Exception:
                    log.exception("case push failed", extra={"case": msg.number})
        finally:
            self._loop = self._queue = None
