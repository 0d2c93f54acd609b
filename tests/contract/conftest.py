"""Fixtures running every contract test against MemoryStore and RedisStore.

`redis_url` starts a real redis-server once per session; `store` yields a
fresh, started store of each kind (Redis: unique key prefix on a flushed db).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from server.store import MemoryStore, Store
from server.store.redis_store import RedisStore
from tests.ports import free_port
from tests.server_process import stop

# "journal": the memory store writing its queue journal, as the server runs it.
BACKENDS = ["memory", "journal", "redis"]
StoreFactory = Callable[[], Awaitable[Store]]


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        for _ in range(200):  # bounded: about 10 s
            if proc.poll() is not None:
                pytest.fail(f"redis-server exited early ({proc.returncode}):\n{log.read_text()}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)  # retry interval of the poll, not synchronisation
        pytest.fail(f"redis-server did not answer on port {port}:\n{log.read_text()}")
    finally:
        client.close()


@contextlib.contextmanager
def spawn_redis(workdir: Path) -> Iterator[str]:
    """Run a throwaway redis-server in workdir; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server not found on PATH: the Redis contract tests need it "
            "(install the redis-server package; CI does)"
        )
    log = workdir / "redis.log"
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    cmd += ["--appendonly", "no", "--dir", str(workdir), "--logfile", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(proc, port, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with spawn_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


def flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


def unique_prefix() -> str:
    return f"rwtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def store_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Makes started stores of the current backend; all share one Redis prefix,
    like several server processes of one deployment.  Closes them at the end."""
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    if url:
        flush(url)
    prefix = unique_prefix()
    made: list[Store] = []

    async def make() -> Store:
        journal = tmp_path / f"store{len(made)}" / "queue.journal"
        store: Store = (
            RedisStore(url, prefix=prefix)
            if url
            else MemoryStore(journal if backend == "journal" else None)
        )
        made.append(store)
        await store.start()
        return store

    try:
        yield make
    finally:
        for store in made:
            await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    return await store_factory()


@pytest.fixture(scope="session")
def redis_spawner() -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """spawn_redis, for tests that need a server of their own to stop."""
    return spawn_redis


@pytest.fixture
def dead_redis_url() -> str:
    """A URL where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


from tests.contract.case_helpers import cases  # noqa: E402, F401
from tests.contract.register_db import register, register_url  # noqa: E402, F401
