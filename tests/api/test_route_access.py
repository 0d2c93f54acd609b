"""Walk the whole route table: anonymous callers and wrong roles are refused."""

from __future__ import annotations

import re

import aiohttp

from server.auth import PUBLIC, allowed_roles
from tests.conftest import RunningServer

STAFF = {
    "reviewer": "reviewer",
    "supervisor": "supervisor",
    "agent": "agent",
    "township_admin": "township",
    "sysadmin": "admin",
    "secadmin": "secadmin",
    "auditadmin": "auditadmin",
}
HOMES = {
    "reviewer": "/desk",
    "supervisor": "/cases",
    "agent": "/agent",
    "township_admin": "/points",
    "sysadmin": "/admin",
    "secadmin": "/security",
    "auditadmin": "/audit",
}
DENIED = {401, 403}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(running: RunningServer) -> list[tuple[str, str, frozenset[str]]]:
    out = []
    for route in running.app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        roles = allowed_roles(route.handler)
        assert roles is not None, f"{route.method} {route.resource.canonical} has no allow() mark"
        out.append((route.method, _concrete(route.resource.canonical), roles))
    return out


async def _status(
    session: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str]
) -> int:
    async with session.request(
        method, path, headers={"Accept": "application/json", **headers}, allow_redirects=False
    ) as resp:
        return resp.status


# Routes added with the admin, landing, revocation and case-page work: the walks below
# cover them.
NEWER_ROUTES = {
    ("GET", "/agent"),
    ("GET", "/case/x"),
    ("PATCH", "/api/admin/users/x"),
    ("POST", "/api/admin/users/x/password"),
    ("POST", "/api/admin/kiosks/x/revoke"),
    # The approval document, its public verification and the receipt.
    ("POST", "/api/register/cases/x/approval"),
    ("GET", "/api/register/cases/x/approval"),
    ("GET", "/api/verify/x"),
    ("GET", "/verify/x"),
    ("GET", "/case/x/receipt"),
    ("GET", "/api/register/inbox"),
    ("POST", "/api/register/cases/x/sessions"),
    # Statistics and the public catalogue.
    ("GET", "/stats"),
    ("GET", "/api/stats"),
    ("GET", "/api/stats/export"),
    ("GET", "/catalogue"),
    ("GET", "/api/public/catalogue"),
    # Ratings (好差评), follow-ups (整改) and random spot checks (随机抽查).
    ("GET", "/api/ratings/options"),
    ("POST", "/api/ratings/sessions/x"),
    ("GET", "/rate/x"),
    ("POST", "/rate/x"),
    ("POST", "/api/rate/x"),
    ("GET", "/followups"),
    ("GET", "/api/followups"),
    ("GET", "/api/followups/x"),
    ("POST", "/api/followups/x/respond"),
    ("POST", "/api/followups/x/close"),
    ("GET", "/spot-checks"),
    ("GET", "/api/spot-checks"),
    ("POST", "/api/spot-checks/draws"),
    ("POST", "/api/spot-checks/draws/x/redraw"),
    ("POST", "/api/spot-checks/x/review"),
    # The supervisors' live dashboard (审管联动).
    ("GET", "/supervision"),
    ("GET", "/api/supervision"),
    # Accounts for 等保 level 3: own account, sessions, 三员分立, the audit viewer.
    ("GET", "/account"),
    ("POST", "/api/account/password"),
    ("POST", "/api/account/totp/enrol"),
    ("POST", "/api/account/totp/confirm"),
    ("GET", "/api/session"),
    ("POST", "/api/session/keepalive"),
    ("POST", "/api/logout/everywhere"),
    ("POST", "/api/admin/users/x/unlock"),
    ("POST", "/api/admin/users/x/totp/reset"),
    ("POST", "/api/admin/users/x/role"),
    ("GET", "/api/admin/policy"),
    ("GET", "/security"),
    ("GET", "/audit"),
    ("GET", "/api/audit/events"),
    ("GET", "/api/audit/export"),
    # 云踏勘: the inspection invitation, the phone's page and check, evidence, checklist.
    ("POST", "/api/inspections"),
    ("GET", "/inspect/x"),
    ("POST", "/api/inspect/check"),
    ("POST", "/api/register/cases/x/evidence"),
    ("GET", "/api/register/cases/x/evidence"),
    ("GET", "/api/register/cases/x/evidence/x"),
    ("POST", "/api/register/cases/x/inspection/checks"),
    # 乡村随身办 and the points ledger (积分).
    ("GET", "/village"),
    ("POST", "/api/village/records"),
    ("GET", "/api/village/records"),
    ("GET", "/api/village/records/x"),
    ("POST", "/api/village/cases/x/session"),
    ("GET", "/points"),
    ("GET", "/api/points/points"),
    ("GET", "/api/points/agents"),
    ("GET", "/api/points/ledger"),
    ("GET", "/api/points/months"),
    ("POST", "/api/points/grants"),
    ("POST", "/api/points/entries/x/correction"),
    ("PATCH", "/api/points/entries/x"),
    ("DELETE", "/api/points/entries/x"),
    ("POST", "/api/points/months/x/x/confirm"),
    ("GET", "/api/points/months/x/x/statement"),
    ("GET", "/api/points/months/x/x/export"),
}


