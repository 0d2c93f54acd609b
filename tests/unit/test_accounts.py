"""Accounts: Argon2 hashes, roles, kiosk tokens stored only as digests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.accounts import AccountDB, AccountError
from server.register.legacy import migrate_accounts_file


def test_users_and_kiosks_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "accounts.sqlite3"
    db = AccountDB(path)
    db.add_user("wang", "Correct horse 1", "reviewer", items=["SCJG-001"], place="QH-COUNTY")
    kiosk, token = db.add_kiosk("城关镇 1 号窗口", "QH-CG")
    db.close()

    db = AccountDB(path)
    assert db.check_password("wang", "Correct horse 1") is not None
    assert db.check_password("wang", "Wrong horse 1!") is None
    assert db.check_password("nobody", "Correct horse 1") is None
    assert db.kiosk_by_token(token) == kiosk
    assert db.kiosk_by_token(token + "x") is None
    db.close()

    raw = sqlite3.connect(path)
    (stored_hash,) = raw.execute("SELECT password_hash FROM users").fetchone()
    (stored_token,) = raw.execute("SELECT token_sha256 FROM kiosks").fetchone()
    raw.close()
    assert stored_hash.startswith("$argon2id$")
    assert token not in stored_token


def test_disabled_account_cannot_sign_in(tmp_path: Path) -> None:
    db = AccountDB(tmp_path / "a.sqlite3")
    db.add_user("li", "Password-0001", "supervisor")
    db.set_disabled("li", True)
    assert db.check_password("li", "Password-0001") is None
    db.close()


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("x", "Password-0001", "root"), {}, "role"),
        (("x", "short", "admin"), {}, "password"),
        (("x", "Password-0001", "agent"), {}, "place"),
        (("x", "Password-0001", "reviewer"), {}, "items"),
        (("", "Password-0001", "admin"), {}, "username"),
    ],
)
def test_invalid_accounts_name_the_field(
    tmp_path: Path, args: tuple[str, str, str], kwargs: dict[str, str], field: str
) -> None:
    db = AccountDB(tmp_path / "a.sqlite3")
    with pytest.raises(AccountError, match=field):
        db.add_user(*args, **kwargs)
    db.close()


def test_duplicate_username(tmp_path: Path) -> None:
    db = AccountDB(tmp_path / "a.sqlite3")
    db.add_user("zhao", "Password-0001", "admin")
    with pytest.raises(AccountError, match="already exists"):
        db.add_user("zhao", "Password-0002", "admin")
    db.close()


def test_kiosk_revocation_and_lookup_by_name(tmp_path: Path) -> None:
    db = AccountDB(tmp_path / "a.sqlite3")
    one, token = db.add_kiosk("城关镇 1 号窗口", "QH-CG")
    db.add_kiosk("柳林镇 1 号窗口", "QH-LL")
    db.add_kiosk("柳林镇 1 号窗口", "QH-LL")
    assert db.find_kiosk("城关镇 1 号窗口") == one == db.find_kiosk(one.id)
    with pytest.raises(AccountError, match="several kiosks") as ambiguous:
        db.find_kiosk("柳林镇 1 号窗口")
    assert ambiguous.value.code == "ambiguous"
    revoked, changed = db.revoke_kiosk(one.id)
    assert changed and revoked.revoked
    assert db.revoke_kiosk(one.id)[1] is False
    assert db.kiosk_by_token(token) is None
    db.close()


def test_an_accounts_file_from_before_revocation_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "accounts.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(
        "CREATE TABLE kiosks (id TEXT PRIMARY KEY, name TEXT NOT NULL, place TEXT NOT NULL,"
        " token_sha256 TEXT NOT NULL UNIQUE, created_at REAL NOT NULL)"
    )
    raw.execute("INSERT INTO kiosks VALUES ('k-1', 'old', 'QH-CG', 'abc', 0)")
    raw.commit()
    raw.close()
    db = AccountDB(tmp_path / "register.sqlite3")
    migrated = migrate_accounts_file(db.register, path)
    assert migrated is not None and (migrated.kiosks, migrated.users) == (1, 0)
    assert [k.revoked for k in db.kiosks()] == [False]
    assert db.revoke_kiosk("k-1")[0].revoked
    assert not path.exists() and path.with_name("accounts.sqlite3.migrated").exists()
    assert migrate_accounts_file(db.register, path) is None  # done once
    db.close()


def test_update_user_checks_what_the_role_needs(tmp_path: Path) -> None:
    db = AccountDB(tmp_path / "a.sqlite3")
    db.add_user("wang", "Password-0001", "reviewer", items=["SCJG-001"])
    with pytest.raises(AccountError, match="items") as missing:
        db.update_user("wang", items=[])
    assert (missing.value.field, missing.value.code) == ("items", "required")
    user, changed = db.update_user("wang", role="agent", place="QH-LL-DC")
    assert (user.role, user.place, changed) == ("agent", "QH-LL-DC", ["role", "place"])
    assert db.update_user("wang")[1] == []
    with pytest.raises(AccountError, match="no account"):
        db.update_user("nobody", disabled=True)
    db.close()
