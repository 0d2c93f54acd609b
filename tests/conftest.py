"""Shared fixtures: a real server on loopback with seeded accounts."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from recording.audit import read_events, verify_chain
from server import appkeys as K
from server import eventloop
from server.accounts import AccountDB
from server.app import create_app
from server.config import Config, load_config
from signaling.client import SignalingClient

PASSWORD = "test-pass-2026"
COUNTY_ITEMS = ("SCJG-001", "RSJ-001", "YB-001")
CITY_ITEMS = ("RSJ-002", "BDC-001")


@pytest.fixture(scope="session", autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    """A non-daemon thread still running at the end would keep the test process
    (and CI) from exiting: fail loudly instead, naming it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while True:
        left = [
            t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
        ]
        if not left or time.monotonic() > deadline:
            break
        left[0].join(timeout=0.2)
    assert not left, f"threads left running: {[t.name for t in left]}"


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict:
    """Tests run on the loop the server runs on in production (uvloop), except
    the browser tests: Playwright drives a Node subprocess, and uvloop's
    loop.close() was seen to hang waiting on it."""
    if item.get_closest_marker("browser") is not None:
        return {"asyncio": asyncio.new_event_loop}
    return {"uvloop": eventloop.new_event_loop}


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run the test under the common default umask, so files come out 0644 unless
    the code under test makes them private itself."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def loose_entries(root: Path) -> list[str]:
    """Entries under root (itself included) that group or others may use:
    files must be 0600 and folders 0700; symlinks are skipped."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            continue
        wanted = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) != wanted:
            found.append(f"{path.relative_to(root)} {stat.S_IMODE(mode):o}")
    return found


def system_events(archive_root: Path) -> list[dict[str, Any]]:
    """Every event of the system audit log under archive_root, oldest day first;
    each day's hash chain must verify."""
    files = sorted((archive_root / "system").glob("*.jsonl"))
    for f in files:
        assert verify_chain(f) is None, f
    return [e for f in files for e in read_events(f)]


def make_config(data_dir: Path, **sections: dict[str, Any]) -> Config:
    # Tests sign the admin roles in without a second factor unless they ask for one.
    overrides: dict[str, dict[str, Any]] = {
        "server": {"data_dir": str(data_dir)},
        "auth": {"totp_required_roles": []},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(demo=True, environ={}, overrides=overrides)


Client = SignalingClient


@dataclass
class RunningServer:
    app: web.Application
    server: TestServer
    kiosk_tokens: dict[str, str]
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    async def http(self, username: str | None = None) -> tuple[aiohttp.ClientSession, str | None]:
        """An HTTP session, signed in as username when given; returns (session, csrf)."""
        session = aiohttp.ClientSession(
            base_url=self.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self.sessions.append(session)
        csrf = None
        if username:
            async with session.post(
                "/api/login", json={"username": username, "password": PASSWORD}
            ) as resp:
                assert resp.status == 200, await resp.text()
                csrf = (await resp.json())["csrf"]
        return session, csrf

    async def raw_get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send `GET path` byte for byte (no client-side normalisation or quoting);
        returns (status, body)."""
        host, port = self.server.host, self.server.port
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append("Connection: close")
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            async with asyncio.timeout(10):
                data = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    async def system_events(self) -> list[dict[str, Any]]:
        """The system audit log so far (appends run on the archive thread: waits for them)."""
        recorder = self.app[K.RECORDER]
        await recorder.flushed()
        return system_events(recorder.root)

    async def staff(self, username: str) -> Client:
        session, _ = await self.http(username)
        client = await Client.connect(session)
        self.clients.append(client)
        return client

    async def kiosk(self, name: str = "kiosk-1") -> Client:
        session, _ = await self.http()
        client = await Client.connect(session, token=self.kiosk_tokens[name])
        self.clients.append(client)
        return client

    async def pair(
        self, kiosk: str = "kiosk-1", reviewer: str = "reviewer", item: str = "SCJG-001"
    ) -> tuple[Client, Client]:
        """A kiosk joins the item's queue and the reviewer calls it: both paired."""
        kiosk_client = await self.kiosk(kiosk)
        await kiosk_client.send(
            {"type": "queue.join", "item": item, "recording_notice_shown": True}
        )
        await kiosk_client.expect("queue.status")
        desk = await self.staff(reviewer)
        await desk.send({"type": "desk.call_next"})
        await kiosk_client.expect("session.paired")
        await desk.expect("session.paired")
        return kiosk_client, desk

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        for session in self.sessions:
            await session.close()
        await self.server.close()


def seed_accounts(db: AccountDB) -> dict[str, str]:
    db.add_user("reviewer", PASSWORD, "reviewer", items=COUNTY_ITEMS, place="QH-COUNTY")
    db.add_user("reviewer2", PASSWORD, "reviewer", items=COUNTY_ITEMS, place="QH-COUNTY")
    db.add_user("city", PASSWORD, "reviewer", items=CITY_ITEMS, place="JZ-CITY")
    db.add_user("admin", PASSWORD, "sysadmin")
    db.add_user("sysadmin2", PASSWORD, "sysadmin")
    db.add_user("secadmin", PASSWORD, "secadmin")
    db.add_user("auditadmin", PASSWORD, "auditadmin")
    db.add_user("supervisor", PASSWORD, "supervisor")
    db.add_user("agent", PASSWORD, "agent", place="QH-LL-DC")
    # 乡村随身办: a second village point of the same township, and its township's admin.
    db.add_user("agent-xc", PASSWORD, "agent", place="QH-LL-XC")
    db.add_user("township", PASSWORD, "township_admin", place="QH-LL")
    tokens = {}
    for n, place in enumerate(("QH-CG", "QH-LL", "QH-CG", "QH-LL"), start=1):
        _, tokens[f"kiosk-{n}"] = db.add_kiosk(f"kiosk {n}", place)
    return tokens


_TEMPLATE: tuple[Path, dict[str, str]] | None = None


def seeded_accounts(tmp_root: Path) -> tuple[Path, dict[str, str]]:
    """An accounts database seeded once per run (Argon2 hashing is slow by design)."""
    global _TEMPLATE
    if _TEMPLATE is None or not _TEMPLATE[0].exists():
        path = tmp_root / "accounts-template.sqlite3"
        db = AccountDB(path)
        tokens = seed_accounts(db)
        db.close()
        _TEMPLATE = (path, tokens)
    return _TEMPLATE


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return seeded_accounts(tmp_path_factory.mktemp("accounts"))


async def start_server(
    cfg: Config, accounts: tuple[Path, dict[str, str]], *, _copy: bool = True, **kwargs: Any
) -> RunningServer:
    """`_copy=False`: start on the data dir as it is (no seeded register copied in)."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    if _copy:
        shutil.copyfile(accounts[0], cfg.data_dir / "register.sqlite3")
    tokens = dict(accounts[1])
    app = create_app(cfg, **kwargs)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return RunningServer(app=app, server=server, kiosk_tokens=tokens)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "data", queue={"grace_seconds": 60})


@pytest.fixture
async def running(
    config: Config, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    srv = await start_server(config, accounts_template)
    try:
        yield srv
    finally:
        await srv.close()
