"""三员分立: the system admin manages business accounts and devices, the security
admin alone gives roles (one per account, never their own), the audit admin reads
and exports the audit log and changes nothing; every admin action is audited."""

from __future__ import annotations

import csv
import io

from server import appkeys as K
from tests.api.accounts_helpers import call
from tests.conftest import RunningServer


async def test_the_system_admin_cannot_give_an_admin_role(running: RunningServer) -> None:
    admin, csrf = await running.http("admin")
    for role in ("sysadmin", "secadmin", "auditadmin", "admin"):
        body = {"username": f"x-{role}", "password": "Long-enough-pw1", "role": role}
        status, reply = await call(admin, "POST", "/api/admin/users", csrf, body)
        assert (status, reply["field"], reply["code"]) == (400, "role", "separation"), role
        status, reply = await call(
            admin, "PATCH", "/api/admin/users/supervisor", csrf, {"role": role}
        )
        assert (status, reply["code"]) == (400, "separation"), role
    # Nor take one away.
    status, reply = await call(
        admin, "PATCH", "/api/admin/users/secadmin", csrf, {"role": "supervisor"}
    )
    assert (status, reply["code"]) == (400, "separation")
    status, reply = await call(admin, "POST", "/api/admin/users/supervisor/role", csrf, {})
    assert status == 403
    refused = [e for e in await running.system_events() if e["type"] == "admin.refused"]
    assert len(refused) == 9 and {e["data"]["code"] for e in refused} == {"separation"}
    assert {e["actor"] for e in refused} == {"admin"}


async def test_the_security_admin_gives_roles_one_per_account(running: RunningServer) -> None:
    sec, csrf = await running.http("secadmin")
    target = await running.http("supervisor")
    status, reply = await call(
        sec, "POST", "/api/admin/users/supervisor/role", csrf, {"role": "auditadmin"}
    )
    assert status == 200 and reply["user"]["role"] == "auditadmin", reply
    assert (await call(target[0], "GET", "/api/me"))[1]["user"]["role"] == "auditadmin"
    for bad, code in (
        ({"role": ["sysadmin", "auditadmin"]}, "type"),
        ({"role": "sysadmin,auditadmin"}, "invalid"),
        ({"role": "root"}, "invalid"),
        ({}, "required"),
    ):
        status, reply = await call(sec, "POST", "/api/admin/users/supervisor/role", csrf, bad)
        assert (status, reply["code"]) == (400, code), bad
    status, reply = await call(
        sec, "POST", "/api/admin/users/secadmin/role", csrf, {"role": "sysadmin"}
    )
    assert (status, reply["code"]) == (400, "self")
    # A reviewer needs items: the role alone is not enough.
    status, reply = await call(
        sec, "POST", "/api/admin/users/supervisor/role", csrf, {"role": "reviewer"}
    )
    assert (status, reply["field"], reply["code"]) == (400, "items", "required")
    status, policy = await call(sec, "GET", "/api/admin/policy")
    assert status == 200 and policy["lockout"]["max_failed_logins"] == 5
    assert policy["password"] == {"min_length": 12, "min_classes": 3, "history": 5}
    # The security admin manages no account or device.
    for method, path in (
        ("POST", "/api/admin/users"),
        ("PATCH", "/api/admin/users/supervisor"),
        ("POST", "/api/admin/users/reviewer/password"),
        ("GET", "/api/audit/events"),
    ):
        assert (await call(sec, method, path, csrf, {}))[0] == 403, path
    changed = [e for e in await running.system_events() if e["type"] == "account.role_changed"]
    assert [
        (e["actor"], e["data"]["username"], e["data"]["from"], e["data"]["to"]) for e in changed
    ] == [("secadmin", "supervisor", "supervisor", "auditadmin")]


async def test_the_audit_admin_reads_filters_and_exports_and_nothing_else(
    running: RunningServer,
) -> None:
    other, _ = await running.http("reviewer")
    recorder = running.app[K.RECORDER]
    recorder.system("case.test_note", "reviewer", {"note": "证件号 110101199003077777 已核"})
    audit, csrf = await running.http("auditadmin")
    status, body = await call(audit, "GET", "/api/audit/events?type=auth.")
    assert status == 200 and body["events"]
    assert {e["type"].split(".")[0] for e in body["events"]} == {"auth"}
    status, body = await call(audit, "GET", "/api/audit/events?actor=reviewer&type=auth.signed_in")
    assert [e["actor"] for e in body["events"]] == ["reviewer"]
    status, body = await call(audit, "GET", "/api/audit/events?from=2000-01-01&to=2000-01-02")
    assert (status, body["events"]) == (200, [])
    for bad, field in (
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("from=2026-12-03&to=2026-12-01", "to"),
    ):
        status, reply = await call(audit, "GET", f"/api/audit/events?{bad}")
        assert (status, reply["field"]) == (400, field), bad
    async with audit.get("/api/audit/export?type=case.") as resp:
        assert resp.status == 200 and resp.content_type == "text/csv"
        text = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", "type", "actor", "data", "seq", "hash"]
    assert [r[1] for r in rows[1:]] == ["case.test_note"]
    assert "110101199003077777" not in text and "**************7777" in text  # PIPL
    async with audit.get("/audit?type=case.", headers={"Accept": "text/html"}) as resp:
        page = await resp.text()
    assert resp.status == 200 and "case.test_note" in page and "110101199003077777" not in page
    for method, path in (
        ("GET", "/api/admin/accounts"),
        ("POST", "/api/admin/users/reviewer/unlock"),
        ("POST", "/api/admin/users/reviewer/role"),
        ("GET", "/api/register/cases"),
        ("GET", "/api/stats"),
    ):
        assert (await call(audit, method, path, csrf, {}))[0] == 403, path
    exported = [e for e in await running.system_events() if e["type"] == "audit.exported"]
    assert [(e["actor"], e["data"]["type"], e["data"]["rows"]) for e in exported] == [
        ("auditadmin", "case.", 1)
    ]
    assert other is not None


async def test_the_system_admin_cannot_take_over_the_other_two_admins(
    running: RunningServer,
) -> None:
    """A password or TOTP reset is a takeover: refused for the security and audit
    admins' accounts (reset on the server), audited; a business account is fine."""
    admin, csrf = await running.http("admin")
    for username in ("secadmin", "auditadmin"):
        for path, body in (
            (f"/api/admin/users/{username}/password", {"password": "Takeover-pass-2026"}),
            (f"/api/admin/users/{username}/totp/reset", {}),
        ):
            status, reply = await call(admin, "POST", path, csrf, body)
            assert (status, reply["code"]) == (400, "separation"), path
    refused = [e for e in await running.system_events() if e["type"] == "admin.refused"]
    assert len(refused) == 4 and {e["data"]["username"] for e in refused} == {
        "secadmin",
        "auditadmin",
    }
    assert not [e for e in await running.system_events() if e["type"].startswith("account.")]
    # The audit admin still signs in with the old password.
    await running.http("auditadmin")
    status, _ = await call(
        admin,
        "POST",
        "/api/admin/users/supervisor/password",
        csrf,
        {"password": "New-pass-2026-ok"},
    )
    assert status == 200
