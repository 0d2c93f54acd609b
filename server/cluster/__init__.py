"""Several server processes behind one address, sharing the Redis store.

`registry` (who is alive, with a heartbeat), `routing` (a session pinned to
its process; the signaling of its participants on other processes routed
there and back) and `recovery` (a dead process's sessions and places cleaned
up by a survivor). `Cluster` starts and stops the three; it exists only with
the Redis store (one process with the memory store needs none of it).
"""

from __future__ import annotations

from aiohttp import web

from server import appkeys as K
from server.cluster.recovery import LOST, Recovery
from server.cluster.registry import Registry
from server.cluster.routing import Router


class Cluster:
    def __init__(self, app: web.Application) -> None:
        cfg = app[K.CONFIG]
        host = cfg.server.host if cfg.server.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        # Where the others reach this process (HTTP replays, server/cluster/proxy.py):
        # set cluster.address when they run on other machines.
        address = cfg.cluster.address or f"{host}:{cfg.server.port}"
        sessions = app[K.SESSIONS]
        self.registry = Registry(app[K.STORE], cfg.cluster, address, lambda: len(sessions.active()))
        self.router = Router(app, self.registry)
        self._audit = app[K.RECORDER].system
        self.recovery = Recovery(app, self.registry)
        self.registry.on_reaped.append(self._taken_for_dead)
        self._sessions = sessions

    async def _taken_for_dead(self) -> None:
        """Stalled past the expiry (the others settled this process's sessions)."""
        ended = [s.id for s in self._sessions.active()]
        await self._sessions.abandon(LOST)
        self._audit("cluster.taken_for_dead", None, {"process": self.id, "sessions": ended})

    @property
    def id(self) -> str:
        return self.registry.id

    async def start(self) -> None:
        await self.router.start()
        await self.registry.start()
        # This data dir's chain names the member id the others will know it by.
        self._audit(
            "cluster.joined", None, {"process": self.registry.id, "address": self.registry.address}
        )
        self.recovery.start()

    async def stop(self) -> None:
        await self.recovery.stop()
        await self.registry.stop()
        await self.router.stop()
