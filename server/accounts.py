"""Staff accounts and kiosk devices, kept in the register (server/register/).

Passwords are hashed with Argon2id (memory-hard). Kiosk device tokens are
random and stored only as SHA-256 digests; the plain token is shown once.
Each method is one short transaction of its own, safe from any thread.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.config import PasswordConfig
from server.password_policy import PASSWORD_MAX, policy_problem
from server.register.db import Register, sqlite_url
from server.register.models import KioskRow, PasswordHistoryRow, UserRow

# The three administrators (三员分立): accounts/devices/config, roles/policy, audit logs.
ADMIN_ROLES = ("sysadmin", "secadmin", "auditadmin")
# township_admin (乡镇管理员) is a business role: it confirms its village points' ledgers.
BUSINESS_ROLES = ("reviewer", "supervisor", "agent", "township_admin")
STAFF_ROLES = (*BUSINESS_ROLES, *ADMIN_ROLES)
ROLE_ALIASES = {"admin": "sysadmin"}  # the role before 三员分立 (migration 0008)
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 64
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
    ambiguous, self (an admin acting on their own account), separation (三员分立);
    password: too_short, too_long, classes, username, reused, wrong.
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
    must_change_password: bool = False
    totp: bool = False  # a second factor is enrolled


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


def check_username(username: str) -> None:
    if not username or len(username) > USERNAME_MAX or not username.isprintable():
        raise AccountError("username", "invalid", f"1 to {USERNAME_MAX} printable characters")


def check_password_rules(password: str, username: str, policy: PasswordConfig) -> None:
    problem = policy_problem(password, username, policy)
    if problem is not None:
        raise AccountError("password", *problem)


def check_display_name(name: str) -> None:
    if len(name) > DISPLAY_NAME_MAX:
        raise AccountError("display_name", "too_long", f"at most {DISPLAY_NAME_MAX} characters")
    if not name.isprintable():
        raise AccountError("display_name", "invalid", "printable characters only")


def check_role_fields(role: str, items: tuple[str, ...] | list[str], place: str | None) -> None:
    """What a role needs: an agent is bound to a place, a reviewer serves items."""
    if role not in STAFF_ROLES:  # one role per account: never two of the admin roles
        raise AccountError(
            "role", "invalid", f"expected one of {', '.join(STAFF_ROLES)}, got {role!r}"
        )
    if role == "agent" and not place:
        raise AccountError("place", "required", "an assisting agent is bound to a place (--place)")
    if role == "township_admin" and not place:
        raise AccountError("place", "required", "a township admin is bound to a township (--place)")
    if role == "reviewer" and not items:
        raise AccountError("items", "required", "a reviewer serves at least one item (--items)")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountDB:
    """Accounts in a register: one given (shared with the cases), or a SQLite
    register file of its own when given a path (tests, tools)."""

    def __init__(
        self,
        target: Register | Path,
        *,
        own: bool = False,
        policy: PasswordConfig | None = None,
    ) -> None:
        self.policy = policy or PasswordConfig()
        if isinstance(target, Register):
            self.register, self._owned = target, own
        else:
            self.register, self._owned = Register(sqlite_url(target)), True
            self.register.prepare()

    def close(self) -> None:
        if self._owned:
            self.register.close()

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
        must_change: bool = False,
    ) -> User:
        """`must_change`: the password was chosen by someone else (an admin): the
        person changes it at their first sign-in."""
        role = ROLE_ALIASES.get(role, role)
        check_username(username)
        check_role_fields(role, items, place)
        check_password_rules(password, username, self.policy)
        if display_name is not None:
            check_display_name(display_name)
        digest = _hasher.hash(password)
        now = time.time()
        row = UserRow(
            username=username,
            role=role,
            display_name=display_name or username,
            password_hash=digest,
            items=list(items),
            place=place,
            level=level,
            disabled=False,
            created_at=now,
            must_change_password=must_change,
            password_changed_at=now,
        )
        try:
            with self.register.write() as s:
                s.add(row)
                s.flush()
                s.add(PasswordHistoryRow(username=username, password_hash=digest, set_at=now))
                user = _user(row)
        except IntegrityError:
            raise AccountError("username", "exists", f"{username!r} already exists") from None
        return user

    def set_password(self, username: str, password: str, *, must_change: bool = False) -> None:
        """A new password under the policy, not one of the last `policy.history`;
        `must_change`: set by an admin, to be changed at the next sign-in."""
        check_password_rules(password, username, self.policy)
        with self.register.read() as s:
            current = s.scalar(select(UserRow.password_hash).where(UserRow.username == username))
            if current is None:
                raise AccountError("username", "not_found", f"no account {username!r}")
            recent = list(
                s.scalars(
                    select(PasswordHistoryRow.password_hash)
                    .where(PasswordHistoryRow.username == username)
                    .order_by(PasswordHistoryRow.id.desc())
                    .limit(self.policy.history)
                )
            )
        if self.policy.history > 0:
            for old in dict.fromkeys([current, *recent]):
                if _matches(old, password):
                    raise AccountError(
                        "password", "reused", f"one of the last {self.policy.history} passwords"
                    )
        digest = _hasher.hash(password)
        now = time.time()
        with self.register.write() as s:
            row = self._row(s, username)
            row.password_hash = digest
            row.must_change_password = must_change
            row.password_changed_at = now
            s.add(PasswordHistoryRow(username=username, password_hash=digest, set_at=now))
            s.flush()
            keep = max(self.policy.history, 1)
            stale = s.scalars(
                select(PasswordHistoryRow)
                .where(PasswordHistoryRow.username == username)
                .order_by(PasswordHistoryRow.id.desc())
                .offset(keep)
            )
            for old_row in stale:
                s.delete(old_row)

    def change_own_password(self, username: str, old: str, new: str) -> None:
        """The person's own change: the current password first (code `wrong`)."""
        if self.check_password(username, old) is None:
            raise AccountError("old_password", "wrong", "the current password is wrong")
        self.set_password(username, new, must_change=False)

    def set_totp(self, username: str, secret: str | None) -> None:
        """Enrol a TOTP secret, or remove it (None: a sysadmin's recovery reset)."""
        with self.register.write() as s:
            self._row(s, username).totp_secret = secret

    def totp_secret(self, username: str) -> str | None:
        with self.register.read() as s:
            return s.scalar(select(UserRow.totp_secret).where(UserRow.username == username))

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self.register.write() as s:
            self._row(s, username).disabled = disabled

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
        with self.register.write() as s:
            row = self._row(s, username)
            old = _user(row)
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
            row.role, row.display_name, row.items = new.role, new.display_name, list(new.items)
            row.place, row.disabled = new.place, new.disabled
        return new, changed

    @staticmethod
    def _row(s: Session, username: str) -> UserRow:
        row = s.get(UserRow, username, with_for_update=True)
        if row is None:
            raise AccountError("username", "not_found", f"no account {username!r}")
        return row

    def get_user(self, username: str) -> User | None:
        with self.register.read() as s:
            row = s.get(UserRow, username)
            return _user(row) if row else None

    def users(self) -> list[User]:
        with self.register.read() as s:
            rows = s.scalars(select(UserRow).order_by(UserRow.role, UserRow.username))
            return [_user(r) for r in rows]

    def password_stamp(self, username: str) -> str | None:
        """A short fingerprint of the stored hash: it changes when the password does,
        so sign-ins made before a reset can be told apart."""
        with self.register.read() as s:
            stored = s.scalar(select(UserRow.password_hash).where(UserRow.username == username))
        return hashlib.sha256(stored.encode()).hexdigest()[:16] if stored else None

    def check_password(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled."""
        if len(password) > PASSWORD_MAX:
            return None  # no account has one this long; do not spend a hash on it
        with self.register.read() as s:
            row = s.get(UserRow, username)
            user = _user(row) if row else None
            stored = row.password_hash if row else _DUMMY_HASH
        if not _matches(stored, password):
            return None
        return user if user and not user.disabled else None

    def spend_a_hash(self, password: str) -> None:
        """The work of one password check, for answers that must take as long
        as one (a locked or unknown account)."""
        _matches(_DUMMY_HASH, password[:PASSWORD_MAX])

    # -- kiosks ------------------------------------------------------------
    def add_kiosk(self, name: str, place: str) -> tuple[Kiosk, str]:
        """Register a kiosk device; returns it and its bearer token (shown once)."""
        if not name or len(name) > KIOSK_NAME_MAX or not name.isprintable():
            raise AccountError("name", "invalid", f"1 to {KIOSK_NAME_MAX} printable characters")
        token = secrets.token_urlsafe(32)
        kiosk = Kiosk(
            id="k-" + secrets.token_hex(6), name=name, place=place, created_at=time.time()
        )
        with self.register.write() as s:
            s.add(
                KioskRow(
                    id=kiosk.id,
                    name=name,
                    place=place,
                    token_sha256=token_digest(token),
                    created_at=kiosk.created_at,
                )
            )
        return kiosk, token

    def kiosk_by_token(self, token: str) -> Kiosk | None:
        """The kiosk the token belongs to, unless it was revoked."""
        query = select(KioskRow).where(
            KioskRow.token_sha256 == token_digest(token), KioskRow.revoked_at.is_(None)
        )
        with self.register.read() as s:
            row = s.scalar(query)
            return _kiosk(row) if row else None

    def get_kiosk(self, kiosk_id: str) -> Kiosk | None:
        with self.register.read() as s:
            row = s.get(KioskRow, kiosk_id)
            return _kiosk(row) if row else None

    def find_kiosk(self, name_or_id: str) -> Kiosk:
        """One kiosk by id, or by name when that name is unique."""
        found = self.get_kiosk(name_or_id)
        if found is not None:
            return found
        with self.register.read() as s:
            rows = [
                _kiosk(r) for r in s.scalars(select(KioskRow).where(KioskRow.name == name_or_id))
            ]
        if not rows:
            raise AccountError("kiosk", "not_found", f"no kiosk with id or name {name_or_id!r}")
        if len(rows) > 1:
            ids = ", ".join(sorted(k.id for k in rows))
            raise AccountError(
                "kiosk", "ambiguous", f"several kiosks are named {name_or_id!r}: {ids}"
            )
        return rows[0]

    def revoke_kiosk(self, kiosk_id: str) -> tuple[Kiosk, bool]:
        """Revoke a kiosk's token for good; returns it and whether it was active until now."""
        with self.register.write() as s:
            row = s.get(KioskRow, kiosk_id, with_for_update=True)
            if row is None:
                raise AccountError("kiosk", "not_found", f"no kiosk {kiosk_id!r}")
            if row.revoked_at is not None:
                return _kiosk(row), False
            row.revoked_at = time.time()
            return _kiosk(row), True

    def display_name(self, holder: str) -> str:
        """A person-facing name for a queue holder (`kiosk:<id>` or `agent:<user>`)."""
        role, _, subject = holder.partition(":")
        if role == "kiosk":
            with self.register.read() as s:
                name = s.scalar(select(KioskRow.name).where(KioskRow.id == subject))
            return name or subject
        user = self.get_user(subject)
        return user.display_name if user else subject

    def kiosks(self) -> list[Kiosk]:
        with self.register.read() as s:
            rows = s.scalars(select(KioskRow).order_by(KioskRow.place, KioskRow.name))
            return [_kiosk(r) for r in rows]


def _matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(row: UserRow) -> User:
    return User(
        username=row.username,
        role=row.role,
        display_name=row.display_name,
        items=tuple(row.items),
        place=row.place,
        level=row.level,
        disabled=bool(row.disabled),
        must_change_password=bool(row.must_change_password),
        totp=row.totp_secret is not None,
    )


def _kiosk(row: KioskRow) -> Kiosk:
    return Kiosk(
        id=row.id,
        name=row.name,
        place=row.place,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )
