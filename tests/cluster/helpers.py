"""Clients of a two-process cluster, and reading what the cluster wrote."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import redis

from server.bench.cluster_env import ITEM, Node
from signaling.client import SignalingClient, login

# Short heartbeats, so a dead process is noticed within about 4 s; the expiry
# leaves room for a loaded machine (a stalled loop must not look dead).
HEARTBEAT_S, EXPIRY_S = 0.5, 3.0
CLUSTER_ENV = {
    "RW_CLUSTER__HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    "RW_CLUSTER__EXPIRY_SECONDS": str(EXPIRY_S),
    "RW_QUEUE__GRACE_SECONDS": "120",
}


async def until(check: Callable[[], Any], within: float = 30.0, what: str = "") -> Any:
    """Poll a condition until it gives a true value (its value), or fail at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)  # the poll interval, not synchronisation


async def kiosk(stack: AsyncExitStack, node: Node, token: str) -> SignalingClient:
    http = aiohttp.ClientSession(base_url=node.url)
    stack.push_async_callback(http.close)
    client = await SignalingClient.connect(http, token=token)
    stack.push_async_callback(client.close)
    return client


async def desk(stack: AsyncExitStack, node: Node, name: str, password: str) -> SignalingClient:
    http = aiohttp.ClientSession(base_url=node.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    stack.push_async_callback(http.close)
    await login(http, name, password)
    client = await SignalingClient.connect(http)
    stack.push_async_callback(client.close)
    return client


async def join(client: SignalingClient) -> dict[str, Any]:
    """queue.join, and the acknowledged place (its queue.status)."""
    await client.send({"type": "queue.join", "item": ITEM, "recording_notice_shown": True})
    return await client.expect("queue.status", timeout=30)


def seen(client: SignalingClient, mtype: str, **match: Any) -> dict[str, Any] | None:
    """The latest message of this type (matching) the client has received, if any."""
    for msg in reversed(client.history):
        if msg.get("type") == mtype and all(msg.get(k) == v for k, v in match.items()):
            return msg
    return None


def kv(redis_url: str, key: str) -> Any:
    with redis.Redis.from_url(redis_url, decode_responses=True) as r:
        raw = r.get(f"rw:kv:{key}")
    return json.loads(raw) if raw else None


def process_id(redis_url: str, node: Node) -> str:
    """The registry id of the process serving `node` now."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as r:
        for member in r.smembers("rw:set:cluster:procs"):
            raw = r.get(f"rw:kv:cluster:proc:{member}")
            if raw and json.loads(raw)["address"].endswith(f":{node.port}"):
                return str(member)
    raise AssertionError(f"{node.name} is not registered")


def interruption(database_url: str, session_id: str) -> dict[str, Any] | None:
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT process, live, requeued, participants FROM session_interruptions "
            "WHERE session_id = %s",
            (session_id,),
        ).fetchone()
    if row is None:
        return None
    return {"process": row[0], "live": row[1], "requeued": row[2], "participants": row[3]}


def system_events(data_dir: Path, event_type: str) -> list[dict[str, Any]]:
    """Events of a type in a data dir's system audit logs."""
    out = []
    for path in sorted((data_dir / "archive" / "system").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line being written
            if event.get("type") == event_type:
                out.append(event)
    return out
