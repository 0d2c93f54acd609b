"""Shared state: the Store interface and its two implementations."""

from __future__ import annotations

from server.config import StoreConfig
from server.store.base import Store, Subscription, Ticket, TicketState
from server.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "Subscription", "Ticket", "TicketState", "make_store"]


def make_store(cfg: StoreConfig, redis_url: str | None = None) -> Store:
    """The store named by the configuration (`--redis URL` wins)."""
    if redis_url or cfg.backend == "redis":
        from server.store.redis_store import RedisStore

        return RedisStore(redis_url or cfg.redis_url, prefix=cfg.key_prefix)
    return MemoryStore()
