"""A real server in a child process (the benchmark's server entry point), for
tests that kill it with SIGKILL and start it again on the same data dir."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any


async def start_server_process(
    data_dir: Path, port: int, sessions: int = 1
) -> asyncio.subprocess.Process:
    """Start the server with `sessions` kiosk/reviewer pairs; returns once it listens."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.server_proc",
        "--mode",
        "passthrough",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--sessions",
        str(sessions),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while (line := await proc.stdout.readline()) != b"READY\n":
            assert line, "server exited before it was ready"
    return proc


def seeded_accounts(data_dir: Path) -> dict[str, Any]:
    """The kiosk tokens and reviewer accounts of the latest start."""
    return json.loads((data_dir / "bench-accounts.json").read_text())
