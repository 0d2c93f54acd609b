"""First start after the register came: the old accounts file moves into it.

`accounts.sqlite3` (users and kiosks, the format server/accounts.py wrote
before the register) is copied row by row into the register in one
transaction, hashes and digests untouched, then renamed to
`accounts.sqlite3.migrated` (kept, never deleted). A row the register already
holds identically is skipped (a migration interrupted after its commit); one
that differs stops the start with an error that names it: nothing is
overwritten and nothing is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from server.register.db import Register, RegisterError
from server.register.models import KioskRow, UserRow

log = logging.getLogger(__name__)
LEGACY_FILE = "accounts.sqlite3"
MIGRATED_SUFFIX = ".migrated"
_USER_COLS = ("username", "role", "display_name", "password_hash", "items", "place", "level")
_KIOSK_COLS = ("id", "name", "place", "token_sha256", "created_at")


@dataclass(frozen=True)
class Migrated:
    """What one migration moved (the system audit event's data)."""

    source: str
    users: int
    kiosks: int
    revoked_kiosks: int
    skipped: int

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "users": self.users,
            "kiosks": self.kiosks,
            "revoked_kiosks": self.revoked_kiosks,
            "skipped": self.skipped,
        }


def migrate_accounts_file(register: Register, path: Path) -> Migrated | None:
    """Move the accounts file at `path` into the register; None when there is none."""
    if not path.is_file():
        return None
    if register.path is not None and register.path.resolve() == path.resolve():
        return None
    users, kiosks = _read(path)
    skipped = 0
    try:
        with register.write() as s:
            for values in users:
                skipped += _put(s, UserRow, values["username"], values)
            for values in kiosks:
                skipped += _put(s, KioskRow, values["id"], values)
    except SQLAlchemyError as exc:
        raise RegisterError(
            f"cannot migrate {path.name} into the register (nothing was changed): {exc}"
        ) from exc
    target = path.with_name(path.name + MIGRATED_SUFFIX)
    path.rename(target)
    for side in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + side).unlink()  # empty after the checkpoint in _read
    done = Migrated(
        source=path.name,
        users=len(users),
        kiosks=len(kiosks),
        revoked_kiosks=sum(1 for k in kiosks if k["revoked_at"] is not None),
        skipped=skipped,
    )
    log.warning("accounts file migrated into the register", extra=done.to_json())
    return done


def _read(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what a WAL still holds, in the file
            return _users(db), _kiosks(db)
        finally:
            db.close()
    except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
        raise RegisterError(
            f"cannot migrate {path.name} into the register (the file is left as it was): {exc}"
        ) from exc


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _users(db: sqlite3.Connection) -> list[dict[str, Any]]:
    have = _columns(db, "users")
    if not have:
        return []
    extra = [c for c in ("disabled", "created_at") if c in have]
    cols = [*_USER_COLS, *extra]
    out = []
    for row in db.execute(f"SELECT {', '.join(cols)} FROM users ORDER BY username"):
        values = dict(zip(cols, row, strict=True))
        values["items"] = list(json.loads(values["items"] or "[]"))
        if values["role"] == "admin":  # 三员分立: the old admin is the system admin
            values["role"] = "sysadmin"
        values["disabled"] = bool(values.get("disabled", 0))
        values["created_at"] = float(values.get("created_at", 0.0))
        out.append(values)
    return out


def _kiosks(db: sqlite3.Connection) -> list[dict[str, Any]]:
    have = _columns(db, "kiosks")
    if not have:
        return []
    cols = [*_KIOSK_COLS, *(["revoked_at"] if "revoked_at" in have else [])]
    out = []
    for row in db.execute(f"SELECT {', '.join(cols)} FROM kiosks ORDER BY id"):
        values = dict(zip(cols, row, strict=True))
        values.setdefault("revoked_at", None)
        out.append(values)
    return out


def _put(s: Any, model: type[UserRow] | type[KioskRow], key: str, values: dict[str, Any]) -> int:
    """Insert the row; 1 when the register already had it identically (skipped)."""
    existing = s.get(model, key)
    if existing is None:
        s.add(model(**values))
        return 0
    if all(getattr(existing, k) == v for k, v in values.items()):
        return 1
    raise RegisterError(
        f"cannot migrate the accounts file: the register already has a different "
        f"{model.__tablename__[:-1]} {key!r}; nothing was changed"
    )
