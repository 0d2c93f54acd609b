"""Staff accounts and kiosk devices, kept in SQLite in the data dir.

Passwords are hashed with Argon2id (memory-hard). Kiosk device tokens are
random and stored only as SHA-256 digests; the plain token is shown once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

STAFF_ROLES = ("reviewer", "supervisor", "agent", "admin")
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 64
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # sign-in refuses longer passwords unchecked: keep them signable
KIOSK_NAME_MAX = 100
_hasher = PasswordHasher()  # argon2id, 64 MiB, t=3 by default
# Verifying against this keeps the timing of unknown users like known ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class Unset:
    """Marks a keyword left out (where None is a meaningful value)."""


UNSET = Unset()


class AccountError(ValueError):
    """Invalid account data: the field, a stable code the pages translate, plain words.

    Codes: required, type, too_long, too_short, invalid, unknown, exists, not_found,
    ambiguous, self (an admin acting on their own account).
    """

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"error": "bad_field", "field": self.field, "code": self.code, "message": str(self)}


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str
    items: tuple[str, ...]
    place: str | None
    level: str | None
    disabled: bool


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str
    place: str
    revoked_at: float | None = None
    created_at: float = 0.0

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def expired(self, max_days: float, now: float | None = None) -> bool:
        """Past `max_days` since registration (0: tokens never expire)."""
        if max_days <= 0:
            return False
        return (now if now is not None else time.time()) > self.created_at + max_days * 86400


_SCHEMA = """
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
_KIOSK_COLS = "id, name, place, revoked_at, created_at"


