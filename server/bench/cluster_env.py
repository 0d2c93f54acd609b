"""Several real server processes on one machine: a redis-server in a temp dir, a
throwaway PostgreSQL database, and `remote-window serve --redis` children, each
on its own data dir and port. Used by `remote-window bench --processes N` and by
tests/cluster.

PostgreSQL is the one at 127.0.0.1:5432 (user postgres, trust auth on
loopback), as for the register's contract tests.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from server.accounts import AccountDB
from server.register.db import Register

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SECRET = "a-long-random-cluster-secret-0123456789"
PASSWORD = "cluster-password-1"
ITEM = "SCJG-001"


def free_port() -> int:
    """A TCP port below the ephemeral range (see tests/ports.py for why)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _wait(check: Any, what: str, within: float = 15.0) -> None:
    """Poll `check()` until true (a bounded wait for a child to come up)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)  # poll interval of a start-up wait, not synchronisation
    raise RuntimeError(f"{what} did not come up within {within:.0f} s")


@contextlib.contextmanager
def redis_server(workdir: Path, *, appendonly: bool = False) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found on PATH")
    port = free_port()
    log = workdir / "redis.log"
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)]
    cmd += ["--appendonly", "yes" if appendonly else "no", "--logfile", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited: {log.read_text(errors='replace')}")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait(up, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        _stop(proc)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database `rw_cluster_<random>`, dropped at the end; yields its URL."""
    name = f"rw_cluster_{secrets.token_hex(6)}"
    admin = {**PG, "dbname": "postgres", "autocommit": True, "connect_timeout": 5}
    with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Accounts:
    reviewers: list[str]
    kiosks: list[str]  # device tokens
    password: str = PASSWORD
    supervisors: list[str] = field(default_factory=list)


def seed(database_url: str, reviewers: int, kiosks: int, supervisors: int = 0) -> Accounts:
    """Accounts in the shared register (every process reads them there)."""
    register = Register(database_url)
    try:
        register.prepare()
        db = AccountDB(register)
        names, tokens = [], []
        for i in range(reviewers):
            name = f"cl-r{i}-{secrets.token_hex(2)}"
            db.add_user(name, PASSWORD, "reviewer", items=[ITEM], place="QH-COUNTY")
            names.append(name)
        for i in range(kiosks):
            _, token = db.add_kiosk(f"cluster kiosk {i}", "QH-CG")
            tokens.append(token)
        watchers = []
        for i in range(supervisors):
            name = f"cl-s{i}-{secrets.token_hex(2)}"
            db.add_user(name, PASSWORD, "supervisor")
            watchers.append(name)
        return Accounts(names, tokens, supervisors=watchers)
    finally:
        register.close()


@dataclass
class Node:
    """One `remote-window serve` child."""

    name: str
    data_dir: Path
    port: int
    redis_url: str
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def start(self) -> Node:
        env = {
            **os.environ,
            "RW_SERVER__SECRET": SECRET,
            "RW_DATABASE__URL": self.database_url,
            "RW_LOGGING__LEVEL": "INFO",
            **self.env,
        }
        cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir), "--redis", self.redis_url]
        with open(self.log, "a") as stderr:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the banner (or the exit)
        if not line.startswith("listening on"):
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-4000:]}")
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._close_pipe()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _stop(self.proc)
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


def nodes(
    root: Path, count: int, redis_url: str, database_url: str, env: dict[str, str] | None = None
) -> list[Node]:
    """`count` nodes (not started), each with its own data dir under `root`."""
    out = []
    for i in range(count):
        name = f"node-{chr(ord('a') + i)}"
        out.append(Node(name, root / name, free_port(), redis_url, database_url, dict(env or {})))
    return out


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
