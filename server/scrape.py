"""One /metrics scrape: this process's (or, in multiprocess mode, every local
process's) instruments and the shared figures, rendered by prometheus-client.

The route reads the queues from the store (async) and samples this process's
state first; the rendering, which runs the register's queries, goes to a
worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from server import appkeys as K
from server.case_metrics import QueueCollector, RegisterCollector


async def sample_own(app: web.Application) -> None:
    """This process's sessions, streams and recorder totals into its instruments."""
    recorder = app[K.RECORDER]
    await app[K.METRICS].sample(
        lambda: dict(Counter(s.state.value for s in app[K.SESSIONS].active())),
        app[K.MEDIA].stream_stats,
        lambda: (recorder.write_seconds, recorder.packets_written),
    )


async def exposition(app: web.Application) -> bytes:
    """The Prometheus text exposition of one scrape."""
    await sample_own(app)
    store, now = app[K.STORE], time.time()
    queues: dict[str, tuple[int, float]] = {}
    for item in app[K.CATALOGUE].items.values():
        waiting = await store.waiting(item.queue_key)
        first = min((t.joined_at for t in waiting), default=now)
        queues[item.code] = (len(waiting), max(0.0, now - first))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(app[K.METRICS].own())
    registry.register(QueueCollector(queues))
    registry.register(RegisterCollector(app[K.CASES], app[K.CATALOGUE], app[K.FOLLOWUPS]))
    return await asyncio.to_thread(generate_latest, registry)
