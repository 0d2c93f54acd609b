"""Sign-in from outside: redirects, landing pages, guessing limits, what the audit log keeps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from server import appkeys as K
from tests.conftest import PASSWORD, RunningServer, make_config, start_server, system_events

EVIL = [
    "/%5Cevil.example",
    "/%09/evil.example",
    "//evil.example",
    "/%2F/evil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "/%0A/evil.example",
    "/%5C%5Cevil.example",
    "/\\/evil.example",
]


def _from(running: RunningServer, address: str) -> aiohttp.ClientSession:
    """An HTTP session whose connections come from another loopback address."""
    session = aiohttp.ClientSession(
        base_url=running.url,
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )
    running.sessions.append(session)
    return session


async def _login(
    session: aiohttp.ClientSession, username: str, password: str, **extra: object
) -> tuple[int, dict]:
    async with session.post(
        "/api/login", json={"username": username, "password": password, **extra}
    ) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("target", EVIL)
async def test_login_page_never_keeps_an_offsite_next(running: RunningServer, target: str) -> None:
    session, _ = await running.http()
    async with session.get(f"/login?next={target}") as resp:
        html = await resp.text()
    kept = re.search(r'data-next="([^"]*)"', html)
    assert kept is not None and kept.group(1) == "", (target, kept.group(1) if kept else None)
    # The API, given the same target, sends the browser home instead.
    status, body = await _login(session, "reviewer", PASSWORD, next=target.replace("%5C", "\\"))
    assert status == 200 and body["next"] == "/desk"


async def test_a_same_origin_next_is_kept_when_the_role_may_open_it(
    running: RunningServer,
) -> None:
    session, _ = await running.http()
    async with session.get("/login?next=/cases") as resp:
        assert 'data-next="/cases"' in await resp.text()
    status, body = await _login(session, "supervisor", PASSWORD, next="/cases")
    assert (status, body["next"]) == (200, "/cases")
    # A page the role may not open is not a landing place.
    other, _ = await running.http()
    status, body = await _login(other, "supervisor", PASSWORD, next="/admin")
    assert (status, body["next"]) == (200, "/cases")
    # Nor is an API, even one the role may call.
    for api in ("/api/cases", "/ws", "/metrics"):
        status, body = await _login(other, "supervisor", PASSWORD, next=api)
        assert (status, body["next"]) == (200, "/cases")


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("reviewer", "/desk"),
        ("supervisor", "/cases"),
        ("admin", "/admin"),
        ("agent", "/village"),  # at a village service point: its phone page
        ("township", "/points"),
        ("secadmin", "/security"),
        ("auditadmin", "/audit"),
    ],
)
async def test_each_role_lands_on_its_own_page(
    running: RunningServer, username: str, home: str
) -> None:
    session, _ = await running.http()
    status, body = await _login(session, username, PASSWORD)
    assert (status, body["next"]) == (200, home)
    async with session.get(home, headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200, home
    # Signed in, /login goes straight home.
    async with session.get("/login", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == home


async def test_an_address_guessing_many_accounts_is_throttled(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(
        tmp_path / "d", auth={"address_max_failures": 6, "address_window_seconds": 120}
    )
    srv = await start_server(cfg, accounts_template)
    try:
        guesser = _from(srv, "127.0.0.3")
        statuses = [(await _login(guesser, f"user-{n}", "wrong-password"))[0] for n in range(8)]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
        status, _ = await _login(guesser, "reviewer", PASSWORD)
        assert status == 429  # not even checked
        status, _ = await _login(_from(srv, "127.0.0.4"), "reviewer", PASSWORD)
        assert status == 200
        for n in range(50):
            assert (await _login(guesser, f"other-{n}", "wrong-password"))[0] == 429
    finally:
        await srv.close()
    events = system_events(cfg.data_dir / "archive")
    assert [e["data"]["ip"] for e in events if e["type"] == "auth.address_throttled"] == [
        "127.0.0.3"
    ]
    aggregates = [e["data"] for e in events if e["type"] == "login.refused_aggregate"]
    # One count for the address, whatever usernames it tried: 2 + 1 + 50 refused.
    assert [(a["reason"], a["username"], a["address"], a["count"]) for a in aggregates] == [
        ("throttled", None, "127.0.0.3", 53)
    ]


async def test_refused_attempts_of_a_throttled_address_are_counted_not_written_one_by_one(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(tmp_path / "d", auth={"address_max_failures": 3})
    srv = await start_server(cfg, accounts_template)
    attempts = 200
    try:
        session, _ = await srv.http()
        for n in range(3):
            await _login(session, f"guess-{n}", "wrong-password")
        before = len(await srv.system_events())
        for n in range(attempts):
            status, _ = await _login(session, f"other-{n}", "wrong-password")
            assert status == 429
        assert len(await srv.system_events()) == before  # nothing written per attempt
    finally:
        await srv.close()  # shutdown flushes the counts
    events = system_events(cfg.data_dir / "archive")
    aggregates = [e for e in events if e["type"] == "login.refused_aggregate"]
    assert sum(e["data"]["count"] for e in aggregates) == attempts
    assert {(e["data"]["reason"], e["data"]["username"]) for e in aggregates} == {
        ("throttled", None)
    }
    assert len(events) < 20


async def test_unknown_usernames_are_never_logged_in_clear(running: RunningServer) -> None:
    typed = ["110101199003077777", "my-secret-pass-1", "wrong-user"]
    session, _ = await running.http()
    for text in typed:
        status, _ = await _login(session, text, "whatever-pw")
        assert status == 401
    status, _ = await _login(session, "reviewer", "wrong-password")
    assert status == 401
    events = await running.system_events()
    failed = [e for e in events if e["type"] == "auth.failed"]
    dump = json.dumps(events, ensure_ascii=False)
    for text in typed:
        assert text not in dump
    actors = [e["actor"] for e in failed]
    assert actors[-1] == "reviewer"  # an existing account's name is kept
    masked = actors[:3]
    assert all(a.startswith("unknown:") for a in masked) and len(set(masked)) == 3


async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    async def attempt(srv: RunningServer, forwarded: str, n: int) -> int:
        session, _ = await srv.http()
        async with session.post(
            "/api/login",
            json={"username": f"guess-{n}", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"10.9.9.9, {forwarded}"},
        ) as resp:
            return resp.status

    auth = {"address_max_failures": 3}
    trusting = await start_server(
        make_config(tmp_path / "a", auth={**auth, "trusted_proxies": ["127.0.0.1"]}),
        accounts_template,
    )
    try:
        statuses = [await attempt(trusting, "198.51.100.7", n) for n in range(4)]
        assert statuses == [401, 401, 429, 429]
        assert await attempt(trusting, "198.51.100.8", 9) == 401
    finally:
        await trusting.close()
    # Without a trusted proxy the header is the caller's say-so: ignored.
    plain = await start_server(make_config(tmp_path / "b", auth=auth), accounts_template)
    try:
        statuses = [await attempt(plain, "198.51.100.7", n) for n in range(4)]
        assert statuses == [401, 401, 429, 429]
        assert await attempt(plain, "198.51.100.8", 9) == 429
    finally:
        await plain.close()


async def test_an_agent_at_a_township_centre_lands_on_the_counter(running: RunningServer) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    session, _ = await running.http()
    status, body = await _login(session, "agent-cg", PASSWORD)
    assert (status, body["next"]) == (200, "/agent")
