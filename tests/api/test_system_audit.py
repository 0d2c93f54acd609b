"""Staff actions outside sessions land in the chained daily system log."""

from __future__ import annotations

import json

from server import appkeys as K
from tests.conftest import PASSWORD, RunningServer


async def test_sign_ins_and_configuration_are_audited(running: RunningServer) -> None:
    session, _ = await running.http()
    async with session.post("/api/login", json={"username": "admin", "password": "nope-nope"}):
        pass
    _, csrf = await running.http("admin")
    admin_session = running.sessions[-1]
    body = {"username": "auditor", "password": "Long-enough-pw1", "role": "supervisor"}
    async with admin_session.post(
        "/api/admin/users", json=body, headers={"X-CSRF-Token": csrf or ""}
    ) as resp:
        assert resp.status == 201
    events = await running.system_events()
    types = [e["type"] for e in events]
    assert types[0] == "server.started"
    assert {"auth.failed", "auth.signed_in", "account.created"} <= set(types)
    started = events[0]["data"]
    assert started["server"]["secret"].startswith("sha256:")
    text = json.dumps(events)
    for secret in (running.app[K.CONFIG].server.secret, PASSWORD, "nope-nope", "Long-enough-pw1"):
        assert secret not in text
    created = next(e for e in events if e["type"] == "account.created")
    assert created["actor"] == "admin" and created["data"]["username"] == "auditor"
