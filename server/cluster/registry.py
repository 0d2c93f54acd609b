"""This process in the shared store: its id, address and load, with a heartbeat.

Each process writes `cluster:proc:<id>` (a JSON entry) with a time to live of
`cluster.expiry_seconds` and refreshes it every `cluster.heartbeat_seconds`;
the id is also kept in the set `cluster:procs`. A member of the set whose
entry has expired is a process that died without saying goodbye (kill -9, a
lost machine): server/cluster/recovery.py cleans up after it, but only from
a process whose own heartbeats have all reached the store for longer than an
entry lives (`steady`): after a store outage (Redis restarted) every entry may
have expired at once, and nobody died. A process that
stops cleanly removes both itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.config import ClusterConfig
from server.store import Store

log = logging.getLogger(__name__)
PROCS = "cluster:procs"
SET_TTL = 7 * 24 * 3600.0  # the set of ids outlives any process; members leave explicitly


def proc_key(proc_id: str) -> str:
    return f"cluster:proc:{proc_id}"


def presence_key(proc_id: str) -> str:
    """Holders with a socket on that process (kiosks, agents, staff desks, phones)."""
    return f"cluster:conns:{proc_id}"


def reap_key(proc_id: str) -> str:
    """Taken (an atomic increment) by the survivor that cleans up after `proc_id`."""
    return f"cluster:reap:{proc_id}"


@dataclass(frozen=True)
class ProcInfo:
    id: str
    address: str
    load: int  # sessions carried
    started: float
    beat: float
    healthy_since: float = 0.0  # wall clock of the first good beat after the last failed one


class Registry:
    def __init__(
        self, store: Store, cfg: ClusterConfig, address: str, load: Callable[[], int]
    ) -> None:
        self.store = store
        self.cfg = cfg
        self.address = address
        self.load = load
        # Unique per start: a restarted process is a new member, never the dead one.
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.started = time.time()
        # Since when every heartbeat reached the store (monotonic; see `steady`).
        self._healthy_since = time.monotonic()
        self._healthy_wall = time.time()
        self._last_ok = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        # Awaited when this process finds it was taken for dead (see _run).
        self.on_reaped: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        await self.beat()
        await self.store.set_add(PROCS, self.id, SET_TTL)
        self._task = asyncio.get_running_loop().create_task(self._run())
        log.info("cluster member registered", extra={"member": self.id})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.store.kv_delete(proc_key(self.id))
        await self.store.set_remove(PROCS, self.id)

    def steady(self) -> bool:
        """Whether this process has reached the store without a miss for longer than
        an entry lives: only then is an expired entry someone else's death, not an
        outage of the store that every process saw (a Redis restart)."""
        now = time.monotonic()
        window = self.cfg.expiry_seconds + self.cfg.heartbeat_seconds
        recent = now - self._last_ok < self._gap_limit()
        return recent and now - self._healthy_since > window

    def _gap_limit(self) -> float:
        """Longer than this between good beats, and an entry may have expired."""
        return self.cfg.expiry_seconds - self.cfg.heartbeat_seconds

    def _missed(self) -> None:
        self._healthy_since = time.monotonic()
        self._healthy_wall = time.time()

    async def beat(self) -> None:
        entry = ProcInfo(
            self.id, self.address, self.load(), self.started, time.time(), self._healthy_wall
        )
        await self.store.kv_set(
            proc_key(self.id), json.dumps(entry.__dict__), ttl=self.cfg.expiry_seconds
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.heartbeat_seconds)
            try:
                if await self.store.kv_get(reap_key(self.id)) is not None:
                    # Stalled past the expiry: the others took this process for dead
                    # and settled its sessions. Drop them here too, then carry on.
                    log.error("this process was taken for dead", extra={"member": self.id})
                    for reaped in self.on_reaped:
                        await reaped()
                    await self.store.kv_delete(reap_key(self.id))
                await self.beat()
                await self.store.set_add(PROCS, self.id, SET_TTL)
                now = time.monotonic()
                if now - self._last_ok > self._gap_limit():
                    self._missed()  # a beat that hung (the store stalled): as good as missed
                self._last_ok = now
            except Exception:
                self._missed()
                log.exception("cluster heartbeat failed")

    async def get(self, proc_id: str) -> ProcInfo | None:
        raw = await self.store.kv_get(proc_key(proc_id))
        return ProcInfo(**json.loads(raw)) if raw else None

    async def members(self) -> tuple[list[ProcInfo], list[str]]:
        """(live processes, ids of dead ones still in the set)."""
        live, dead = [], []
        for proc_id in sorted(await self.store.set_members(PROCS)):
            info = await self.get(proc_id)
            if info is None:
                dead.append(proc_id)
            else:
                live.append(info)
        return live, dead

    async def alive(self, proc_id: str) -> bool:
        return proc_id == self.id or await self.get(proc_id) is not None

    async def least_loaded(self) -> str:
        """The live process with the fewest sessions (this one on a tie)."""
        live, _ = await self.members()
        mine = self.load()
        best = min(live, key=lambda p: (p.load, p.id != self.id), default=None)
        if best is None or best.load >= mine:
            return self.id
        return best.id
