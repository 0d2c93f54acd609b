"""`remote-window bench --processes N`: several real server processes sharing a
real redis-server and PostgreSQL, every session split across two of them.

Session i's kiosk connects to process i mod N, its reviewer to the next one:
the session lives on the reviewer's process and every kiosk message is routed
there and back over Redis (server/cluster/routing.py). Printed: server cores
per forwarded stream (the CPU of all server processes over the window), join
times (call → first video at both ends), and the signaling latency of a
routed message beside the same message from the same kiosk through a
second socket on the owning process (the baseline: no routing).

The clients (aiortc peers) run in this process and count the complete
encoded frames they receive without decoding, to leave the cores to the
servers; their CPU is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp

from server.bench import driver
from server.bench.cluster_env import (
    ITEM,
    nodes,
    postgres_database,
    redis_server,
    seed,
)
from server.bench.runner import STREAMS_PER_SESSION, WARMUP_S, _cpu_seconds, _percentile
from server.bench.source import vp8_clip
from signaling.client import SignalingClient, login

NODE_ENV = {
    "RW_SIGNALING__RATE_BURST": "400",
    "RW_SIGNALING__RATE_PER_SECOND": "200",
    "RW_LOGGING__LEVEL": "WARNING",
}
PROBES = 50  # round trips per socket for the signaling latency
# Answered by whichever process owns the sender's session, with no side effect:
# an applicant or reviewer may not leave, only end (WRONG_STATE).
PROBE = {"type": "session.leave"}


async def _client(
    stack: AsyncExitStack, base: str, token: str | None = None, user: tuple[str, str] | None = None
) -> SignalingClient:
    http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    stack.push_async_callback(http.close)
    if user is not None:
        await login(http, *user)
    client = await SignalingClient.connect(http, token=token)
    stack.push_async_callback(client.close)
    return client


async def _round_trips(client: SignalingClient, count: int) -> list[float]:
    """ms from sending the probe to its answer (an error naming session.leave)."""
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        await client.send(PROBE)
        await client.expect("error", timeout=10)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(_percentile(values, 0.5), 2),
        "p95": round(_percentile(values, 0.95), 2),
        "max": round(max(values), 2),
    }


async def _run(processes: int, sessions: int, seconds: float, root: Path) -> dict[str, Any]:
    with redis_server(root) as redis_url, postgres_database() as database_url:
        accounts = seed(database_url, reviewers=sessions, kiosks=sessions)
        servers = nodes(root, processes, redis_url, database_url, NODE_ENV)
        try:
            for node in servers:
                node.start()
            return await _drive(servers, accounts, sessions, seconds)
        finally:
            for node in servers:
                node.stop()


async def _drive(servers: list[Any], accounts: Any, sessions: int, seconds: float) -> dict:
    clip = vp8_clip(640, 480, 1_000_000, 30)  # as the one-process bench
    pids = [node.proc.pid for node in servers]
    async with AsyncExitStack() as stack:
        benches = []
        for i in range(sessions):
            kiosk_node = servers[i % len(servers)]
            desk_node = servers[(i + 1) % len(servers)]
            bench = driver.BenchSession(
                index=i,
                kiosk=driver.Peer(clip, decode_video=False),
                desk=driver.Peer(clip, decode_video=False),
            )
            stack.push_async_callback(bench.kiosk.close)
            stack.push_async_callback(bench.desk.close)
            kiosk = await _client(stack, kiosk_node.url, token=accounts.kiosks[i])
            await kiosk.send({"type": "queue.join", "item": ITEM, "recording_notice_shown": True})
            await kiosk.expect("queue.status")
            user = (accounts.reviewers[i], accounts.password)
            desk = await _client(stack, desk_node.url, user=user)
            bench.clients += [kiosk, desk]
            benches.append(bench)
        # One call at a time, so each desk gets the kiosk of its own BenchSession.
        for bench in benches:
            await driver.call_and_join(bench, *bench.clients)
        await asyncio.sleep(WARMUP_S)  # settle before the measuring window
        cpu0, wall0 = sum(map(_cpu_seconds, pids)), time.monotonic()
        await asyncio.sleep(seconds)  # the measuring window itself
        cores = (sum(map(_cpu_seconds, pids)) - cpu0) / (time.monotonic() - wall0)
        routed, local = [], []
        for i, bench in enumerate(benches):
            kiosk = bench.clients[0]
            routed += await _round_trips(kiosk, PROBES)  # its socket elsewhere: A → B → A
            # The same kiosk with a second socket at the owner: handled there, no routing.
            owner = servers[(i + 1) % len(servers)]
            here = await _client(stack, owner.url, token=accounts.kiosks[i])
            local += await _round_trips(here, PROBES)
        stamps = [s for b in benches for s in b.stamps()]
        joins = [steps["first_video"] for steps in driver.join_steps(stamps)]
        frames = [b.desk.decoded["video"] + b.kiosk.decoded["video"] for b in benches]
    streams = STREAMS_PER_SESSION * sessions
    return {
        "processes": len(servers),
        "sessions": sessions,
        "seconds": seconds,
        "streams": streams,
        "server_cpu_cores": round(cores, 4),
        "server_cpu_per_stream": round(cores / streams, 5),
        "join_ms": _stats(joins),
        "signaling_rtt_ms": {"routed": _stats(routed), "local": _stats(local)},
        "cross_process_ms": round(
            _percentile(routed, 0.5) - _percentile(local, 0.5) if routed else 0.0, 2
        ),
        "video_frames_received": sum(frames),
    }


def report(result: dict[str, Any]) -> str:
    j, rtt = result["join_ms"], result["signaling_rtt_ms"]
    return "\n".join(
        [
            f"{result['processes']} server processes, {result['sessions']} sessions "
            f"(each kiosk and its reviewer on different processes), {result['seconds']:.0f} s",
            f"server CPU: {result['server_cpu_cores']:.3f} cores for {result['streams']} "
            f"forwarded A/V streams = {result['server_cpu_per_stream']:.4f} cores/stream",
            f"join (call → first video at both ends): p50 {j.get('p50')} ms, "
            f"p95 {j.get('p95')} ms, max {j.get('max')} ms",
            f"signaling round trip, routed to another process: p50 {rtt['routed'].get('p50')} "
            f"ms, p95 {rtt['routed'].get('p95')} ms",
            f"the same message at its own process (baseline): p50 {rtt['local'].get('p50')} "
            f"ms, p95 {rtt['local'].get('p95')} ms",
            f"cross-process signaling latency (p50 difference, two pub/sub hops): "
            f"{result['cross_process_ms']} ms",
        ]
    )


def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    if args.processes < 2:
        raise SystemExit("--processes must be 2 or more")
    result = asyncio.run(_run(args.processes, args.sessions, args.seconds, root))
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result