def check_username(username: str) -> None:
    if not username or len(username) > USERNAME_MAX or not username.isprintable():
        raise AccountError("username", "invalid", f"1 to {USERNAME_MAX} printable characters")


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError("password", "too_short", f"at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise AccountError("password", "too_long", f"at most {PASSWORD_MAX} characters")


def check_display_name(name: str) -> None:
    if len(name) > DISPLAY_NAME_MAX:
        raise AccountError("display_name", "too_long", f"at most {DISPLAY_NAME_MAX} characters")
    if not name.isprintable():
        raise AccountError("display_name", "invalid", "printable characters only")


def check_role_fields(role: str, items: tuple[str, ...] | list[str], place: str | None) -> None:
    """What a role needs: an agent is bound to a place, a reviewer serves items."""
    if role not in STAFF_ROLES:
        raise AccountError(
            "role", "invalid", f"expected one of {', '.join(STAFF_ROLES)}, got {role!r}"
        )
    if role == "agent" and not place:
        raise AccountError("place", "required", "an assisting agent is bound to a place (--place)")
    if role == "reviewer" and not items:
        raise AccountError("items", "required", "a reviewer serves at least one item (--items)")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountDB:
    """A small SQLite database; safe to share between processes (WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(kiosks)")}
        if "revoked_at" not in columns:  # databases made before kiosks could be revoked
            self._db.execute("ALTER TABLE kiosks ADD COLUMN revoked_at REAL")

    def close(self) -> None:
        self._db.close()

    # -- staff -------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str | None = None,
        items: list[str] | tuple[str, ...] = (),
        place: str | None = None,
        level: str | None = None,
    ) -> User:
        check_username(username)
        check_role_fields(role, items, place)
        check_password_rules(password)
        if display_name is not None:
            check_display_name(display_name)
        try:
            self._db.execute(
                "INSERT INTO users (username, role, display_name, password_hash, items, place,"
                " level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    username,
                    role,
                    display_name or username,
                    _hasher.hash(password),
                    json.dumps(list(items)),
                    place,
                    level,
                    time.time(),
                ),
            )
        except sqlite3.IntegrityError:
            raise AccountError("username", "exists", f"{username!r} already exists") from None
        user = self.get_user(username)
        assert user is not None
        return user

    def set_password(self, username: str, password: str) -> None:
        check_password_rules(password)
        self._require(username)
        self._db.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (_hasher.hash(password), username),
        )

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._require(username)
        self._db.execute(
            "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
        )

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        display_name: str | None = None,
        items: list[str] | tuple[str, ...] | None = None,
        place: str | Unset | None = UNSET,
        disabled: bool | None = None,
    ) -> tuple[User, list[str]]:
        """Change the given fields (None/UNSET: keep); returns the user and what changed."""
        old = self._require(username)
        new = User(
            username=old.username,
            role=role if role is not None else old.role,
            display_name=display_name if display_name is not None else old.display_name,
            items=tuple(items) if items is not None else old.items,
            place=old.place if isinstance(place, Unset) else place,
            level=old.level,
            disabled=disabled if disabled is not None else old.disabled,
        )
        check_role_fields(new.role, new.items, new.place)
        check_display_name(new.display_name)
        changed = [
            f
            for f in ("role", "display_name", "items", "place", "disabled")
            if getattr(old, f) != getattr(new, f)
        ]
        self._db.execute(
            "UPDATE users SET role = ?, display_name = ?, items = ?, place = ?, disabled = ?"
            " WHERE username = ?",
            (
                new.role,
                new.display_name,
                json.dumps(list(new.items)),
                new.place,
                int(new.disabled),
                username,
            ),
        )
        return new, changed

    def _require(self, username: str) -> User:
        user = self.get_user(username)
        if user is None:
            raise AccountError("username", "not_found", f"no account {username!r}")
        return user

    def get_user(self, username: str) -> User | None:
        row = self._db.execute(
            "SELECT username, role, display_name, items, place, level, disabled FROM users"
            " WHERE username = ?",
            (username,),
        ).fetchone()
        return _user(row) if row else None

    def users(self) -> list[User]:
        rows = self._db.execute(
            "SELECT username, role, display_name, items, place, level, disabled FROM users"
            " ORDER BY role, username"
        ).fetchall()
        return [_user(r) for r in rows]

    def password_stamp(self, username: str) -> str | None:
        """A short fingerprint of the stored hash: it changes when the password does,
        so sign-ins made before a reset can be told apart."""
        row = self._db.execute(
            "SELECT password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        return hashlib.sha256(row[0].encode()).hexdigest()[:16] if row else None

    def check_password(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled."""
        if len(password) > PASSWORD_MAX:
            return None  # no account has one this long; do not spend a hash on it
        row = self._db.execute(
            "SELECT password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        try:
            _hasher.verify(row[0] if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        user = self.get_user(username)
        return user if user and not user.disabled else None

    # -- kiosks ------------------------------------------------------------
    def add_kiosk(self, name: str, place: str) -> tuple[Kiosk, str]:
        """Register a kiosk device; returns it and its bearer token (shown once)."""
        if not name or len(name) > KIOSK_NAME_MAX or not name.isprintable():
            raise AccountError("name", "invalid", f"1 to {KIOSK_NAME_MAX} printable characters")
        token = secrets.token_urlsafe(32)
        kiosk = Kiosk(
            id="k-" + secrets.token_hex(6), name=name, place=place, created_at=time.time()
        )
        self._db.execute(
            "INSERT INTO kiosks (id, name, place, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (kiosk.id, name, place, token_digest(token), kiosk.created_at),
        )
        return kiosk, token

    def kiosk_by_token(self, token: str) -> Kiosk | None:
        """The kiosk the token belongs to, unless it was revoked."""
        row = self._db.execute(
            f"SELECT {_KIOSK_COLS} FROM kiosks WHERE token_sha256 = ? AND revoked_at IS NULL",
            (token_digest(token),),
        ).fetchone()
        return Kiosk(*row) if row else None

    def get_kiosk(self, kiosk_id: str) -> Kiosk | None:
        row = self._db.execute(
            f"SELECT {_KIOSK_COLS} FROM kiosks WHERE id = ?", (kiosk_id,)
        ).fetchone()
        return Kiosk(*row) if row else None

    def find_kiosk(self, name_or_id: str) -> Kiosk:
        """One kiosk by id, or by name when that name is unique."""
        found = self.get_kiosk(name_or_id)
        if found is not None:
            return found
        rows = self._db.execute(
            f"SELECT {_KIOSK_COLS} FROM kiosks WHERE name = ?", (name_or_id,)
        ).fetchall()
        if not rows:
            raise AccountError("kiosk", "not_found", f"no kiosk with id or name {name_or_id!r}")
        if len(rows) > 1:
            ids = ", ".join(r[0] for r in rows)
            raise AccountError(
                "kiosk", "ambiguous", f"several kiosks are named {name_or_id!r}: {ids}"
            )
        return Kiosk(*rows[0])

    def revoke_kiosk(self, kiosk_id: str) -> tuple[Kiosk, bool]:
        """Revoke a kiosk's token for good; returns it and whether it was active until now."""
        kiosk = self.get_kiosk(kiosk_id)
        if kiosk is None:
            raise AccountError("kiosk", "not_found", f"no kiosk {kiosk_id!r}")
        if kiosk.revoked:
            return kiosk, False
        self._db.execute(
            "UPDATE kiosks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), kiosk_id),
        )
        updated = self.get_kiosk(kiosk_id)
        assert updated is not None
        return updated, True

    def display_name(self, holder: str) -> str:
        """A person-facing name for a queue holder (`kiosk:<id>` or `agent:<user>`)."""
        role, _, subject = holder.partition(":")
        if role == "kiosk":
            row = self._db.execute("SELECT name FROM kiosks WHERE id = ?", (subject,)).fetchone()
            return row[0] if row else subject
        user = self.get_user(subject)
        return user.display_name if user else subject

    def kiosks(self) -> list[Kiosk]:
        rows = self._db.execute(f"SELECT {_KIOSK_COLS} FROM kiosks ORDER BY place, name")
        return [Kiosk(*r) for r in rows.fetchall()]


def _user(row: tuple) -> User:
    return User(
        username=row[0],
        role=row[1],
        display_name=row[2],
        items=tuple(json.loads(row[3])),
        place=row[4],
        level=row[5],
        disabled=bool(row[6]),
    )
