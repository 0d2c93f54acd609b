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
_hasher = PasswordHasher()  # argon2id, 64 MiB, t=3 by default
# Verifying against this keeps the timing of unknown users like known ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """Invalid account data (named field, plain words)."""


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
    created_at REAL NOT NULL
);
"""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountDB:
    """A small SQLite database; safe to share between processes (WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

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
        if not username or len(username) > USERNAME_MAX or not username.isprintable():
            raise AccountError(f"username: 1 to {USERNAME_MAX} printable characters")
        if role not in STAFF_ROLES:
            raise AccountError(f"role: expected one of {', '.join(STAFF_ROLES)}, got {role!r}")
        if len(password) < 8:
            raise AccountError("password: at least 8 characters")
        if role == "agent" and not place:
            raise AccountError("place: an assisting agent is bound to a place (--place)")
        if role == "reviewer" and not items:
            raise AccountError("items: a reviewer serves at least one item (--items)")
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
            raise AccountError(f"username: {username!r} already exists") from None
        user = self.get_user(username)
        assert user is not None
        return user

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 8:
            raise AccountError("password: at least 8 characters")
        self._db.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (_hasher.hash(password), username),
        )

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._db.execute(
            "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
        )

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

    def check_password(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled."""
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
        if not name or len(name) > 100:
            raise AccountError("name: 1 to 100 characters")
        token = secrets.token_urlsafe(32)
        kiosk = Kiosk(id="k-" + secrets.token_hex(6), name=name, place=place)
        self._db.execute(
            "INSERT INTO kiosks (id, name, place, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (kiosk.id, name, place, token_digest(token), time.time()),
        )
        return kiosk, token

    def kiosk_by_token(self, token: str) -> Kiosk | None:
        row = self._db.execute(
            "SELECT id, name, place FROM kiosks WHERE token_sha256 = ?", (token_digest(token),)
        ).fetchone()
        return Kiosk(*row) if row else None

    def display_name(self, holder: str) -> str:
        """A person-facing name for a queue holder (`kiosk:<id>` or `agent:<user>`)."""
        role, _, subject = holder.partition(":")
        if role == "kiosk":
            row = self._db.execute("SELECT name FROM kiosks WHERE id = ?", (subject,)).fetchone()
            return row[0] if row else subject
        user = self.get_user(subject)
        return user.display_name if user else subject

    def kiosks(self) -> list[Kiosk]:
        rows = self._db.execute("SELECT id, name, place FROM kiosks ORDER BY place, name")
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
