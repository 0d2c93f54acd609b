"""The admin API: every field checked with a 400 that names it; edits, resets, audit."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.conftest import PASSWORD, RunningServer

GOOD = {"username": "new-one", "password": "Long-enough-pw1", "role": "supervisor"}


async def _admin(running: RunningServer) -> tuple[aiohttp.ClientSession, dict[str, str]]:
    session, csrf = await running.http("admin")
    return session, {"X-CSRF-Token": csrf or ""}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"display_name": 5}, "display_name", "type"),
        ({"display_name": ["x"]}, "display_name", "type"),
        ({"display_name": "x" * 10_000}, "display_name", "too_long"),
        ({"display_name": "名" * 65}, "display_name", "too_long"),
        ({"place": 7}, "place", "type"),
        ({"place": {"code": "QH-CG"}}, "place", "type"),
        ({"place": "NOWHERE"}, "place", "unknown"),
        ({"password": "p" * 1025}, "password", "too_long"),
        ({"password": "short"}, "password", "too_short"),
        ({"password": 12345678}, "password", "type"),
        ({"username": 42}, "username", "type"),
        ({"username": "a" * 65}, "username", "invalid"),
        ({"username": "tab\there"}, "username", "invalid"),
        ({"role": "root"}, "role", "invalid"),
        ({"role": ["admin"]}, "role", "type"),
        ({"items": "SCJG-001"}, "items", "type"),
        ({"items": [1]}, "items", "type"),
        ({"items": ["NOPE-1"]}, "items", "unknown"),
        ({"role": "reviewer"}, "items", "required"),
        ({"role": "agent"}, "place", "required"),
        ({"extra": 1}, "extra", "unknown"),
        ({"username": ""}, "username", "required"),
    ],
)
async def test_bad_fields_are_a_400_naming_the_field(
    running: RunningServer, change: dict, field: str, code: str
) -> None:
    session, headers = await _admin(running)
    async with session.post("/api/admin/users", json={**GOOD, **change}, headers=headers) as resp:
        body = await resp.json()
        assert resp.status == 400, body
    assert (body["error"], body["field"], body["code"]) == ("bad_field", field, code)
    assert body["message"].startswith(field)
    async with session.get("/api/admin/accounts") as resp:
        names = [u["username"] for u in (await resp.json())["users"]]
    assert GOOD["username"] not in names and "a" * 65 not in names


async def test_a_body_over_the_limit_is_a_413(running: RunningServer) -> None:
    session, headers = await _admin(running)
    body = {**GOOD, "display_name": "名" * 10_000}
    async with session.post("/api/admin/users", json=body, headers=headers) as resp:
        assert resp.status == 413 and (await resp.json())["error"] == "too_large"


async def test_the_longest_allowed_password_can_sign_in(running: RunningServer) -> None:
    session, headers = await _admin(running)
    password = "Pp1-" * 256
    body = {**GOOD, "username": "longpw", "password": password}
    async with session.post("/api/admin/users", json=body, headers=headers) as resp:
        assert resp.status == 201
    anon, _ = await running.http()
    async with anon.post("/api/login", json={"username": "longpw", "password": password}) as resp:
        assert resp.status == 200


async def test_edit_disable_enable_and_reset(running: RunningServer) -> None:
    session, headers = await _admin(running)
    url = "/api/admin/users/reviewer2"
    change = {"display_name": "县级审批员 刘洋", "items": ["SCJG-001"], "place": "QH-COUNTY"}
    async with session.patch(url, json=change, headers=headers) as resp:
        body = await resp.json()
        assert resp.status == 200, body
    assert body["user"]["display_name"] == "县级审批员 刘洋"
    assert body["user"]["items"] == ["SCJG-001"]
    assert sorted(body["changed"]) == ["display_name", "items"]
    for bad, field in (({"disabled": "yes"}, "disabled"), ({"display_name": ""}, "display_name")):
        async with session.patch(url, json=bad, headers=headers) as resp:
            assert resp.status == 400 and (await resp.json())["field"] == field
    async with session.patch(url, json={"role": "supervisor"}, headers=headers) as resp:
        assert (await resp.json())["user"]["role"] == "supervisor"
    async with session.patch(url, json={"disabled": True}, headers=headers) as resp:
        assert resp.status == 200
    anon, _ = await running.http()
    login = {"username": "reviewer2", "password": PASSWORD}
    async with anon.post("/api/login", json=login) as resp:
        assert resp.status == 401
    async with session.patch(url, json={"disabled": False}, headers=headers) as resp:
        assert resp.status == 200
    async with session.post(url + "/password", json={"password": "short"}, headers=headers) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == "too_short"
    async with session.post(
        url + "/password", json={"password": "A-brand-new-pw9"}, headers=headers
    ) as resp:
        assert resp.status == 200
    async with anon.post("/api/login", json=login) as resp:
        assert resp.status == 401
    login["password"] = "A-brand-new-pw9"
    async with anon.post("/api/login", json=login) as resp:
        assert resp.status == 200
        assert (await resp.json())["user"]["role"] == "supervisor"
    async with session.patch("/api/admin/users/nobody", json={}, headers=headers) as resp:
        assert resp.status == 404
    events = [e for e in await running.system_events() if e["type"].startswith("account.")]
    assert [(e["type"], e["actor"]) for e in events] == [
        ("account.updated", "admin"),
        ("account.updated", "admin"),
        ("account.disabled", "admin"),
        ("account.enabled", "admin"),
        ("account.password_reset", "admin"),
    ]
    assert events[0]["data"] == {"username": "reviewer2", "changed": ["display_name", "items"]}
    assert "A-brand-new-pw9" not in json.dumps(events)


async def test_revoking_is_audited_once(running: RunningServer) -> None:
    session, headers = await _admin(running)
    async with session.get("/api/admin/accounts") as resp:
        kiosk = (await resp.json())["kiosks"][0]
    for expected in (True, False):
        async with session.post(f"/api/admin/kiosks/{kiosk['id']}/revoke", headers=headers) as resp:
            assert resp.status == 200 and (await resp.json())["changed"] is expected
    async with session.post("/api/admin/kiosks/k-nope/revoke", headers=headers) as resp:
        assert resp.status == 404
    revoked = [e for e in await running.system_events() if e["type"] == "kiosk.revoked"]
    assert len(revoked) == 1 and revoked[0]["data"]["kiosk"] == kiosk["id"]


async def test_an_admin_cannot_lock_themselves_out(running: RunningServer) -> None:
    session, headers = await _admin(running)
    for change, field in (({"disabled": True}, "disabled"), ({"role": "supervisor"}, "role")):
        async with session.patch("/api/admin/users/admin", json=change, headers=headers) as resp:
            body = await resp.json()
            assert resp.status == 400 and (body["field"], body["code"]) == (field, "self")
    async with session.get("/api/me") as resp:
        assert (await resp.json())["user"]["role"] == "sysadmin"
