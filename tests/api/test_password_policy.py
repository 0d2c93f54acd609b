"""Password policy (length, classes, not the username, not the last 5) and the
forced change after an admin sets a password: until then the session reaches
nothing but its own account routes (the whole route table is walked)."""

from __future__ import annotations

import itertools
import json
import logging
import re

import aiohttp
import pytest

from server.auth import allowed_roles, is_restricted_ok
from tests.api.accounts_helpers import call, login
from tests.conftest import PASSWORD, RunningServer

FIRST = "Temp-pass-0001"


async def _new_account(running: RunningServer, username: str = "newbie") -> None:
    admin, csrf = await running.http("admin")
    body = {"username": username, "password": FIRST, "role": "supervisor"}
    status, reply = await call(admin, "POST", "/api/admin/users", csrf, body)
    assert status == 201, reply


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short-pw1", "too_short"),
        ("alllowercaseletters", "classes"),
        ("lowercase-and-dash", "classes"),
        ("Newbie-2026-pass", "username"),
        ("x" * 1025, "too_long"),
    ],
)
async def test_weak_passwords_are_refused_naming_the_rule(
    running: RunningServer, password: str, code: str
) -> None:
    admin, csrf = await running.http("admin")
    body = {"username": "newbie", "password": password, "role": "supervisor"}
    status, reply = await call(admin, "POST", "/api/admin/users", csrf, body)
    assert status == 400 and (reply["field"], reply["code"]) == ("password", code), reply
    status, _ = await call(admin, "GET", "/api/admin/accounts")
    # Nothing written.
    _, listing = await call(admin, "GET", "/api/admin/accounts")
    assert "newbie" not in {u["username"] for u in listing["users"]}


async def test_a_new_account_must_change_its_password_before_anything_else(
    running: RunningServer,
) -> None:
    await _new_account(running)
    session, _ = await running.http()
    status, body = await login(session, "newbie", FIRST, next="/cases")
    assert status == 200 and body["next"] == "/account"
    assert body["user"]["restricted"] == "password"
    csrf = body["csrf"]
    status, reply = await call(session, "GET", "/api/register/cases")
    assert (status, reply) == (403, {"error": "restricted", "restricted": "password"})
    async with session.get("/cases", headers={"Accept": "text/html"}, allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/account"
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await session.ws_connect("/ws")
    async with session.get("/account") as resp:
        assert resp.status == 200 and 'data-restricted="password"' in await resp.text()
    change = {"old_password": "not-it", "new_password": "Brand-new-pass-1"}
    status, reply = await call(session, "POST", "/api/account/password", csrf, change)
    assert (status, reply["field"], reply["code"]) == (400, "old_password", "wrong")
    change = {"old_password": FIRST, "new_password": FIRST}
    status, reply = await call(session, "POST", "/api/account/password", csrf, change)
    assert (status, reply["code"]) == (400, "reused")
    change["new_password"] = "Brand-new-pass-1"
    assert (await call(session, "POST", "/api/account/password", csrf, change))[0] == 200
    # The same session goes on, now free.
    status, me = await call(session, "GET", "/api/me")
    assert status == 200 and "restricted" not in me["user"]
    assert (await call(session, "GET", "/api/register/cases"))[0] == 200


async def test_none_of_the_last_five_passwords_comes_back(running: RunningServer) -> None:
    session, csrf = await running.http("supervisor")
    history = [PASSWORD] + [f"Rotation-pass-{n}" for n in range(1, 6)]
    for old, new in itertools.pairwise(history):
        change = {"old_password": old, "new_password": new}
        status, reply = await call(session, "POST", "/api/account/password", csrf, change)
        assert status == 200, reply
    current = history[-1]
    for reused in history[-5:]:
        change = {"old_password": current, "new_password": reused}
        status, reply = await call(session, "POST", "/api/account/password", csrf, change)
        assert (status, reply.get("code")) == (400, "reused"), reused
    # The sixth back is allowed again.
    change = {"old_password": current, "new_password": history[0]}
    assert (await call(session, "POST", "/api/account/password", csrf, change))[0] == 200


async def test_an_admin_reset_forces_a_change_and_ends_the_old_sign_ins(
    running: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    old_session, _ = await running.http("agent")
    admin, csrf = await running.http("admin")
    reset = {"password": "Reset-by-admin-7"}
    assert (await call(admin, "POST", "/api/admin/users/agent/password", csrf, reset))[0] == 200
    assert (await call(old_session, "GET", "/api/me"))[0] == 401
    session, _ = await running.http()
    status, body = await login(session, "agent", "Reset-by-admin-7")
    assert status == 200 and body["user"]["restricted"] == "password"
    change = {"old_password": "Reset-by-admin-7", "new_password": "Own-pass-for-me-8"}
    assert (await call(session, "POST", "/api/account/password", body["csrf"], change))[0] == 200
    events = await running.system_events()
    kinds = [(e["type"], e["actor"]) for e in events if e["type"].startswith("account.")]
    assert ("account.password_reset", "admin") in kinds
    assert ("account.password_changed", "agent") in kinds
    dump = json.dumps(events) + caplog.text
    for secret in ("Reset-by-admin-7", "Own-pass-for-me-8", PASSWORD):
        assert secret not in dump


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


async def test_the_route_walk_refuses_a_restricted_session_everywhere_else(
    running: RunningServer,
) -> None:
    await _new_account(running, "walker")
    session, _ = await running.http()
    _status, body = await login(session, "walker", FIRST)
    headers = {"X-CSRF-Token": body["csrf"], "Accept": "application/json"}
    open_to_it = 0
    for route in running.app.router.routes():
        roles = allowed_roles(route.handler)
        if route.method == "HEAD" or route.resource is None or roles is None:
            continue
        if "public" in roles or "supervisor" not in roles:
            continue  # anonymous routes, and those its role never reaches (the walk)
        path = _concrete(route.resource.canonical)
        if path in ("/api/logout", "/api/logout/everywhere"):
            continue
        async with session.request(
            route.method, path, headers=headers, allow_redirects=False
        ) as resp:
            if is_restricted_ok(route.handler):
                assert resp.status != 403, (route.method, path)
                open_to_it += 1
            else:
                assert resp.status == 403, (route.method, path, resp.status)
                assert (await resp.json())["error"] == "restricted"
    assert open_to_it >= 5
