"""A real redis-server run with the repository's deploy/redis/redis.conf, its
port, directory and log overridden on the command line (as an operator would),
for the tests that stop and restart Redis under a running server."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from server import CONFIG_DIR

REDIS_CONF = CONFIG_DIR.parent / "deploy" / "redis" / "redis.conf"


def start_redis(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """redis-server with the repo's config on 127.0.0.1:port in workdir; returns once
    it answers (it has loaded its AOF by then: Redis refuses commands while loading)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found on PATH (install the redis-server package)")
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "redis.log"
    cmd = [binary, str(REDIS_CONF), "--port", str(port), "--bind", "127.0.0.1"]
    cmd += ["--dir", str(workdir), "--logfile", str(log), "--supervised", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        for _ in range(200):  # bounded: about 10 s
            if proc.poll() is not None:
                text = log.read_text() if log.exists() else ""
                pytest.fail(f"redis-server exited early ({proc.returncode}):\n{text}")
            try:
                if client.ping():
                    return proc
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)  # retry interval of the poll, not synchronisation
        proc.kill()
        pytest.fail(f"redis-server did not answer on port {port}:\n{log.read_text()}")
    finally:
        client.close()
