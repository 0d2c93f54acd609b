"""Lockout after failed sign-ins (等保 2.0 level 3, 登录失败处理): per account,
from every address, whatever the password; unknown usernames answered alike;
each refusal audited; a system admin unlocks. Lock times use the injected clock."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.api.accounts_helpers import address, call, login, use_clock
from tests.conftest import PASSWORD, RunningServer, make_config, start_server, system_events


async def _fail(session, username: str, times: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [(await login(session, username, "Wrong-password-1"))[0] for _ in range(times)]


async def test_a_locked_account_stays_locked_from_every_address_whatever_the_password(
    running: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_clock(running)
    attacker = address(running, "127.0.0.1")
    assert await _fail(attacker, "reviewer", 5) == [401, 401, 401, 401, 423]
    owner = address(running, "127.0.0.2")
    status, body = await login(owner, "reviewer", PASSWORD)
    assert status == 423 and body["error"] == "locked"
    assert 1790 <= body["retry_after_s"] <= 1800  # 30 minutes by default
    status, _ = await login(attacker, "reviewer", "Wrong-password-1")
    assert status == 423
    events = await running.system_events()
    locked = [e for e in events if e["type"] == "auth.locked"]
    refused = [e for e in events if e["type"] == "auth.refused_locked"]
    assert [e["actor"] for e in locked] == ["reviewer"]
    assert [(e["actor"], e["data"]["ip"]) for e in refused] == [
        ("reviewer", "127.0.0.2"),
        ("reviewer", "127.0.0.1"),
    ]
    assert PASSWORD not in caplog.text and "Wrong-password-1" not in caplog.text
    assert PASSWORD not in json.dumps(events)


async def test_unknown_usernames_get_the_same_answers(running: RunningServer) -> None:
    use_clock(running)
    answers = {}
    for name in ("supervisor", "no-such-person"):
        session = address(running, "127.0.0.5" if name == "supervisor" else "127.0.0.6")
        seq = []
        for _ in range(6):
            status, body = await login(session, name, "Wrong-password-1")
            seq.append((status, sorted(body), body.get("error")))
        answers[name] = seq
    assert answers["supervisor"] == answers["no-such-person"]
    assert answers["supervisor"][-1][0] == 423


async def test_the_lock_ends_after_its_time_and_failures_count_in_a_window(
    running: RunningServer,
) -> None:
    clock = use_clock(running)
    session, _ = await running.http()
    assert await _fail(session, "city", 5) == [401] * 4 + [423]
    clock.advance(29 * 60)
    assert (await login(session, "city", PASSWORD))[0] == 423
    clock.advance(2 * 60)
    assert (await login(session, "city", PASSWORD))[0] == 200
    # Four failures, then 16 minutes: the window (15) starts again.
    assert await _fail(session, "city", 4) == [401] * 4
    clock.advance(16 * 60)
    assert await _fail(session, "city", 4) == [401] * 4
    assert await _fail(session, "city", 1) == [423]


async def test_a_system_admin_unlocks_and_it_is_audited(running: RunningServer) -> None:
    use_clock(running)
    guesser, _ = await running.http()
    await _fail(guesser, "reviewer2", 5)
    admin, csrf = await running.http("admin")
    status, body = await call(admin, "GET", "/api/admin/accounts")
    listed = {u["username"]: u for u in body["users"]}
    assert listed["reviewer2"]["locked_s"] > 0 and listed["reviewer"]["locked_s"] is None
    secadmin, sec_csrf = await running.http("secadmin")
    assert (await call(secadmin, "POST", "/api/admin/users/reviewer2/unlock", sec_csrf))[0] == 403
    status, body = await call(admin, "POST", "/api/admin/users/reviewer2/unlock", csrf)
    assert (status, body) == (200, {"ok": True, "was_locked": True})
    assert (await login(guesser, "reviewer2", PASSWORD))[0] == 200
    assert (await call(admin, "POST", "/api/admin/users/nobody/unlock", csrf))[0] == 404
    unlocked = [e for e in await running.system_events() if e["type"] == "account.unlocked"]
    assert [(e["actor"], e["data"]) for e in unlocked] == [
        ("admin", {"username": "reviewer2", "was_locked": True})
    ]


async def test_hammering_a_locked_account_throttles_the_address(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(tmp_path / "d", auth={"address_max_failures": 8})
    srv = await start_server(cfg, accounts_template)
    try:
        session = address(srv, "127.0.0.9")
        statuses = await _fail(session, "agent", 10)
        assert statuses == [401] * 4 + [423] * 4 + [429] * 2
    finally:
        await srv.close()
    events = system_events(cfg.data_dir / "archive")
    assert [e["data"]["ip"] for e in events if e["type"] == "auth.address_throttled"] == [
        "127.0.0.9"
    ]
    assert len([e for e in events if e["type"] == "auth.refused_locked"]) == 3
