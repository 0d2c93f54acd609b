"""Accounts and kiosks in the register, and the old accounts file moving in:
the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.accounts import AccountDB, AccountError
from server.register.db import Register, RegisterError
from server.register.legacy import migrate_accounts_file
from server.register.models import Base
from tests.api.test_accounts_migration import USERS, write_legacy_file
from tests.conftest import PASSWORD


def test_accounts_contract(register: Register) -> None:
    db = AccountDB(register)
    db.add_user("wang", PASSWORD, "reviewer", items=["SCJG-001"], place="QH-COUNTY")
    with pytest.raises(AccountError, match="already exists"):
        db.add_user("wang", PASSWORD, "admin")
    assert db.check_password("wang", PASSWORD).items == ("SCJG-001",)
    assert db.check_password("wang", "wrong-password") is None
    stamp = db.password_stamp("wang")
    db.set_password("wang", "Another-password-2")
    assert db.password_stamp("wang") != stamp
    user, changed = db.update_user("wang", role="agent", place="QH-LL-DC", disabled=True)
    assert changed == ["role", "place", "disabled"] and user.disabled
    assert db.check_password("wang", "Another-password-2") is None  # disabled
    kiosk, token = db.add_kiosk("城关镇 1 号窗口", "QH-CG")
    db.add_kiosk("柳林镇", "QH-LL")
    db.add_kiosk("柳林镇", "QH-LL")
    assert db.kiosk_by_token(token) == kiosk == db.find_kiosk("城关镇 1 号窗口")
    with pytest.raises(AccountError, match="several kiosks"):
        db.find_kiosk("柳林镇")
    assert db.revoke_kiosk(kiosk.id)[1] and not db.revoke_kiosk(kiosk.id)[1]
    assert db.kiosk_by_token(token) is None
    assert db.display_name(f"kiosk:{kiosk.id}") == "城关镇 1 号窗口"
    assert [k.place for k in db.kiosks()] == ["QH-CG", "QH-LL", "QH-LL"]


def test_the_accounts_file_moves_in_once(register: Register, tmp_path: Path) -> None:
    legacy = tmp_path / "accounts.sqlite3"
    write_legacy_file(legacy)
    done = migrate_accounts_file(register, legacy)
    assert done is not None and (done.users, done.kiosks, done.revoked_kiosks) == (4, 2, 1)
    db = AccountDB(register)
    assert {u.username for u in db.users()} == {u[0] for u in USERS}
    assert db.check_password("wang", PASSWORD) is not None

    # A second file that disagrees with what the register holds: refused, nothing changed.
    again = tmp_path / "again" / "accounts.sqlite3"
    again.parent.mkdir()
    write_legacy_file(again)  # same usernames, new hashes
    with pytest.raises(RegisterError, match="already has a different user 'li'"):
        migrate_accounts_file(register, again)
    assert again.exists() and db.check_password("wang", PASSWORD) is not None


def test_the_migrations_match_the_models(register: Register) -> None:
    """A model change without its Alembic migration fails here."""
    with register.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
