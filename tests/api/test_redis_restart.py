"""Redis (with the repo's AOF config) killed and restarted while applicants wait:
no acknowledged place is lost. A real redis-server, a real `remote-window serve
--redis` process, kiosks over WebSocket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from signaling.client import SignalingClient, login
from tests.api.serve_proc import serve
from tests.ports import free_port
from tests.redis_server import start_redis
from tests.server_process import stop

CLI = (sys.executable, "-m", "server.cli")
ITEM = "SCJG-001"
JOIN = {"type": "queue.join", "item": ITEM, "recording_notice_shown": True}
PASSWORD = "Redis-restart-2026"


def _cli(data_dir: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*CLI, *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


async def _kiosk(stack: AsyncExitStack, base: str, token: str) -> SignalingClient:
    http = await stack.enter_async_context(aiohttp.ClientSession(base_url=base))
    client = await SignalingClient.connect(http, token=token)
    stack.push_async_callback(client.close)
    return client


async def test_redis_killed_and_restarted_keeps_every_acknowledged_place(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    tokens = [_cli(data_dir, "kiosk", "add", f"kiosk {n}", "--place", "QH-CG") for n in range(4)]
    reviewer = ("user", "add", "rev", "--role", "reviewer", "--items", ITEM, "--no-change")
    _cli(data_dir, *reviewer, "--password-stdin", stdin=PASSWORD + "\n")
    redis_dir, port = tmp_path / "redis", free_port()
    url = f"redis://127.0.0.1:{port}/0"
    proc = start_redis(redis_dir, port)
    try:
        with serve(data_dir, args=("--redis", url)) as served:
            base = f"http://127.0.0.1:{served.port}"
            async with AsyncExitStack() as stack:
                told = []
                for token in tokens[:3]:
                    kiosk = await _kiosk(stack, base, token)
                    await kiosk.send(JOIN)
                    told.append(await kiosk.expect("queue.status"))
                assert [s["position"] for s in told] == [1, 2, 3]

                late = await _kiosk(stack, base, tokens[3])
                await late.send({"type": "ping"})  # answered once its socket is fully open
                await late.expect("pong")

                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                # Not acknowledged while Redis is away: an error, never a queue place.
                await late.send(JOIN)
                refused = await late.expect("error", timeout=60)
                assert refused["ref"] == "queue.join"
                assert "queue.status" not in late.last

                proc = start_redis(redis_dir, port)  # the same directory: its AOF
                for n, before in enumerate(told):
                    again = await _kiosk(stack, base, tokens[n])
                    assert again.welcome is not None and again.welcome["resume"] == "queue"
                    now = await again.expect("queue.status", ticket=before["ticket"])
                    assert now["position"] == before["position"]
                await late.send(JOIN)
                assert (await late.expect("queue.status"))["position"] == 4

                desk_http = await stack.enter_async_context(
                    aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
                )
                await login(desk_http, "rev", PASSWORD)
                desk = await SignalingClient.connect(desk_http)
                stack.push_async_callback(desk.close)
                view = await desk.expect("desk.queues")  # the server's view of the line
                [row] = [q for q in view["queues"] if q["item"] == ITEM]
                assert row["waiting"] == 4 and row["away"] == 0
                await desk.send({"type": "desk.call_next"})
                paired = await desk.expect("session.paired", timeout=20)
                assert paired["ticket_number"] == told[0]["ticket_number"]
    finally:
        if proc.returncode is None:
            stop(proc)
