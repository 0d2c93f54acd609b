"""Two real server processes sharing PROMETHEUS_MULTIPROC_DIR: either one's /metrics
shows both, told apart by the `process` label; a killed process's live gauges
leave the scrape, its counters stay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from signaling.client import SignalingClient
from tests.api.serve_proc import serve
from tests.metrics_text import matching, value

CLI = (sys.executable, "-m", "server.cli")


def _kiosk_token(data_dir: Path) -> str:
    done = subprocess.run(
        [*CLI, "kiosk", "add", "城关镇 1 号窗口", "--place", "QH-CG", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def _scrape(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


async def test_every_process_of_the_machine_in_one_scrape(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    token = _kiosk_token(tmp_path / "b")
    with (
        serve(tmp_path / "a", env={**env, "RW_SERVER__PROCESS_ID": "node-a"}) as a,
        serve(tmp_path / "b", env={**env, "RW_SERVER__PROCESS_ID": "node-b"}) as b,
    ):
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.get(f"http://127.0.0.1:{b.port}/healthz") as resp:
                    assert resp.status == 200
            kiosk_http = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{b.port}")
            kiosk = await SignalingClient.connect(kiosk_http, token=token)
            try:
                text = await _scrape(http, a.port)
                healthz = {"route": "/healthz", "status": "200"}
                assert value(text, "rw_http_requests_total", process="node-b", **healthz) == 3
                assert not matching(text, "rw_http_requests_total", process="node-a", **healthz)
                assert value(text, "rw_clients_connected", role="kiosk", process="node-b") == 1
                for node in ("node-a", "node-b"):  # both processes' session gauges
                    assert value(text, "rw_sessions", state="live", process=node) == 0
                # The scrape through B says the same of B.
                again = await _scrape(http, b.port)
                assert value(again, "rw_clients_connected", role="kiosk", process="node-b") == 1
                assert not any("pid" in s.labels for s in matching(text, "rw_sessions"))
            finally:
                await kiosk.close()
                await kiosk_http.close()

            os.kill(b.proc.pid, signal.SIGKILL)
            b.proc.wait(timeout=10)
            text = await _scrape(http, a.port)
            assert not matching(text, "rw_clients_connected", process="node-b")
            assert not matching(text, "rw_sessions", process="node-b")
            assert value(text, "rw_http_requests_total", process="node-b", **healthz) == 3
            assert value(text, "rw_sessions", state="live", process="node-a") == 0
