"""The supervisors' dashboard pushed live: `supervision.snapshot` when a
supervisor's socket opens, `supervision.update` when anything on it changed.

Changes come from everywhere: queue joins, leaves and calls (the Connections
bus already tells every process), sessions starting, going live and ending,
case changes and follow-ups (this process: `changed()` publishes on the bus, so
every process's supervisors hear of it). They are coalesced: one update at most
every `supervision.push_coalesce_ms`, the first one at once, so a busy hall
does not flood the projector. A process with no supervisor socket reads nothing.

`changed()` may be called from any thread (case and follow-up listeners run in
worker threads after their commit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from server.catalogue import Catalogue
from server.config import SupervisionConfig
from server.connections import Connection, Connections
from server.register.cases import CaseService
from server.register.followups import FollowUpService
from server.session_manager import SessionManager
from server.store import Store
from server.supervision_data import build_snapshot
from signaling.messages import SupervisionSnapshot, SupervisionUpdate

log = logging.getLogger(__name__)
# Roles whose sockets get the dashboard (admins have no socket today).
WATCHERS = ("supervisor", "admin")


class Supervision:
    def __init__(
        self,
        cfg: SupervisionConfig,
        store: Store,
        catalogue: Catalogue,
        connections: Connections,
        sessions: SessionManager,
        cases: CaseService,
        followups: FollowUpService,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.catalogue = catalogue
        self.connections = connections
        self.sessions = sessions
        self.cases = cases
        self.followups = followups
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self._dirty = False
        self._last_flush = 0.0
        self.flushes = 0  # updates computed (for the benchmark and tests' curiosity)
        connections.on_queues_changed(self._queues_changed)
        connections.on_supervision_changed(self._mark_dirty)

    def start(self) -> None:
        """On the serving loop (the lifecycle): from now on changes are pushed."""
        self._loop = asyncio.get_running_loop()

    # -- reading -------------------------------------------------------------
    async def snapshot(self) -> dict[str, Any]:
        return await build_snapshot(
            self.store,
            self.catalogue,
            self.sessions,
            self.cases,
            self.followups,
            self.cfg.worst_cases,
        )

    def watchers(self) -> list[Connection]:
        return [c for role in WATCHERS for c in self.connections.with_role(role)]

    async def opened(self, conn: Connection) -> None:
        """A supervisor's socket opened: the whole dashboard, now."""
        await conn.send(SupervisionSnapshot(**await self.snapshot()))

    # -- changes -------------------------------------------------------------
    def changed(self) -> None:
        """Something on the dashboard changed (any thread): tell every process."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # not serving (a tool, or shutting down)
        try:
            loop.call_soon_threadsafe(self._publish)
        except RuntimeError:  # the loop closed in between
            pass

    def changed_case(self, _change: object) -> None:
        """A CaseService listener."""
        self.changed()

    def _publish(self) -> None:
        if self._loop is not None:  # else shutting down: nobody left to tell
            task = self._loop.create_task(self._publish_now())
            self._publishing.add(task)  # held until done (the loop keeps weak refs)
            task.add_done_callback(self._publishing.discard)

    async def _publish_now(self) -> None:
        if self._loop is None:
            return
        try:
            await self.connections.supervision_changed()
        except Exception:
            log.exception("supervision change not published")

    async def _queues_changed(self, _queues: set[str]) -> None:
        await self._mark_dirty()

    async def _mark_dirty(self) -> None:
        """Schedule one flush: at once if the last was long enough ago, else when
        the coalescing interval since it has passed."""
        self._dirty = True
        if self._timer is not None or self._task is not None or not self.watchers():
            return
        loop = asyncio.get_running_loop()
        wait = self._last_flush + self.cfg.push_coalesce_ms / 1000 - time.monotonic()
        self._timer = loop.call_later(max(0.0, wait), self._start_flush)

    def _start_flush(self) -> None:
        self._timer = None
        self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        self._dirty = False
        self._last_flush = time.monotonic()
        try:
            watchers = self.watchers()
            if watchers:
                message = SupervisionUpdate(**await self.snapshot())
                self.flushes += 1
                for conn in watchers:
                    await conn.send(message)
        except Exception:
            log.exception("supervision push failed")
        finally:
            self._task = None
            if self._dirty:
                await self._mark_dirty()

    async def close(self) -> None:
        """Stop a pending flush (shutdown)."""
        self._loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
