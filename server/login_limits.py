"""Limits on password guessing (等保 2.0 level 3: 登录失败处理).

Two layers, both kept in the Store (shared by every server process):

- per address (an IPv4 address, or the /64 of an IPv6 one): after
  `auth.address_max_failures` failed sign-ins within `auth.address_window_seconds`,
  the address is refused (429) without a password check for the rest of the window;
- per account: `auth.max_failed_logins` failures within `auth.lockout_window_minutes`
  lock the account for `auth.lockout_minutes`, from every address, whatever
  password comes next (the right one too). A system admin may unlock it early.
  Typed usernames that are no account count and lock the same way, so the
  answers never tell an account from a guess.

Store keys carry a keyed hash of the typed username, never the name itself. Lock
ends are compared with `LoginLimiter.clock` (tests move it); the Store's own
expiry only cleans up afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from server.config import AuthConfig
from server.store import Store


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused before its password was checked, or by it."""

    kind: str  # "throttled" (the address) or "locked" (the account, here or everywhere)
    retry_after: int
    new: bool = False  # this attempt set the lock; else a repeat


def address_bucket(remote: str | None) -> str:
    """The unit an address limit applies to: the IPv4 address, or the IPv6 /64."""
    if not remote:
        return "unknown"
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address(request: web.Request, trusted_proxies: list[str]) -> str | None:
    """The caller's address; behind a listed proxy, the last X-Forwarded-For hop."""
    remote = request.remote
    if remote in trusted_proxies:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            return hops[-1]
    return remote


def keyed_hash(secret: str, text: str, length: int = 16) -> str:
    """HMAC-SHA256 of text with the server secret, hex, truncated."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:length]


class LoginLimiter:
    def __init__(
        self, store: Store, cfg: AuthConfig, secret: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.cfg = cfg
        self.secret = secret
        self.clock = clock

    @property
    def lock_seconds(self) -> float:
        return self.cfg.lockout_minutes * 60

    def _user_key(self, username: str) -> str:
        return keyed_hash(self.secret, username, 24)

    async def _remaining(self, key: str) -> int | None:
        raw = await self.store.kv_get(key)
        if raw is None:
            return None
        left = float(raw) - self.clock()
        return max(1, math.ceil(left)) if left > 0 else None

    async def check(self, username: str, bucket: str) -> Refusal | None:
        """A refusal when this attempt must not be let in, whatever its password."""
        left = await self._remaining(f"login:addr-block:{bucket}")
        if left is not None:
            return Refusal("throttled", left)
        left = await self.locked_for(username)
        if left is not None:
            return Refusal("locked", left)
        return None

    async def locked_for(self, username: str) -> int | None:
        """Seconds the account stays locked, or None."""
        return await self._remaining(f"login:lock:{self._user_key(username)}")

    async def address_failed(self, bucket: str) -> Refusal | None:
        """Count a refused attempt against its address; a refusal when this set the block."""
        window = self.cfg.address_window_seconds
        if await self.store.kv_incr(f"login:addr:{bucket}", window) < (
            self.cfg.address_max_failures
        ):
            return None
        await self.store.kv_delete(f"login:addr:{bucket}")
        await self.store.kv_set(f"login:addr-block:{bucket}", str(self.clock() + window), window)
        return Refusal("throttled", max(1, math.ceil(window)), new=True)

    async def failed(self, username: str, bucket: str) -> Refusal | None:
        """Count a wrong password (or code); a refusal when this failure set a limit."""
        now = self.clock()
        refusal = await self.address_failed(bucket)
        user = self._user_key(username)
        span = self.cfg.lockout_window_minutes * 60
        since_key, count_key = f"login:fail-since:{user}", f"login:fail:{user}"
        since = await self.store.kv_get(since_key)
        if since is None or now - float(since) > span:
            await self.store.kv_delete(count_key)
            await self.store.kv_set(since_key, str(now), span)
        if await self.store.kv_incr(count_key, span) >= self.cfg.max_failed_logins:
            await self.unlock(username)
            seconds = self.lock_seconds
            await self.store.kv_set(f"login:lock:{user}", str(now + seconds), seconds)
            refusal = Refusal("locked", max(1, math.ceil(seconds)), new=True)
        return refusal

    async def succeeded(self, username: str, bucket: str) -> None:
        user = self._user_key(username)
        await self.store.kv_delete(f"login:fail:{user}")
        await self.store.kv_delete(f"login:fail-since:{user}")

    async def unlock(self, username: str) -> bool:
        """End a lock and forget the failures; whether the account was locked."""
        was = await self.locked_for(username) is not None
        user = self._user_key(username)
        for key in (f"login:lock:{user}", f"login:fail:{user}", f"login:fail-since:{user}"):
            await self.store.kv_delete(key)
        return was
