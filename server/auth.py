"""Who is calling: staff sessions (cookie), kiosk devices (bearer token).

Web sessions live in the Store, so every server process recognises them;
they expire after `auth.session_idle_minutes` without a request (or a
signaling message other than `ping`, or while in a video session). Failed
sign-ins are limited per address and per account and address
(`server.login_limits`).
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
from server.login_limits import LoginLimiter, Refusal
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


class LoginRefused(Exception):
    """The attempt was refused by a limit (`refusal.kind`: throttled or locked)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"sign-in {refusal.kind}")
        self.refusal = refusal
        self.retry_after = refusal.retry_after


class Authenticator:
    def __init__(self, store: Store, accounts: AccountDB, cfg: AuthConfig, secret: str) -> None:
        self.store = store
        self.accounts = accounts
        self.cfg = cfg
        self.limits = LoginLimiter(store, cfg, secret)

    @property
    def idle_seconds(self) -> float:
        return self.cfg.session_idle_minutes * 60

    async def login(self, username: str, password: str, bucket: str) -> Identity | None:
        """Check a password from an address bucket: the identity, None when wrong,
        or LoginRefused (before checking when a limit already holds, or when this
        failure set one: then `refusal.new`)."""
        refusal = await self.limits.check(username, bucket)
        if refusal is not None:
            raise LoginRefused(refusal)
        user = await asyncio.to_thread(self.accounts.check_password, username, password)
        if user is None:
            refusal = await self.limits.failed(username, bucket)
            if refusal is not None:
                raise LoginRefused(refusal)
            return None
        await self.limits.succeeded(username, bucket)
        return await self._open_session(user)

    async def _open_session(self, user: User) -> Identity:
        sid = secrets.token_urlsafe(32)
        ident = _staff_identity(user, sid, secrets.token_urlsafe(24))
        payload = {
            "username": user.username,
            "csrf": ident.csrf,
            "pw": self.accounts.password_stamp(user.username),
        }
        await self.store.kv_set(f"websess:{sid}", json.dumps(payload), self.idle_seconds)
        return ident

    async def logout(self, ident: Identity) -> None:
        if ident.session_id:
            await self.store.kv_delete(f"websess:{ident.session_id}")

    async def session_alive(self, sid: str) -> bool:
        """The web session exists and was opened with the account's current password."""
        raw = await self.store.kv_get(f"websess:{sid}")
        if raw is None:
            return False
        return self._current_password(json.loads(raw))

    def _current_password(self, payload: dict) -> bool:
        """The session was opened with the account's current password (a reset ends it)."""
        return payload.get("pw") == self.accounts.password_stamp(payload["username"])

    async def touch(self, sid: str) -> None:
        """Count as activity: the session's idle time starts again."""
        await self.store.kv_expire(f"websess:{sid}", self.idle_seconds)

    async def from_cookie(self, sid: str) -> Identity | None:
        raw = await self.store.kv_get(f"websess:{sid}")
        if raw is None:
            return None
        payload = json.loads(raw)
        user = self.accounts.get_user(payload["username"])
        if user is None or user.disabled or not self._current_password(payload):
            await self.store.kv_delete(f"websess:{sid}")
            return None
        await self.store.kv_expire(f"websess:{sid}", self.idle_seconds)
        return _staff_identity(user, sid, payload["csrf"])

    def from_token(self, token: str) -> Identity | None:
        kiosk = self.accounts.kiosk_by_token(token)
        if kiosk is None or kiosk.expired(self.cfg.kiosk_token_days):
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
