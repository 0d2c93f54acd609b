"""What only the Redis store has to get right: key prefixes, TTL units, a server
that goes away or hangs, orphaned keys. The shared contract is in test_store_contract."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from server.store.base import RESYNC
from server.store.redis_store import RedisStore, _decode
from tests.contract.test_store_contract import NOW, call, collector, holders, join, next_message
from tests.ports import free_port
from tests.redis_server import start_redis
from tests.server_process import stop


async def test_redis_keys_and_channels_all_carry_the_prefix(redis_url: str) -> None:
    prefix = f"rwtest:{uuid.uuid4().hex[:12]}:"
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    store = RedisStore(redis_url, prefix=prefix)
    try:
        await client.flushdb()
        await store.start()
        t = await join(store, "h", "q")
        await join(store, "h2", "q")
        await store.set_connected(t.id, False, NOW + 5)
        await join(store, "h3", "r")
        await call(store, "r")
        await store.add_handling_time("q", 1, 5)
        await store.kv_set("k", "v")
        await store.kv_incr("n", 60)
        await store.set_add("s", "m", 60)
        _, handler = collector()
        await store.subscribe("ch", handler)
        keys = [k async for k in client.scan_iter()]
        assert len(keys) >= 10
        assert all(k.startswith(prefix) for k in keys), keys
        assert await client.pubsub_channels() == [f"{prefix}ch:ch"]
    finally:
        await store.close()
        await client.aclose()


async def test_redis_start_fails_clearly_when_unreachable(dead_redis_url: str) -> None:
    store = RedisStore(dead_redis_url)
    with pytest.raises(ConnectionError, match=r"Redis store unreachable at 127\.0\.0\.1:"):
        await store.start()
    assert await store.ping() is False
    await store.close()


async def test_redis_ping_false_when_server_goes_away(
    tmp_path: Path, redis_spawner: Callable[[Path], contextlib.AbstractContextManager[str]]
) -> None:
    with redis_spawner(tmp_path) as url:
        store = RedisStore(url)
        await store.start()
        assert await store.ping() is True
    try:
        started = time.monotonic()
        assert await store.ping() is False
        assert time.monotonic() - started < 10
    finally:
        await store.close()


async def test_redis_subscribe_returns_once_the_server_confirmed(redis_url: str) -> None:
    """A message published right after subscribe() returns must not be lost, so
    subscribe() waits for Redis' confirmation; a paused server shows it."""
    store = RedisStore(redis_url, prefix=f"rwtest:{uuid.uuid4().hex[:12]}:")
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await store.start()
        await store.subscribe("warm-up", collector()[1])  # pub/sub connection is up
        await admin.execute_command("CLIENT", "PAUSE", 300, "ALL")
        started = time.monotonic()
        await store.subscribe("late", collector()[1])
        assert time.monotonic() - started >= 0.2
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()
        await store.close()


async def test_redis_leaves_no_queue_keys_behind(redis_url: str) -> None:
    """Tickets that are gone leave no hash, holder key or index entry (these
    would pile up over months of service)."""
    prefix = f"rwtest:{uuid.uuid4().hex[:12]}:"
    store = RedisStore(redis_url, prefix=prefix)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.start()
        tickets = [await join(store, f"h{i}", "ab"[i % 2], priority=i == 3) for i in range(6)]
        await store.set_connected(tickets[0].id, False, NOW + 1)
        await store.set_connected(tickets[1].id, False, NOW + 1)
        called = await call(store, "a", "b")
        assert called is not None
        await store.set_connected(called.id, False, NOW + 1)
        await store.requeue(called.id)
        await call(store, "a", "b")
        assert len(await store.expire_grace(NOW + 5)) == 3
        for t in tickets:
            await store.leave(t.id)
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        # A call's retry guard (call:<token>) expires by itself within a minute.
        guards = [k for k in keys if k.startswith(f"{prefix}call:")]
        assert sorted(set(keys) - set(guards)) == [f"{prefix}seq"]
        assert len(guards) == 2
        for guard in guards:
            assert 0 < await client.ttl(guard) <= 60
    finally:
        await store.close()
        await client.aclose()


