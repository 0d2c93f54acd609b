"""First start with the register: an accounts file of the format the server
wrote until now (schema of commit 3655413, server/accounts.py) moves into the
register, nothing lost, and everyone signs in as before."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select

from server import appkeys as K
from server.accounts import token_digest
from server.register.models import KioskRow, UserRow
from tests.api.serve_proc import CLI, SECRET
from tests.conftest import PASSWORD, RunningServer, make_config, start_server
from tests.ports import free_port

# Verbatim from server/accounts.py at the branch start (the file's current format).
LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    items TEXT NOT NULL DEFAULT '[]',
    place TEXT,
    level TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kiosks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    place TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL
);
"""
USERS = [
    ("wang", "reviewer", "王审批", ["SCJG-001", "RSJ-001"], "QH-COUNTY", "county", 0),
    ("li", "agent", "李代办", [], "QH-LL-DC", None, 0),
    ("zhao", "supervisor", "赵监管", [], None, None, 1),
    ("root", "admin", "root", [], None, None, 0),
]
KIOSKS = [
    ("k-aaa", "城关镇 1 号窗口", "QH-CG", "tok-active"),
    ("k-bbb", "柳林镇", "QH-LL", "tok-x"),
]


def write_legacy_file(path: Path) -> dict[str, str]:
    """The accounts file as the old AccountDB made it (WAL, JSON items, int flags)."""
    hasher = PasswordHasher()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(LEGACY_SCHEMA)
    hashes = {}
    for username, role, name, items, place, level, disabled in USERS:
        hashes[username] = hasher.hash(PASSWORD)
        db.execute(
            "INSERT INTO users (username, role, display_name, password_hash, items, place,"
            " level, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                username,
                role,
                name,
                hashes[username],
                json.dumps(items),
                place,
                level,
                disabled,
                1700000000.5,
            ),
        )
    for kiosk_id, name, place, token in KIOSKS:
        db.execute(
            "INSERT INTO kiosks (id, name, place, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (kiosk_id, name, place, token_digest(token), 1700000001.25),
        )
    db.execute("UPDATE kiosks SET revoked_at = ? WHERE id = 'k-bbb'", (time.time(),))
    db.close()
    return hashes


async def test_an_accounts_file_is_migrated_on_first_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    legacy = data / "accounts.sqlite3"
    hashes = write_legacy_file(legacy)
    cfg = make_config(data)
    # No register template: the data dir holds only the old file.
    srv = await start_server(cfg, (tmp_path / "none", {}), _copy=False)
    try:
        await _check_everything_is_there(srv, hashes)
    finally:
        await srv.close()
    assert not legacy.exists()
    migrated = data / "accounts.sqlite3.migrated"
    assert migrated.exists()  # kept, never deleted
    for f in (migrated, data / "register.sqlite3"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600

    # The next start finds nothing to migrate and keeps everyone.
    srv = await start_server(cfg, (tmp_path / "none", {}), _copy=False)
    try:
        types = [e["type"] for e in await srv.system_events()]
        assert types.count("register.accounts_migrated") == 1
        assert srv.app[K.ACCOUNTS].check_password("wang", PASSWORD) is not None
    finally:
        await srv.close()


async def _check_everything_is_there(srv: RunningServer, hashes: dict[str, str]) -> None:
    accounts = srv.app[K.ACCOUNTS]
    with srv.app[K.REGISTER].read() as s:
        users = {u.username: u for u in s.scalars(select(UserRow))}
        kiosks = {k.id: k for k in s.scalars(select(KioskRow))}
    assert set(users) == {u[0] for u in USERS}
    for username, role, name, items, place, level, disabled in USERS:
        row = users[username]
        got = (row.role, row.display_name, row.items, row.place, row.level, row.disabled)
        role = {"admin": "sysadmin"}.get(role, role)  # 三员分立 (migration 0008)
        assert got == (role, name, items, place, level, bool(disabled))
        assert row.password_hash == hashes[username] and row.created_at == 1700000000.5
    assert set(kiosks) == {"k-aaa", "k-bbb"}
    assert kiosks["k-aaa"].revoked_at is None and kiosks["k-bbb"].revoked_at is not None
    assert kiosks["k-aaa"].created_at == 1700000001.25
    assert accounts.kiosk_by_token("tok-active").place == "QH-CG"
    assert accounts.kiosk_by_token("tok-x") is None  # still revoked

    session, _ = await srv.http()
    for username, expected in (("wang", 200), ("li", 200), ("root", 200), ("zhao", 401)):
        async with session.post(
            "/api/login", json={"username": username, "password": PASSWORD}
        ) as resp:
            assert resp.status == expected, (username, await resp.text())
    for token, expected in (("tok-active", 200), ("tok-x", 401)):
        async with session.get("/api/me", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == expected, token
            if expected == 200:
                assert (await resp.json())["user"]["role"] == "kiosk"
    events = await srv.system_events()
    [event] = [e for e in events if e["type"] == "register.accounts_migrated"]
    assert event["data"] == {
        "from": "accounts.sqlite3",
        "users": 4,
        "kiosks": 2,
        "revoked_kiosks": 1,
        "skipped": 0,
    }


def test_an_unreadable_accounts_file_stops_the_start_and_stays(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    junk = b"not a database, but someone's only copy" * 50
    (data / "accounts.sqlite3").write_bytes(junk)
    env = {**os.environ, "RW_SERVER__SECRET": SECRET}
    done = subprocess.run(
        [*CLI, "serve", "--port", str(free_port()), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "cannot migrate accounts.sqlite3" in done.stderr and "left as it was" in done.stderr
    assert (data / "accounts.sqlite3").read_bytes() == junk
