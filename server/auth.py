"""Who is calling: staff sessions (cookie), kiosk devices (bearer token).

Web sessions live in the Store, so every server process recognises them. A
session ends after `auth.session_idle_minutes` without a request (or a
signaling message other than `ping`, or while in a video session), after
`auth.session_max_hours` whatever the activity, when the password changes,
and at "sign out everywhere". Idle and lifetime are measured with
`Authenticator.clock` (tests move it); the Store's expiry is only a backstop.

A session may be *restricted* (`Identity.restricted`): the password must be
changed (first sign-in, admin reset) or a TOTP second factor enrolled (the role
needs one): until then only routes marked `restricted_ok` answer. Failed
sign-ins are limited per address and per account (`server.login_limits`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from server.accounts import STAFF_ROLES, AccountDB, User
from server.config import AuthConfig
from server.login_limits import LoginLimiter, Refusal
from server.store import Store
from server.totp import TotpGuard

COOKIE = "rw_session"
INSPECTOR_TOKEN_PREFIX = "rwi_"  # server/inspection.py TOKEN_PREFIX
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
    restricted: str | None = None  # "password" (must change) or "totp" (must enrol)

    @property
    def holder(self) -> str:
        """Queue holder key: one ticket per kiosk device or agent."""
        return f"{self.role}:{self.subject}"

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("session_id")
        data.pop("csrf")
        if data["restricted"] is None:
            data.pop("restricted")
        data["items"] = list(self.items)
        return data


class LoginRefused(Exception):
    """The attempt was refused by a limit (`refusal.kind`: throttled or locked)."""

    def __init__(self, refusal: Refusal, throttled: Refusal | None = None) -> None:
        super().__init__(f"sign-in {refusal.kind}")
        self.refusal = refusal
        self.retry_after = refusal.retry_after
        self.throttled = throttled  # this refusal also blocked its address (new)


class SecondFactor(Exception):
    """The password was right; the TOTP code is missing (`totp_required`) or wrong."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Authenticator:
    def __init__(
        self,
        store: Store,
        accounts: AccountDB,
        cfg: AuthConfig,
        secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.cfg = cfg
        self.limits = LoginLimiter(store, cfg, secret, clock)
        self.totp = TotpGuard(store, cfg.totp_issuer, clock)
        self._clock = clock
        # 云踏勘: an inspector's one-time token (server/inspection.py) -> its identity.
        self.inspector_lookup: Callable[[str], Awaitable[Identity | None]] | None = None

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        """One clock for idle time, lifetimes, locks and TOTP steps."""
        self._clock = self.limits.clock = self.totp.clock = clock

    @property
    def idle_seconds(self) -> float:
        return self.cfg.session_idle_minutes * 60

    @property
    def max_seconds(self) -> float:
        return self.cfg.session_max_hours * 3600

    async def login(
        self, username: str, password: str, bucket: str, totp: str | None = None
    ) -> Identity | None:
        """Check a password (and TOTP code) from an address bucket: the identity,
        None when wrong, LoginRefused (a limit holds, or this failure set one: then
        `refusal.new`), or SecondFactor. A locked account is refused after the same
        work as any other attempt (one password hash), whatever the password."""
        refusal = await self.limits.check(username, bucket)
        if refusal is not None:
            if refusal.kind == "locked":
                await asyncio.to_thread(self.accounts.spend_a_hash, password)
                # Hammering a locked account still counts against the address.
                raise LoginRefused(refusal, await self.limits.address_failed(bucket))
            raise LoginRefused(refusal)
        user = await asyncio.to_thread(self.accounts.check_password, username, password)
        if user is not None and user.totp:
            if not totp:
                raise SecondFactor("totp_required")
            secret = self.accounts.totp_secret(username) or ""
            if not await self.totp.accept(username, secret, totp):
                refusal = await self.limits.failed(username, bucket)
                if refusal is not None:
                    raise LoginRefused(refusal)
                raise SecondFactor("bad_totp")
        if user is None:
            refusal = await self.limits.failed(username, bucket)
            if refusal is not None:
                raise LoginRefused(refusal)
            return None
        await self.limits.succeeded(username, bucket)
        return await self._open_session(user)

    def restriction(self, user: User) -> str | None:
        if user.must_change_password:
            return "password"
        if user.role in self.cfg.totp_required_roles and not user.totp:
            return "totp"
        return None

    async def _open_session(self, user: User) -> Identity:
        sid = secrets.token_urlsafe(32)
        ident = _staff_identity(user, sid, secrets.token_urlsafe(24), self.restriction(user))
        now = self.clock()
        payload = {
            "username": user.username,
            "csrf": ident.csrf,
            "pw": self.accounts.password_stamp(user.username),
            "created": now,
        }
        ttl = self._backstop()
        await self.store.kv_set(f"websess:{sid}", json.dumps(payload), ttl)
        await self.store.kv_set(f"websess-seen:{sid}", str(now), ttl)
        await self.store.set_add(f"websess-of:{user.username}", sid, self.max_seconds)
        return ident

    def _backstop(self) -> float:
        """Store expiry of session keys: past the idle time whatever the clock says."""
        return self.idle_seconds + 60

    async def logout(self, ident: Identity) -> None:
        if ident.session_id:
            await self._end(ident.session_id, ident.subject)

    async def _end(self, sid: str, username: str | None = None) -> None:
        await self.store.kv_delete(f"websess:{sid}")
        await self.store.kv_delete(f"websess-seen:{sid}")
        if username:
            await self.store.set_remove(f"websess-of:{username}", sid)

    async def logout_everywhere(self, username: str) -> int:
        """End every web session of the account (sockets: the caller closes them)."""
        key = f"websess-of:{username}"
        sids = await self.store.set_members(key)
        for sid in sids:
            await self._end(sid)
        for sid in sids:
            await self.store.set_remove(key, sid)
        return len(sids)

    async def restamp(self, sid: str) -> None:
        """After the person changed their own password: this session goes on
        (the others, opened with the old one, end)."""
        raw = await self.store.kv_get(f"websess:{sid}")
        if raw is None:
            return
        payload = json.loads(raw)
        payload["pw"] = self.accounts.password_stamp(payload["username"])
        await self.store.kv_set(f"websess:{sid}", json.dumps(payload), self._backstop())

    async def _live_payload(self, sid: str) -> dict[str, Any] | None:
        """The session's payload while it lives (idle, lifetime, password), else
        None (and it is ended)."""
        raw = await self.store.kv_get(f"websess:{sid}")
        if raw is None:
            return None
        payload = json.loads(raw)
        now = self.clock()
        seen_raw = await self.store.kv_get(f"websess-seen:{sid}")
        seen = float(seen_raw) if seen_raw is not None else payload.get("created", now)
        if (
            now - payload.get("created", now) > self.max_seconds
            or now - seen > self.idle_seconds
            or not self._current_password(payload)
        ):
            await self._end(sid, payload.get("username"))
            return None
        return payload

    async def session_alive(self, sid: str) -> bool:
        """The web session lives: not idle, not past its lifetime, current password."""
        return await self._live_payload(sid) is not None

    async def session_left(self, sid: str) -> tuple[float, float] | None:
        """(idle seconds left, lifetime seconds left) without counting as activity."""
        payload = await self._live_payload(sid)
        if payload is None:
            return None
        now = self.clock()
        seen_raw = await self.store.kv_get(f"websess-seen:{sid}")
        seen = float(seen_raw) if seen_raw is not None else payload["created"]
        lifetime = self.max_seconds - (now - payload["created"])
        return min(self.idle_seconds - (now - seen), lifetime), lifetime

    def _current_password(self, payload: dict) -> bool:
        """The session was opened with the account's current password (a reset ends it)."""
        return payload.get("pw") == self.accounts.password_stamp(payload["username"])

    async def touch(self, sid: str) -> None:
        """Count as activity: the session's idle time starts again."""
        ttl = self._backstop()
        if await self.store.kv_expire(f"websess:{sid}", ttl):
            await self.store.kv_set(f"websess-seen:{sid}", str(self.clock()), ttl)

    async def from_cookie(self, sid: str, *, touch: bool = True) -> Identity | None:
        payload = await self._live_payload(sid)
        if payload is None:
            return None
        user = self.accounts.get_user(payload["username"])
        if user is None or user.disabled:
            await self._end(sid, payload["username"])
            return None
        if touch:
            await self.touch(sid)
        return _staff_identity(user, sid, payload["csrf"], self.restriction(user))

    async def from_token(self, token: str) -> Identity | None:
        if token.startswith(INSPECTOR_TOKEN_PREFIX):
            return await self.inspector_lookup(token) if self.inspector_lookup else None
        kiosk = self.accounts.kiosk_by_token(token)
        if kiosk is None or kiosk.expired(self.cfg.kiosk_token_days):
            return None
        return Identity(subject=kiosk.id, role="kiosk", name=kiosk.name, place=kiosk.place)

    async def identify(self, request: web.Request, *, touch: bool = True) -> Identity | None:
        """Credentials only: cookie, Authorization bearer, or ?token= on /ws."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return await self.from_token(header[7:].strip())
        if request.path == "/ws" and "token" in request.query:
            return await self.from_token(request.query["token"])
        sid = request.cookies.get(COOKIE)
        if sid:
            return await self.from_cookie(sid, touch=touch)
        return None


IDENTITY = web.RequestKey("identity", Identity)
"""Set on every request by the authorise middleware (None when anonymous)."""


def _staff_identity(user: User, sid: str, csrf: str, restricted: str | None) -> Identity:
    return Identity(
        subject=user.username,
        role=user.role,
        name=user.display_name,
        place=user.place,
        items=user.items,
        level=user.level,
        session_id=sid,
        csrf=csrf,
        restricted=restricted,
    )


# -- route authorisation ---------------------------------------------------
# Every handler declares who may call it; the middleware denies anything
# undeclared, so a new route is closed until someone opens it.

ROLES_ATTR = "__rw_roles__"
RESTRICTED_ATTR = "__rw_restricted_ok__"
NO_TOUCH_ATTR = "__rw_no_touch__"
PUBLIC = "public"
STAFF = STAFF_ROLES  # every staff role: allow(*STAFF)


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """Roles that may call the handler; `allow(PUBLIC)` for anonymous routes."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLES_ATTR, frozenset(roles))
        return handler

    return mark


def allowed_roles(handler: Any) -> frozenset[str] | None:
    return getattr(handler, ROLES_ATTR, None)


def restricted_ok(handler: Handler) -> Handler:
    """A route a restricted session may call (changing the password, enrolling a
    second factor, signing out): every other route refuses it."""
    setattr(handler, RESTRICTED_ATTR, True)
    return handler


def no_touch(handler: Handler) -> Handler:
    """Calling this route is not activity (the idle-warning poll)."""
    setattr(handler, NO_TOUCH_ATTR, True)
    return handler


def is_restricted_ok(handler: Any) -> bool:
    return getattr(handler, RESTRICTED_ATTR, False)


def is_no_touch(handler: Any) -> bool:
    return getattr(handler, NO_TOUCH_ATTR, False)
