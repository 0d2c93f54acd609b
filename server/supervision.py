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

Sessions live in the process that holds their media. Each process keeps the
list of its own under `supervision:sessions:<process>` in the Store (written
before each change is published, refreshed while it has any, expiring
`SESSIONS_TTL` after a process dies) and lists itself in `supervision:procs`,
so every process's dashboard shows every session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from server.auth import Identity
from server.catalogue import Catalogue
from server.config import SupervisionConfig
from server.connections import Connection, Connections
from server.register.cases import CaseService
from server.register.followups import FollowUpService
from server.session_manager import SessionManager
from server.store import Store
from server.supervision_data import build_snapshot, local_sessions
from server.supervision_scope import narrow, scope_of
from signaling.messages import SupervisionSnapshot, SupervisionUpdate

log = logging.getLogger(__name__)
# Roles whose sockets get the dashboard (admins have no socket today).
WATCHERS = ("supervisor", "sysadmin")
PROCS_KEY = "supervision:procs"
SESSIONS_TTL = 90.0  # a dead process's sessions vanish from the dashboard after this
REFRESH_SECONDS = 30.0


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
        self.proc = secrets.token_hex(6)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refresher: asyncio.Task[None] | None = None
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
        self._refresher = self._loop.create_task(self._refresh())

    # -- reading -------------------------------------------------------------
    def _sessions_key(self, proc: str) -> str:
        return f"supervision:sessions:{proc}"

    async def share_sessions(self) -> None:
        """Write this process's sessions where the other processes read them."""
        rows = local_sessions(self.sessions)
        key = self._sessions_key(self.proc)
        if rows:
            await self.store.set_add(PROCS_KEY, self.proc, 24 * 3600)
            await self.store.kv_set(key, json.dumps(rows, ensure_ascii=False), SESSIONS_TTL)
        else:
            await self.store.kv_delete(key)

    async def all_sessions(self) -> list[dict[str, Any]]:
        """This process's sessions as they are, and the other processes' as shared."""
        rows = local_sessions(self.sessions)
        for proc in sorted(await self.store.set_members(PROCS_KEY)):
            if proc == self.proc:
                continue
            shared = await self.store.kv_get(self._sessions_key(proc))
            if shared is None:  # no session there now, or the process is gone
                continue
            rows += json.loads(shared)
        return rows

    async def _refresh(self) -> None:
        """Keep this process's shared sessions from expiring while it has any."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                if self.sessions.active():
                    await self.share_sessions()
            except Exception:
                log.exception("sessions not shared")

    async def snapshot(self, ident: Identity | None = None) -> dict[str, Any]:
        """The dashboard as `ident` may see it (None: everything)."""
        full = await self.full_snapshot()
        return narrow(full, None if ident is None else scope_of(ident, self.catalogue))

    async def full_snapshot(self) -> dict[str, Any]:
        """Every watcher's dashboard at once, with the private keys `narrow` needs."""
        return await build_snapshot(
            self.store,
            self.catalogue,
            await self.all_sessions(),
            self.cases,
            self.followups,
            self.cfg.worst_cases,
        )

    def watchers(self) -> list[Connection]:
        return [c for role in WATCHERS for c in self.connections.with_role(role)]

    async def opened(self, conn: Connection) -> None:
        """A supervisor's socket opened: the whole dashboard, now."""
        await conn.send(SupervisionSnapshot(**await self.snapshot(conn.ident)))

    # -- changes -------------------------------------------------------------
    def changed(self) -> None:
        """Something on the dashboard changed (any thread): tell every process."""
        self._changed(sessions=False)

    def changed_sessions(self) -> None:
        """A session started, changed or ended (the loop): share, then tell."""
        self._changed(sessions=True)

    def _changed(self, *, sessions: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # not serving (a tool, or shutting down)
        try:
            loop.call_soon_threadsafe(self._publish, sessions)
        except RuntimeError:  # the loop closed in between
            pass

    def changed_case(self, _change: object) -> None:
        """A CaseService listener."""
        self.changed()

    def _publish(self, sessions: bool) -> None:
        if self._loop is not None:  # else shutting down: nobody left to tell
            task = self._loop.create_task(self._publish_now(sessions))
            self._publishing.add(task)  # held until done (the loop keeps weak refs)
            task.add_done_callback(self._publishing.discard)

    async def _publish_now(self, sessions: bool) -> None:
        if self._loop is None:
            return
        try:
            if sessions:
                await self.share_sessions()
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
                full = await self.full_snapshot()
                self.flushes += 1
                views: dict[object, SupervisionUpdate] = {}  # one per scope
                for conn in watchers:
                    scope = scope_of(conn.ident, self.catalogue)
                    if scope not in views:
                        views[scope] = SupervisionUpdate(**narrow(full, scope))
                    await conn.send(views[scope])
        except Exception:
            log.exception("supervision push failed")
        finally:
            self._task = None
            if self._dirty:
                await self._mark_dirty()

    async def close(self) -> None:
        """Stop a pending flush (shutdown)."""
        self._loop = None
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None
        try:
            await self.store.kv_delete(self._sessions_key(self.proc))
            await self.store.set_remove(PROCS_KEY, self.proc)
        except Exception:
            log.warning("shared sessions not removed at shutdown")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
