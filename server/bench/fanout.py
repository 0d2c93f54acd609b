"""`remote-window bench-fanout`: what queue pushes cost with many sockets open.

It starts the real server as a child process (like `server_proc`), opens
`--sockets` WebSockets (about 1 in 20 a reviewer desk serving three items,
the rest kiosks with their own device tokens), puts half the kiosks in line,
then for `--seconds` makes `--changes` queue changes a second (a random kiosk
joins or leaves). It prints the pushes the clients received (queue.status,
desk.queues, queue.left), the server's CPU seconds and the median /healthz
latency during that window (polled from a third process, so the clients' own
work is not counted in it).

The child is `python -m server.bench.fanout serve ...`; it builds the app the
way `server_proc` does (`bench_config`, `run_until_stopped`) and otherwise only
uses what the server has had since the first capabilities, so this file and
`server_proc.py` copied together can measure an older checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

ITEMS = ("SCJG-001", "RSJ-001", "YB-001")
PASSWORD = "bench-password-1"
PUSH_TYPES = ("queue.status", "desk.queues", "queue.left")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server child ---------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    from server import appkeys as K
    from server.app import create_app
    from server.bench.server_proc import bench_config, run_until_stopped

    logging.basicConfig(level=logging.WARNING)
    data_dir = Path(args.data_dir)
    app = create_app(bench_config(data_dir, args.port))
    db = app[K.ACCOUNTS]
    reviewers = []
    for i in range(args.reviewers):
        name = f"fan-r{i}-{secrets.token_hex(2)}"
        db.add_user(name, PASSWORD, "reviewer", items=list(ITEMS), place="QH-COUNTY")
        reviewers.append(name)
    kiosks = [db.add_kiosk(f"fan kiosk {i}", "QH-CG")[1] for i in range(args.kiosks)]
    (data_dir / "fanout-accounts.json").write_text(
        json.dumps({"reviewers": reviewers, "kiosks": kiosks})
    )
    run_until_stopped(app, args.port)


# -- the driver ---------------------------------------------------------------


class Socket:
    """One client socket that counts what it is pushed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, counts: Counter[str]) -> None:
        self.ws = ws
        self.counts = counts
        self.waiting = False
        self.status = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self._read())
        self.pinger = loop.create_task(self._ping())

    async def _ping(self) -> None:
        """Like the pages: an app-level ping every 15 s, or the server closes it as idle."""
        while not self.ws.closed:
            await asyncio.sleep(15)
            await self.send({"type": "ping"})

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                mtype = json.loads(msg.data).get("type", "")
                self.counts[mtype] += 1
                if mtype == "queue.status":
                    self.status.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))


async def _poll_healthz(base: str, seconds: float) -> list[float]:
    """GET /healthz one after another, at random gaps; latencies in ms."""
    rng, samples = random.Random(3), []
    async with aiohttp.ClientSession() as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            async with http.get(f"{base}/healthz") as resp:
                await resp.read()
            samples.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(rng.uniform(0.02, 0.08))  # no phase-lock with timers
    return samples


def poll(args: argparse.Namespace) -> None:
    """The /healthz poller, in its own process so the clients' work is not in its times."""
    print(json.dumps(asyncio.run(_poll_healthz(args.base, args.seconds))), flush=True)


async def _start_poller(base: str, seconds: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.fanout",
        "poll",
        *("--base", base, "--seconds", str(seconds)),
        stdout=asyncio.subprocess.PIPE,
    )


async def _toggle(sock: Socket, item: str) -> None:
    if sock.waiting:
        await sock.send({"type": "queue.leave"})
    else:
        await sock.send({"type": "queue.join", "item": item, "recording_notice_shown": True})
    sock.waiting = not sock.waiting


