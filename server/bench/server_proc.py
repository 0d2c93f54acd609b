"""The server process a benchmark measures: the real app, seeded accounts.

Run as `python -m server.bench.server_proc --mode passthrough|naive ...`.
It writes the kiosk tokens to `<data-dir>/bench-accounts.json` and prints
`READY` once it listens, so the runner can measure only this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.app import create_app
from server.config import Config, load_config
from server.eventloop import new_event_loop

BENCH_ITEM = "SCJG-001"
BENCH_PASSWORD = "bench-password-1"


async def spawn(
    data_dir: Path,
    port: int,
    sessions: int,
    mode: str = "passthrough",
    record_format: str = "webm",
) -> asyncio.subprocess.Process:
    """Start this module as a child process; returns once it listens."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.server_proc",
        *("--mode", mode, "--port", str(port), "--data-dir", str(data_dir)),
        *("--sessions", str(sessions), "--record-format", record_format),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while (line := await proc.stdout.readline()) != b"READY\n":
            if not line:
                raise RuntimeError(f"server ({mode}) exited before it was ready")
    return proc


def seeded(data_dir: Path) -> dict[str, Any]:
    """The accounts `seed` wrote at the latest start: reviewers, password, kiosk tokens."""
    return json.loads((data_dir / "bench-accounts.json").read_text())


def seed(app: web.Application, count: int, path: Path) -> None:
    db = app[K.ACCOUNTS]
    reviewers, kiosks = [], []
    for i in range(count):
        name = f"bench-r{i}-{secrets.token_hex(2)}"
        db.add_user(name, BENCH_PASSWORD, "reviewer", items=[BENCH_ITEM], place="QH-COUNTY")
        reviewers.append(name)
        _, token = db.add_kiosk(f"bench kiosk {i}", "QH-CG")
        kiosks.append(token)
    path.write_text(
        json.dumps({"reviewers": reviewers, "kiosks": kiosks, "password": BENCH_PASSWORD})
    )


def bench_config(data_dir: Path, port: int) -> Config:
    """The demo config every bench server runs: quiet logs, a signaling rate for load."""
    return load_config(
        demo=True,
        environ={},
        overrides={
            "server": {"data_dir": str(data_dir), "port": port},
            "signaling": {"rate_burst": 200, "rate_per_second": 100},
            "logging": {"level": "WARNING"},
        },
    )


def run_until_stopped(app: web.Application, port: int) -> None:
    """Serve `app` on localhost; prints `READY` once it listens (what `spawn` waits for)."""

    def ready(_message: str) -> None:
        print("READY", flush=True)  # called by aiohttp once the site listens

    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        print=ready,
        access_log=None,
        loop=new_event_loop(),  # the same loop as `serve`, for both paths
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("passthrough", "naive"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--record-format", choices=("webm", "mp4"), default="webm")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    data_dir = Path(args.data_dir)
    app = create_app(bench_config(data_dir, args.port))
    if args.mode == "naive":
        from server.bench.naive_hub import NaiveMediaHub

        app[K.MEDIA] = NaiveMediaHub(
            record_dir=data_dir / "naive-recordings", record_format=args.record_format
        )
        app[K.SESSIONS].media = app[K.MEDIA]
    seed(app, args.sessions, data_dir / "bench-accounts.json")

    run_until_stopped(app, args.port)


if __name__ == "__main__":
    main()
