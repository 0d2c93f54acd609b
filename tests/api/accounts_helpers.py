"""Helpers of the account-security tests: a movable clock, sign-in calls."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from server import appkeys as K
from tests.conftest import RunningServer


@dataclass
class Clock:
    """A wall clock the test moves; starts at the real time."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_clock(running: RunningServer) -> Clock:
    clock = Clock()
    running.app[K.AUTH].clock = clock
    return clock


def address(running: RunningServer, ip: str) -> aiohttp.ClientSession:
    """An HTTP session whose connections come from another loopback address."""
    session = aiohttp.ClientSession(
        base_url=running.url,
        connector=aiohttp.TCPConnector(local_addr=(ip, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )
    running.sessions.append(session)
    return session


async def login(
    session: aiohttp.ClientSession, username: str, password: str, **extra: Any
) -> tuple[int, dict[str, Any]]:
    async with session.post(
        "/api/login", json={"username": username, "password": password, **extra}
    ) as resp:
        return resp.status, await resp.json()


async def call(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    csrf: str | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    headers = {"X-CSRF-Token": csrf or "", "Accept": "application/json"}
    async with session.request(method, path, json=body, headers=headers) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()