async def test_every_route_is_marked_and_anonymous_is_refused(running: RunningServer) -> None:
    routes = _routes(running)
    assert len(routes) >= 10
    assert NEWER_ROUTES <= {(m, p) for m, p, _ in routes}
    anon, _ = await running.http()
    for method, path, roles in routes:
        status = await _status(anon, method, path, {})
        if PUBLIC in roles:
            assert status not in DENIED, f"public {method} {path} refused: {status}"
        else:
            assert status == 401, f"{method} {path} let an anonymous caller through: {status}"


async def test_each_role_reaches_only_its_routes(running: RunningServer) -> None:
    routes = _routes(running)
    callers: dict[str, tuple[aiohttp.ClientSession, dict[str, str]]] = {}
    for role, username in STAFF.items():
        session, csrf = await running.http(username)
        callers[role] = (session, {"X-CSRF-Token": csrf or ""})
    kiosk_session, _ = await running.http()
    callers["kiosk"] = (
        kiosk_session,
        {"Authorization": f"Bearer {running.kiosk_tokens['kiosk-1']}"},
    )
    checked = 0
    for method, path, roles in routes:
        if PUBLIC in roles or path in ("/api/logout", "/api/logout/everywhere"):
            continue
        for role, (session, headers) in callers.items():
            status = await _status(session, method, path, headers)
            if role in roles:
                assert status not in DENIED, f"{role} refused on {method} {path}: {status}"
            else:
                assert status == 403, f"{role} reached {method} {path}: {status}"
            checked += 1
    assert checked >= 20


async def test_cookie_writes_need_the_csrf_token(running: RunningServer) -> None:
    session, csrf = await running.http("admin")
    body = {"username": "new-reviewer", "password": "Long-enough-pw1", "role": "supervisor"}
    async with session.post("/api/admin/users", json=body) as resp:
        assert resp.status == 403
    async with session.post(
        "/api/admin/users", json=body, headers={"X-CSRF-Token": "wrong"}
    ) as resp:
        assert resp.status == 403
    async with session.post(
        "/api/admin/users", json=body, headers={"X-CSRF-Token": csrf or ""}
    ) as resp:
        assert resp.status == 201, await resp.text()


async def test_security_headers_on_pages_and_errors(running: RunningServer) -> None:
    session, _ = await running.http()
    for path in ("/login", "/api/catalogue", "/nope"):
        async with session.get(path) as resp:
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_a_browser_gets_a_page_for_a_page_its_role_may_not_open(
    running: RunningServer,
) -> None:
    homes = {**HOMES, "agent": "/village"}  # the seeded agent works at a village point
    pages = set(HOMES.values()) | set(homes.values())
    for role, username in STAFF.items():
        session, _ = await running.http(username)
        for page in pages - {homes[role]}:
            allowed = (page, role) in {
                ("/cases", "reviewer"),  # a reviewer's own cases
                ("/agent", "agent"),  # a village agent may use the counter too
            }
            async with session.get(page, headers={"Accept": "text/html"}) as resp:
                if allowed:
                    assert resp.status == 200
                    continue
                html = await resp.text()
                assert resp.status == 403 and resp.content_type == "text/html", (role, page)
            assert "无权打开此页面" in html and f'id="go-home" href="{homes[role]}"' in html
            async with session.get(page, headers={"Accept": "application/json"}) as resp:
                assert resp.status == 403 and (await resp.json()) == {"error": "forbidden"}
        # The nav lists exactly the pages the role may open.
        async with session.get(homes[role], headers={"Accept": "text/html"}) as resp:
            shown = set(re.findall(r'data-nav="([^"]+)"', await resp.text()))
        expected = {homes[role]} | ({"/cases"} if role == "reviewer" else set())
        expected |= {"/agent"} if role == "agent" else set()
        expected |= {"/stats", "/supervision"} if role in ("supervisor", "sysadmin") else set()
        if role == "supervisor":
            expected |= {"/followups", "/spot-checks"}
        assert shown == expected, (role, shown)