async def run(sockets: int, seconds: float, changes: float, data_dir: Path) -> dict[str, Any]:
    reviewers = max(1, sockets // 20)
    kiosks = sockets - reviewers
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.fanout",
        "serve",
        *("--port", str(port), "--data-dir", str(data_dir)),
        *("--kiosks", str(kiosks), "--reviewers", str(reviewers)),
        stdout=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    https: list[aiohttp.ClientSession] = []
    socks: list[Socket] = []
    desks: list[Socket] = []
    counts: Counter[str] = Counter()
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            while (line := await proc.stdout.readline()) != b"READY\n":
                if not line:
                    raise RuntimeError("the server exited before it was ready")
        accounts = json.loads((data_dir / "fanout-accounts.json").read_text())
        kiosk_http = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=0))
        https.append(kiosk_http)
        for token in accounts["kiosks"]:
            socks.append(Socket(await kiosk_http.ws_connect(f"/ws?token={token}"), counts))
        for name in accounts["reviewers"]:
            http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
            https.append(http)
            async with http.post("/api/login", json={"username": name, "password": PASSWORD}):
                pass
            desks.append(Socket(await http.ws_connect("/ws"), counts))
        rng = random.Random(7)
        for sock in socks[: len(socks) // 2]:  # half the kiosks are in line to start with
            await _toggle(sock, rng.choice(ITEMS))
            await asyncio.wait_for(sock.status.wait(), 30)
        await asyncio.sleep(1.0)  # let the pushes of the warm-up drain
        counts.clear()
        poller = await _start_poller(base, seconds)
        cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        made = 0
        while (elapsed := time.monotonic() - t0) < seconds:
            await _toggle(rng.choice(socks), rng.choice(ITEMS))
            made += 1
            await asyncio.sleep(max(0.0, made / changes - elapsed))
        await asyncio.sleep(0.5)  # pushes of the last changes arrive
        cpu1, wall = _cpu_seconds(proc.pid), time.monotonic() - t0
        out, _ = await poller.communicate()
        samples = json.loads(out)
        return {
            "sockets": len(socks) + len(desks),
            "kiosks": len(socks),
            "desks": len(desks),
            "seconds": round(wall, 2),
            "queue_changes": made,
            "pushes": sum(counts[t] for t in PUSH_TYPES),
            "pushes_by_type": {t: counts[t] for t in PUSH_TYPES},
            "server_cpu_s": round(cpu1 - cpu0, 2),
            "healthz_median_ms": round(statistics.median(samples), 1) if samples else None,
            "healthz_samples": len(samples),
        }
    finally:
        for sock in socks + desks:
            sock.task.cancel()
            sock.pinger.cancel()
        for http in https:
            await http.close()
        proc.terminate()
        await proc.wait()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="remote-window bench-fanout")
    sub = p.add_subparsers(dest="command")
    child = sub.add_parser("serve")
    child.add_argument("--port", type=int, required=True)
    child.add_argument("--data-dir", required=True)
    child.add_argument("--kiosks", type=int, required=True)
    child.add_argument("--reviewers", type=int, required=True)
    poller = sub.add_parser("poll")
    poller.add_argument("--base", required=True)
    poller.add_argument("--seconds", type=float, required=True)
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sockets", type=int, default=400)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--changes", type=float, default=20, help="queue changes per second")
    p.add_argument("--json", help="also write the figures to this file")


def run_bench(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="rw-fanout-"))
    try:
        result = asyncio.run(run(args.sockets, args.seconds, args.changes, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"sockets {result['sockets']} ({result['desks']} desks), "
        f"{result['queue_changes']} queue changes in {result['seconds']} s"
    )
    print(f"pushes sent       {result['pushes']}  {result['pushes_by_type']}")
    print(f"server CPU        {result['server_cpu_s']} s")
    print(
        f"/healthz median   {result['healthz_median_ms']} ms ({result['healthz_samples']} samples)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        serve(args)
        return 0
    if args.command == "poll":
        poll(args)
        return 0
    return run_bench(args)


if __name__ == "__main__":
    sys.exit(main())
