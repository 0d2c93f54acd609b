"""An open WebSocket ends with its credentials: sign-out, expiry, disabling, revocation."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from server import appkeys as K
from server.auth import COOKIE
from tests.conftest import PASSWORD, RunningServer, make_config, start_server

CLOSE_TIMEOUT = 10.0


async def _open(
    session: aiohttp.ClientSession, token: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"/ws?token={token}" if token else "/ws")
    welcome = await ws.receive_json(timeout=CLOSE_TIMEOUT)
    assert welcome["type"] == "welcome"
    return ws


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[int, str, list[dict]]:
    """Read until the server closes: (code, reason, messages received before)."""

    async def read() -> tuple[int, str, list[dict]]:
        seen = []
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.CLOSE:
                return msg.data, msg.extra or "", seen
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return ws.close_code or 0, "", seen
            if msg.type == aiohttp.WSMsgType.TEXT:
                seen.append(msg.json())

    return await asyncio.wait_for(read(), CLOSE_TIMEOUT)


async def _until(ws: aiohttp.ClientWebSocketResponse, mtype: str) -> dict:
    while True:
        msg = await ws.receive_json(timeout=CLOSE_TIMEOUT)
        if msg["type"] == mtype:
            return msg


def _sid(session: aiohttp.ClientSession) -> str:
    return next(c.value for c in session.cookie_jar if c.key == COOKIE)


async def test_sign_out_closes_the_sockets_of_that_session(running: RunningServer) -> None:
    session, csrf = await running.http("reviewer")
    ws = await _open(session)
    other_session, _ = await running.http("reviewer")  # the same person elsewhere
    other = await _open(other_session)
    async with session.post("/api/logout", headers={"X-CSRF-Token": csrf or ""}) as resp:
        assert resp.status == 200
    code, reason, _ = await _closed(ws)
    assert (code, reason) == (4401, "signed_out")
    await other.send_json({"type": "ping"})
    await _until(other, "pong")


async def test_a_lapsed_session_refuses_the_next_message(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    # No sweep during the test: the check on the inbound message is what is tested.
    cfg = make_config(
        tmp_path / "d",
        auth={"session_idle_minutes": 0.5 / 60, "socket_check_seconds": 3600},
        signaling={"rate_per_second": 100_000, "rate_burst": 100_000},
    )
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http("reviewer")
        ws = await _open(session)
        store, key = srv.app[K.STORE], f"websess:{_sid(session)}"
        # Pings do not keep a session alive: ping until it has lapsed. The ping that
        # arrives after the lapse is itself refused, or else the next message is.
        while True:
            await ws.send_json({"type": "ping"})
            msg = await ws.receive(timeout=CLOSE_TIMEOUT)
            while msg.type == aiohttp.WSMsgType.TEXT and msg.json()["type"] == "desk.queues":
                msg = await ws.receive(timeout=CLOSE_TIMEOUT)
            if msg.type != aiohttp.WSMsgType.TEXT:
                assert (msg.type, msg.data, msg.extra) == (
                    aiohttp.WSMsgType.CLOSE,
                    4401,
                    "session_expired",
                )
                break
            assert msg.json()["type"] == "pong"
            if await store.kv_get(key) is None:
                await ws.send_json({"type": "desk.call_next"})
                code, reason, seen = await _closed(ws)
                assert (code, reason) == (4401, "session_expired")
                assert not any(m.get("ref") == "desk.call_next" for m in seen)
                break
    finally:
        await srv.close()


async def test_an_idle_socket_is_closed_when_its_session_lapses(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(
        tmp_path / "d", auth={"session_idle_minutes": 0.5 / 60, "socket_check_seconds": 0.2}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http("supervisor")
        ws = await _open(session)
        code, reason, _ = await _closed(ws)  # nothing sent: the sweep finds it
        assert (code, reason) == (4401, "session_expired")
    finally:
        await srv.close()


async def test_disabling_an_account_closes_its_sockets(running: RunningServer) -> None:
    session, _ = await running.http("reviewer2")
    ws = await _open(session)
    admin, csrf = await running.http("admin")
    async with admin.patch(
        "/api/admin/users/reviewer2", json={"disabled": True}, headers={"X-CSRF-Token": csrf or ""}
    ) as resp:
        assert resp.status == 200, await resp.text()
    code, reason, _ = await _closed(ws)
    assert (code, reason) == (4401, "account_disabled")
    async with session.get("/api/me") as resp:
        assert resp.status == 401
    status, _ = await _login(running, "reviewer2")
    assert status == 401


async def _login(running: RunningServer, username: str) -> tuple[int, dict]:
    session, _ = await running.http()
    async with session.post(
        "/api/login", json={"username": username, "password": PASSWORD}
    ) as resp:
        return resp.status, await resp.json()


async def test_revoking_a_kiosk_closes_its_socket_at_once(running: RunningServer) -> None:
    token = running.kiosk_tokens["kiosk-2"]
    session, _ = await running.http()
    ws = await _open(session, token)
    admin, csrf = await running.http("admin")
    async with admin.get("/api/admin/accounts") as resp:
        kiosks = (await resp.json())["kiosks"]
    kiosk = next(k for k in kiosks if k["name"] == "kiosk 2")
    assert kiosk["revoked"] is False
    async with admin.post(
        f"/api/admin/kiosks/{kiosk['id']}/revoke", headers={"X-CSRF-Token": csrf or ""}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["kiosk"]["revoked"] is True
    code, reason, _ = await _closed(ws)
    assert (code, reason) == (4401, "kiosk_revoked")
    try:
        await session.ws_connect(f"/ws?token={token}")
        raise AssertionError("a revoked token opened a socket")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    async with session.get("/api/me", headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 401


async def test_a_kiosk_revoked_from_the_command_line_is_closed_too(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(tmp_path / "d", auth={"socket_check_seconds": 0.2})
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http()
        ws = await _open(session, srv.kiosk_tokens["kiosk-3"])
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "server.cli", "kiosk", "revoke", "kiosk 3"),
            *("--data-dir", str(cfg.data_dir)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stderr.decode()
        code, reason, _ = await _closed(ws)
        assert (code, reason) == (4401, "kiosk_revoked")
    finally:
        await srv.close()


async def test_a_reviewer_in_a_video_session_is_not_idle(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(
        tmp_path / "d", auth={"session_idle_minutes": 1 / 60, "socket_check_seconds": 0.2}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        _kiosk, desk = await srv.pair()
        reviewer_sid = _sid(desk.http)
        # Signed in after the reviewer, idle, not in a session: its end shows that
        # the reviewer's idle time has run out too.
        session, _ = await srv.http("supervisor")
        ws = await _open(session)
        assert (await _closed(ws))[:2] == (4401, "session_expired")
        assert await srv.app[K.AUTH].session_alive(reviewer_sid)
        await desk.send({"type": "ping"})
        await desk.expect("pong")
    finally:
        await srv.close()


async def test_a_password_reset_ends_earlier_sign_ins(running: RunningServer) -> None:
    session, _ = await running.http("city")
    ws = await _open(session)
    admin, csrf = await running.http("admin")
    async with admin.post(
        "/api/admin/users/city/password",
        json={"password": "A-brand-new-pw9"},
        headers={"X-CSRF-Token": csrf or ""},
    ) as resp:
        assert resp.status == 200
    code, reason, _ = await _closed(ws)
    assert (code, reason) == (4401, "password_reset")
    async with session.get("/api/me") as resp:
        assert resp.status == 401
    async with admin.get("/api/me") as resp:
        assert resp.status == 200  # the admin's own sign-in is untouched


async def test_kiosk_tokens_can_be_given_a_lifetime(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    lifetime_s = 3
    cfg = make_config(
        tmp_path / "d", auth={"socket_check_seconds": 0.2, "kiosk_token_days": lifetime_s / 86400}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        session, _ = await srv.http()
        kiosk, token = srv.app[K.ACCOUNTS].add_kiosk("新终端", "QH-CG")
        ws = await _open(session, token)
        code, reason, _ = await _closed(ws)  # the sweep finds it past its lifetime
        assert (code, reason) == (4401, "kiosk_expired")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"/ws?token={token}")
        assert refused.value.status == 401
        admin, _ = await srv.http("admin")
        async with admin.get("/api/admin/accounts") as resp:
            listed = {k["id"]: k for k in (await resp.json())["kiosks"]}
        assert listed[kiosk.id]["expired"] is True
    finally:
        await srv.close()
