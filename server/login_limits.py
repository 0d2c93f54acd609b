"""Limits on password guessing that a stranger cannot turn against the owner.

Three layers, all kept in the Store (shared by every server process):

- per address (an IPv4 address, or the /64 of an IPv6 one): after
  `auth.address_max_failures` failed sign-ins within `auth.address_window_seconds`,
  the address is refused (429) without a password check for the rest of the window;
- per account *and* address: `auth.max_failed_logins` failures in a row lock that
  account for that address only, progressively (`auth.lockout_base_seconds`,
  doubling at each new lock, at most `auth.lockout_minutes`). The owner at another
  address signs in as usual, so one address cannot lock another person out;
- per account: when `auth.account_lock_addresses` distinct addresses have been
  locked on the same account within the lockout window (a distributed attack),
  the account is locked for everyone, progressively too.

Store keys carry a keyed hash of the typed username, never the name itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from dataclasses import dataclass

from aiohttp import web

from server.config import AuthConfig
from server.store import Store

# How long a lock counts towards the next one being longer.
STRIKE_MEMORY_FACTOR = 4


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused before its password was checked, or by it."""

    kind: str  # "throttled" (the address) or "locked" (the account, here or everywhere)
    retry_after: int
    new: bool = False  # this attempt set the lock (audited once); else a repeat


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
    def __init__(self, store: Store, cfg: AuthConfig, secret: str) -> None:
        self.store = store
        self.cfg = cfg
        self.secret = secret

    @property
    def _lock_cap(self) -> float:
        return self.cfg.lockout_minutes * 60

    def _user_key(self, username: str) -> str:
        return keyed_hash(self.secret, username, 24)

    async def _remaining(self, key: str) -> int | None:
        raw = await self.store.kv_get(key)
        if raw is None:
            return None
        left = float(raw) - time.time()
        return max(1, math.ceil(left)) if left > 0 else None

    async def check(self, username: str, bucket: str) -> Refusal | None:
        """A refusal when this attempt must not even be checked."""
        user = self._user_key(username)
        left = await self._remaining(f"login:addr-block:{bucket}")
        if left is not None:
            return Refusal("throttled", left)
        for key in (f"login:lock:{user}", f"login:lock:{user}|{bucket}"):
            left = await self._remaining(key)
            if left is not None:
                return Refusal("locked", left)
        return None

    async def _lock(self, scope: str) -> int:
        """Lock `scope` for its next, longer duration; returns the seconds."""
        strikes = await self.store.kv_incr(
            f"login:strikes:{scope}", self._lock_cap * STRIKE_MEMORY_FACTOR
        )
        seconds = min(self._lock_cap, self.cfg.lockout_base_seconds * 2 ** (strikes - 1))
        await self.store.kv_set(f"login:lock:{scope}", str(time.time() + seconds), seconds)
        return max(1, math.ceil(seconds))

    async def failed(self, username: str, bucket: str) -> Refusal | None:
        """Count a wrong password; a refusal when this failure set a lock."""
        user = self._user_key(username)
        window = self.cfg.address_window_seconds
        refusal: Refusal | None = None
        if await self.store.kv_incr(f"login:addr:{bucket}", window) >= (
            self.cfg.address_max_failures
        ):
            await self.store.kv_delete(f"login:addr:{bucket}")
            until = str(time.time() + window)
            await self.store.kv_set(f"login:addr-block:{bucket}", until, window)
            refusal = Refusal("throttled", max(1, math.ceil(window)), new=True)
        pair = f"{user}|{bucket}"
        fail_key = f"login:fail:{pair}"
        if await self.store.kv_incr(fail_key, self._lock_cap) >= self.cfg.max_failed_logins:
            await self.store.kv_delete(fail_key)
            seconds = await self._lock(pair)
            refusal = Refusal("locked", seconds, new=True)
            locked_from = f"login:locked-from:{user}"
            await self.store.set_add(locked_from, bucket, self._lock_cap)
            if len(await self.store.set_members(locked_from)) >= self.cfg.account_lock_addresses:
                await self.store.kv_delete(locked_from)
                refusal = Refusal("locked", await self._lock(user), new=True)
        return refusal

    async def succeeded(self, username: str, bucket: str) -> None:
        await self.store.kv_delete(f"login:fail:{self._user_key(username)}|{bucket}")
