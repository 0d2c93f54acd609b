"""TOTP second factor (pyotp makes the codes): enrolment, sign-in with a code,
no replay, required by config for the admin roles, recovery by another sysadmin."""

from __future__ import annotations

from pathlib import Path

import pyotp

from tests.api.accounts_helpers import call, login, use_clock
from tests.conftest import PASSWORD, RunningServer, make_config, start_server, system_events


async def _enrol(session, csrf: str, now: float) -> str:  # type: ignore[no-untyped-def]
    status, body = await call(session, "POST", "/api/account/totp/enrol", csrf)
    assert status == 200 and body["uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].lstrip().startswith("<svg")
    secret = body["secret"]
    status, reply = await call(
        session, "POST", "/api/account/totp/confirm", csrf, {"code": "000000"}
    )
    assert (status, reply["field"], reply["code"]) == (400, "code", "wrong")
    code = pyotp.TOTP(secret).at(now)
    assert (await call(session, "POST", "/api/account/totp/confirm", csrf, {"code": code}))[
        0
    ] == 200
    return secret


async def test_enrol_then_sign_in_needs_a_fresh_code(running: RunningServer) -> None:
    clock = use_clock(running)
    session, csrf = await running.http("supervisor")
    secret = await _enrol(session, csrf or "", clock.now)
    assert (await call(session, "POST", "/api/account/totp/enrol", csrf))[0] == 400  # once
    anon, _ = await running.http()
    status, body = await login(anon, "supervisor", PASSWORD)
    assert (status, body["error"]) == (401, "totp_required")
    status, body = await login(anon, "supervisor", PASSWORD, totp="123456")
    assert (status, body["error"]) == (401, "bad_totp")
    clock.advance(60)  # the enrolment code's step is used up
    code = pyotp.TOTP(secret).at(clock.now)
    status, body = await login(anon, "supervisor", PASSWORD, totp=code)
    assert status == 200, body
    replay, _ = await running.http()
    status, body = await login(replay, "supervisor", PASSWORD, totp=code)
    assert (status, body["error"]) == (401, "bad_totp")  # the same code twice: no
    # A wrong password with a right code is the usual wrong-password answer.
    clock.advance(30)
    code = pyotp.TOTP(secret).at(clock.now)
    status, body = await login(replay, "supervisor", "Wrong-password-1", totp=code)
    assert (status, body["error"]) == (401, "bad_credentials")
    events = [e["type"] for e in await running.system_events() if e["actor"] == "supervisor"]
    assert "account.totp_enrolled" in events


async def test_wrong_codes_count_towards_the_lockout(running: RunningServer) -> None:
    clock = use_clock(running)
    session, csrf = await running.http("reviewer2")
    await _enrol(session, csrf or "", clock.now)
    anon, _ = await running.http()
    statuses = [(await login(anon, "reviewer2", PASSWORD, totp="000000"))[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]


async def test_admin_roles_must_enrol_when_config_says_so_and_a_sysadmin_resets(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(
        tmp_path / "d", auth={"totp_required_roles": ["sysadmin", "secadmin", "auditadmin"]}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        clock = use_clock(srv)
        sec, _ = await srv.http()
        status, body = await login(sec, "secadmin", PASSWORD)
        assert status == 200 and body["user"]["restricted"] == "totp" and body["next"] == "/account"
        sec_csrf = body["csrf"]
        assert (await call(sec, "GET", "/api/admin/policy"))[1]["restricted"] == "totp"
        secret = await _enrol(sec, sec_csrf, clock.now)
        status, policy = await call(sec, "GET", "/api/admin/policy")
        assert status == 200 and policy["totp_required_roles"][0] == "sysadmin"
        # Business roles are not asked.
        plain, _ = await srv.http()
        status, body = await login(plain, "reviewer", PASSWORD)
        assert status == 200 and "restricted" not in body["user"]
        # The phone is lost: another sysadmin resets the second factor.
        admins = []
        for name in ("admin", "sysadmin2"):
            s, _ = await srv.http()
            status, body = await login(s, name, PASSWORD)
            secret_a = await _enrol(s, body["csrf"], clock.now)
            admins.append((s, body["csrf"], secret_a))
            clock.advance(30)
        admin, csrf, _ = admins[0]
        status, reply = await call(admin, "POST", "/api/admin/users/admin/totp/reset", csrf)
        assert (status, reply["code"]) == (400, "self")
        assert (await call(admin, "POST", "/api/admin/users/sysadmin2/totp/reset", csrf))[0] == 200
        again, _ = await srv.http()
        status, body = await login(again, "sysadmin2", PASSWORD)
        assert status == 200 and body["user"]["restricted"] == "totp"  # enrols anew
        # The security admin's factor is not the system admin's to remove (三员分立).
        status, reply = await call(admin, "POST", "/api/admin/users/secadmin/totp/reset", csrf)
        assert (status, reply["code"]) == (400, "separation")
        assert secret
    finally:
        await srv.close()
    resets = [
        e for e in system_events(cfg.data_dir / "archive") if e["type"] == "account.totp_reset"
    ]
    assert [(e["actor"], e["data"]) for e in resets] == [("admin", {"username": "sysadmin2"})]
