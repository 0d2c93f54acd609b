"""Sign-in: cookies, lockout after five failures, idle expiry, logs."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, RunningServer, make_config, start_server


async def test_login_sets_a_strict_httponly_cookie(running: RunningServer) -> None:
    session, _ = await running.http()
    async with session.post(
        "/api/login", json={"username": "reviewer", "password": PASSWORD}
    ) as resp:
        assert resp.status == 200
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http in tests; server.tls adds it
    async with session.get("/api/me") as resp:
        assert (await resp.json())["user"]["role"] == "reviewer"


async def test_five_failures_lock_the_account(
    running: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    session, _ = await running.http()
    statuses = []
    for _ in range(5):
        async with session.post(
            "/api/login", json={"username": "reviewer", "password": "wrong-password"}
        ) as resp:
            statuses.append(resp.status)
    assert statuses == [401, 401, 401, 401, 423]
    async with session.post(
        "/api/login", json={"username": "reviewer", "password": PASSWORD}
    ) as resp:
        assert resp.status == 423 and int(resp.headers["Retry-After"]) > 0
    assert "wrong-password" not in caplog.text and PASSWORD not in caplog.text


async def test_idle_session_expires(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    idle = 0.8
    cfg = make_config(tmp_path / "d", auth={"session_idle_minutes": idle / 60})
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http("supervisor")
        signed_in = time.monotonic()
        # Activity keeps it alive past the idle time...
        while time.monotonic() - signed_in < idle * 1.5:
            async with session.get("/api/me") as resp:
                assert resp.status == 200
        # ...and without activity it lapses.
        last = time.monotonic()
        while True:
            async with session.get("/api/me") as resp:
                if resp.status == 401:
                    break
            assert time.monotonic() - last < idle + 5, "session never expired"
            await asyncio.sleep(idle)  # idle on purpose: inactivity is what is tested
    finally:
        await srv.close()


async def test_bad_login_bodies(running: RunningServer) -> None:
    session, _ = await running.http()
    for body in (b"not json", b"[]", b'{"username": 1, "password": "x"}'):
        async with session.post(
            "/api/login", data=body, headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 400
    async with session.post(
        "/api/login",
        json={"username": "reviewer", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    ) as resp:
        assert resp.status == 403
