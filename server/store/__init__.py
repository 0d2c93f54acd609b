"""Shared state: the Store interface and its two implementations."""

from __future__ import annotations

from pathlib import Path

from server.config import StoreConfig
from server.store.base import Store, Subscription, Ticket, TicketState
from server.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "Subscription", "Ticket", "TicketState", "make_store"]


def make_store(
    cfg: StoreConfig,
    redis_url: str | None = None,
    *,
    data_dir: Path | None = None,
    restart_grace: float = 60.0,
) -> Store:
    """The store named by the configuration (`--redis URL` wins). The memory
    store journals its queues in `data_dir` unless `store.journal` is off."""
    if redis_url or cfg.backend == "redis":
        from server.store.redis_store import RedisStore

        return RedisStore(redis_url or cfg.redis_url, prefix=cfg.key_prefix)
    journal = data_dir / "queue.journal" if cfg.journal and data_dir is not None else None
    return MemoryStore(journal, restart_grace=restart_grace)
