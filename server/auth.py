"""Who is calling: staff sessions (cookie), kiosk devices (bearer token).

Web sessions live in the Store, so every server process recognises them;
they expire after `auth.session_idle_minutes` without a request. Failed
sign-ins are counted per username; `auth.max_failed_logins` in a row lock
the account for `auth.lockout_minutes`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from server.accounts import AccountDB, User
from server.config import AuthConfig
from server.store import Store

COOKIE = "rw_session"
CSRF_HEADER = "X-CSRF-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Identity:
    """An authenticated caller. `subject` is stable: the username or device id."""

    subject: str
    role: str
    name: str
    place: str | None = None
    items: tuple[str, ...] = ()
    level: str | None = None
    session_id: str | None = None  # web session (staff only)
    csrf: str | None = None

    @property
    def holder(self) -> str:
        """Queue holder key: one ticket per kiosk device or agent."""
        return f"{self.role}:{self.subject}"

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("session_id")
        data.pop("csrf")
        data["items"] = list(self.items)
        return data


class LoginLocked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("account locked")
        self.retry_after = retry_after


class Authenticator:
    def __init__(self, store: Store, accounts: AccountDB, cfg: AuthConfig) -> None:
        self.store = store
        self.accounts = accounts
        self.cfg = cfg

    @property
    def idle_seconds(self) -> float:
        return self.cfg.session_idle_minutes * 60

    async def login(self, username: str, password: str) -> tuple[Identity | None, str]:
        """Check a password; returns (identity, outcome) where outcome is
        "ok", "bad_credentials" or raises LoginLocked."""
        lock_key = f"login:lock:{username}"
        if await self.store.kv_get(lock_key):
            raise LoginLocked(self.cfg.lockout_minutes * 60)
        user = await asyncio.to_thread(self.accounts.check_password, username, password)
        fail_key = f"login:fail:{username}"
        if user is None:
            failures = await self.store.kv_incr(fail_key, self.cfg.lockout_minutes * 60)
            if failures >= self.cfg.max_failed_logins:
                await self.store.kv_set(lock_key, "1", self.cfg.lockout_minutes * 60)
                await self.store.kv_delete(fail_key)
                raise LoginLocked(self.cfg.lockout_minutes * 60)
            return None, "bad_credentials"
        await self.store.kv_delete(fail_key)
        return await self._open_session(user), "ok"

    async def _open_session(self, user: User) -> Identity:
        sid = secrets.token_urlsafe(32)
        ident = _staff_identity(user, sid, secrets.token_urlsafe(24))
        payload = {"username": user.username, "csrf": ident.csrf}
        await self.store.kv_set(f"websess:{sid}", json.dumps(payload), self.idle_seconds)
        return ident

    async def logout(self, ident: Identity) -> None:
        if ident.session_id:
            await self.store.kv_delete(f"websess:{ident.session_id}")

    async def from_cookie(self, sid: str) -> Identity | None:
        raw = await self.store.kv_get(f"websess:{sid}")
        if raw is None:
            return None
        payload = json.loads(raw)
        user = self.accounts.get_user(payload["username"])
        if user is None or user.disabled:
            await self.store.kv_delete(f"websess:{sid}")
            return None
        await self.store.kv_expire(f"websess:{sid}", self.idle_seconds)
        return _staff_identity(user, sid, payload["csrf"])

    def from_token(self, token: str) -> Identity | None:
        kiosk = self.accounts.kiosk_by_token(token)
        if kiosk is None:
            return None
        return Identity(subject=kiosk.id, role="kiosk", name=kiosk.name, place=kiosk.place)

    async def identify(self, request: web.Request) -> Identity | None:
        """Credentials only: cookie, Authorization bearer, or ?token= on /ws."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.from_token(header[7:].strip())
        if request.path == "/ws" and "token" in request.query:
            return self.from_token(request.query["token"])
        sid = request.cookies.get(COOKIE)
        if sid:
            return await self.from_cookie(sid)
        return None


IDENTITY = web.RequestKey("identity", Identity)
"""Set on every request by the authorise middleware (None when anonymous)."""


def _staff_identity(user: User, sid: str, csrf: str) -> Identity:
    return Identity(
        subject=user.username,
        role=user.role,
        name=user.display_name,
        place=user.place,
        items=user.items,
        level=user.level,
        session_id=sid,
        csrf=csrf,
    )


# -- route authorisation ---------------------------------------------------
# Every handler declares who may call it; the middleware denies anything
# undeclared, so a new route is closed until someone opens it.

ROLES_ATTR = "__rw_roles__"
PUBLIC = "public"


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """Roles that may call the handler; `allow(PUBLIC)` for anonymous routes."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLES_ATTR, frozenset(roles))
        return handler

    return mark


def allowed_roles(handler: Any) -> frozenset[str] | None:
    return getattr(handler, ROLES_ATTR, None)