# Who may call the approval, verification and receipt routes (the walks above then
# check that every other role is refused).
APPROVAL_ROUTES = {
    ("POST", "/api/register/cases/x/approval"): {"reviewer"},
    ("GET", "/api/register/cases/x/approval"): {"agent", "reviewer", "supervisor"},
    ("GET", "/api/verify/x"): {PUBLIC},
    ("GET", "/verify/x"): {PUBLIC},
    ("GET", "/case/x/receipt"): {"agent", "reviewer"},
}


async def test_approval_and_receipt_routes_are_open_to_exactly_their_roles(
    running: RunningServer,
) -> None:
    marks = {(m, p): set(roles) for m, p, roles in _routes(running)}
    assert {key: marks.get(key) for key in APPROVAL_ROUTES} == APPROVAL_ROUTES


# Statistics for supervisors and admins; the catalogue is public.
STATS_ROUTES = {
    ("GET", "/stats"): {"supervisor", "sysadmin"},
    ("GET", "/api/stats"): {"supervisor", "sysadmin"},
    ("GET", "/api/stats/export"): {"supervisor", "sysadmin"},
    ("GET", "/supervision"): {"supervisor", "sysadmin"},
    ("GET", "/api/supervision"): {"supervisor", "sysadmin"},
    ("GET", "/catalogue"): {PUBLIC},
    ("GET", "/api/public/catalogue"): {PUBLIC},
}


async def test_statistics_and_catalogue_routes_are_open_to_exactly_their_roles(
    running: RunningServer,
) -> None:
    marks = {(m, p): set(roles) for m, p, roles in _routes(running)}
    assert {key: marks.get(key) for key in STATS_ROUTES} == STATS_ROUTES


# 三员分立: exactly who may call each admin and audit route (the walks above then
# check that every other role is refused); the own-account routes are every staff role's.
ADMIN_ONLY = {
    ("GET", "/admin"): {"sysadmin"},
    ("GET", "/api/admin/accounts"): {"sysadmin", "secadmin"},
    ("POST", "/api/admin/users"): {"sysadmin"},
    ("PATCH", "/api/admin/users/x"): {"sysadmin"},
    ("POST", "/api/admin/users/x/password"): {"sysadmin"},
    ("POST", "/api/admin/users/x/unlock"): {"sysadmin"},
    ("POST", "/api/admin/users/x/totp/reset"): {"sysadmin"},
    ("POST", "/api/admin/kiosks/x/revoke"): {"sysadmin"},
    ("POST", "/api/admin/users/x/role"): {"secadmin"},
    ("GET", "/api/admin/policy"): {"secadmin"},
    ("GET", "/security"): {"secadmin"},
    ("GET", "/audit"): {"auditadmin"},
    ("GET", "/api/audit/events"): {"auditadmin"},
    ("GET", "/api/audit/export"): {"auditadmin"},
    ("GET", "/account"): set(STAFF),
    ("POST", "/api/account/password"): set(STAFF),
    ("GET", "/api/session"): set(STAFF),
    ("POST", "/api/logout/everywhere"): set(STAFF),
}


async def test_the_three_administrators_reach_only_their_own_routes(
    running: RunningServer,
) -> None:
    routes = _routes(running)
    marks = {(m, p): set(roles) for m, p, roles in routes}
    assert {key: marks.get(key) for key in ADMIN_ONLY} == ADMIN_ONLY
    # The audit admin reads the audit log and changes nothing: no write route
    # other than their own account's is open to them.
    own = {"/api/logout", "/api/logout/everywhere", "/api/session/keepalive"}
    writes = {
        (m, p)
        for m, p, roles in routes
        if "auditadmin" in roles and m != "GET" and not p.startswith("/api/account/")
    }
    assert writes == {("POST", p) for p in own}
    # No admin role reaches the case register's writes.
    for m, p, roles in routes:
        if p.startswith("/api/register/") and m != "GET":
            assert not roles & {"secadmin", "auditadmin"}, (m, p)


# 云踏勘: exactly who may call each inspection route.
INSPECTION_ROUTES = {
    ("POST", "/api/inspections"): {"reviewer"},
    ("GET", "/inspect/x"): {PUBLIC},
    ("POST", "/api/inspect/check"): {PUBLIC},
    ("POST", "/api/register/cases/x/evidence"): {"inspector"},
    ("GET", "/api/register/cases/x/evidence"): {"agent", "reviewer", "supervisor"},
    ("GET", "/api/register/cases/x/evidence/x"): {"agent", "reviewer", "supervisor"},
    ("POST", "/api/register/cases/x/inspection/checks"): {"reviewer"},
    ("GET", "/ws"): {"kiosk", "agent", "reviewer", "supervisor", "inspector"},
}


async def test_inspection_routes_are_open_to_exactly_their_roles(running: RunningServer) -> None:
    marks = {(m, p): set(roles) for m, p, roles in _routes(running)}
    assert {key: marks.get(key) for key in INSPECTION_ROUTES} == INSPECTION_ROUTES


async def test_an_inspectors_token_reaches_only_the_inspectors_routes(
    running: RunningServer,
) -> None:
    """A live inspection token, walked over every route: only its own are open."""
    from tests.api.test_inspection import invite

    invited = await invite(running)
    session, _ = await running.http()
    headers = {"Authorization": f"Bearer {invited.token}"}
    checked = 0
    for method, path, roles in _routes(running):
        if PUBLIC in roles:
            continue
        status = await _status(session, method, path, headers)
        if "inspector" in roles:
            assert status not in DENIED, f"inspector refused on {method} {path}: {status}"
        else:
            assert status == 403, f"an inspector reached {method} {path}: {status}"
        checked += 1
    assert checked >= 20


# 乡村随身办 and the points ledger: exactly who may call each route (the walks above
# then check that every other role is refused). The township admin is a business
# role: no admin route, no case register write.
VILLAGE_ROUTES = {
    ("GET", "/village"): {"agent"},
    ("POST", "/api/village/records"): {"agent"},
    ("GET", "/api/village/records"): {"agent", "township_admin", "supervisor"},
    ("GET", "/api/village/records/x"): {"agent", "township_admin", "supervisor"},
    ("POST", "/api/village/cases/x/session"): {"agent"},
    ("GET", "/points"): {"township_admin"},
    ("GET", "/api/points/points"): {"agent", "township_admin", "supervisor"},
    ("GET", "/api/points/agents"): {"township_admin"},
    ("GET", "/api/points/ledger"): {"agent", "township_admin", "supervisor"},
    ("GET", "/api/points/months"): {"agent", "township_admin", "supervisor"},
    ("POST", "/api/points/grants"): {"township_admin"},
    ("POST", "/api/points/entries/x/correction"): {"township_admin"},
    ("PATCH", "/api/points/entries/x"): {"township_admin"},
    ("DELETE", "/api/points/entries/x"): {"township_admin"},
    ("POST", "/api/points/months/x/x/confirm"): {"township_admin"},
    ("GET", "/api/points/months/x/x/statement"): {"agent", "township_admin", "supervisor"},
    ("GET", "/api/points/months/x/x/export"): {"township_admin", "supervisor"},
}


async def test_village_and_points_routes_are_open_to_exactly_their_roles(
    running: RunningServer,
) -> None:
    routes = _routes(running)
    marks = {(m, p): set(roles) for m, p, roles in routes}
    assert {key: marks.get(key) for key in VILLAGE_ROUTES} == VILLAGE_ROUTES
    for m, p, roles in routes:
        if "township_admin" not in roles or p.startswith(("/api/account/", "/api/session")):
            continue
        assert not p.startswith(("/api/admin", "/api/audit", "/api/register")), (m, p)