async def test_redis_ttls_are_in_seconds(redis_url: str) -> None:
    prefix = f"rwtest:{uuid.uuid4().hex[:12]}:"
    store = RedisStore(redis_url, prefix=prefix)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.start()
        await store.kv_set("a", "1", ttl=30)
        await store.kv_incr("b", 30.5)
        await store.set_add("c", "m", 30)
        await store.kv_set("d", "1")
        assert await store.kv_expire("d", 30)
        for key in (f"{prefix}kv:a", f"{prefix}kv:b", f"{prefix}set:c", f"{prefix}kv:d"):
            assert 25_000 < await client.pttl(key) <= 30_500, key
    finally:
        await store.close()
        await client.aclose()


async def test_redis_survives_a_vanished_ticket_hash(redis_url: str) -> None:
    """If a ticket hash disappears (e.g. evicted under memory pressure) the
    queue keeps working instead of every call failing on the orphan id."""
    prefix = f"rwtest:{uuid.uuid4().hex[:12]}:"
    store = RedisStore(redis_url, prefix=prefix)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.start()
        lost = await join(store, "lost", priority=True)
        kept = await join(store, "kept")
        gone = await join(store, "gone")
        await store.set_connected(gone.id, False, NOW)
        await client.delete(f"{prefix}t:{lost.id}", f"{prefix}t:{gone.id}")
        assert await holders(store) == ["kept"]
        assert await store.expire_grace(NOW + 1) == []
        assert (await call(store)).id == kept.id  # type: ignore[union-attr]
        assert await store.called() != [] and await call(store) is None
        assert await client.zcard(f"{prefix}grace") == 0  # the orphan entry went too
    finally:
        await store.close()
        await client.aclose()


async def test_redis_ping_is_bounded_when_the_server_hangs(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"rwtest:{uuid.uuid4().hex[:12]}:")
    store.ping_timeout = 0.2
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await store.start()
        await admin.execute_command("CLIENT", "PAUSE", 3000, "ALL")
        started = time.monotonic()
        assert await store.ping() is False
        assert time.monotonic() - started < 2
        await admin.execute_command("CLIENT", "UNPAUSE")
        assert await store.ping() is True  # the abandoned PING left no stray reply
        assert await store.kv_get("nothing") is None
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()
        await store.close()


async def test_redis_call_next_retried_takes_the_same_ticket(redis_url: str) -> None:
    """redis-py retries a command whose reply was lost (Redis restarted between
    running the script and answering) with the same arguments: the retry of one
    call_next returns the ticket the first run took, never a second applicant."""
    prefix = f"rwtest:{uuid.uuid4().hex[:12]}:"
    store = RedisStore(redis_url, prefix=prefix)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.start()
        first, second = await join(store, "h1"), await join(store, "h2")
        args = [prefix, "rev", "s-1", repr(NOW + 1), "token-1", "q"]
        runs = [_decode(await store._s_call_next(keys=[], args=args)) for _ in range(2)]
        assert runs[0] is not None and runs[0] == runs[1] and runs[0].id == first.id
        assert await holders(store) == ["h2"]
        other = await call(store)  # a new call: a new token
        assert other is not None and other.id == second.id
        await store.requeue(first.id)
        assert await store._s_call_next(keys=[], args=args) is None  # no longer that call's
        assert 0 < await client.ttl(f"{prefix}call:token-1") <= 60
    finally:
        await store.close()
        await client.aclose()


async def test_redis_restart_with_aof_keeps_tickets_and_resyncs_subscribers(
    tmp_path: Path,
) -> None:
    """kill -9 of a redis-server run with deploy/redis/redis.conf: the tickets are
    there after the restart on the same directory; the pub/sub reconnects by
    itself and tells the subscriber RESYNC, then delivers again."""
    port = free_port()
    proc = start_redis(tmp_path, port)
    store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix="rw:")
    try:
        await store.start()
        inbox, handler = collector()
        await store.subscribe("bus", handler)
        tickets = [await join(store, f"h{i}", priority=i == 2) for i in range(3)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc = start_redis(tmp_path, port)
        assert await next_message(inbox) == RESYNC
        assert await holders(store) == ["h2", "h0", "h1"]
        for t in tickets:
            assert await store.get_ticket(t.id) == t
        await store.publish("bus", {"kind": "after"})
        assert await next_message(inbox) == {"kind": "after"}
    finally:
        await store.close()
        stop(proc)
