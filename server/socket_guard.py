"""Keeps open WebSockets honest about the credentials they were opened with.

A socket is authenticated once, at the upgrade. Sign-out, disabling an account
and revoking a kiosk close the affected sockets at once (`Connections.close_sockets`
over the bus). This guard covers everything that happens without such a call,
for instance a staff session that lapses, or a change made by the command
line in another process:

- every inbound frame is admitted only while the credentials still hold
  (staff: the web session exists and the account is enabled and unchanged;
  kiosk: the device is not revoked); otherwise the socket closes with 4401;
- a sweep every `auth.socket_check_seconds` does the same for idle sockets.

A message other than `ping` counts as activity for the staff session, and so
does being in a video session (a reviewer in a long call is not idle), also one
held by another process (`busy_elsewhere`: the holder's pin, server/cluster/).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from server.accounts import AccountDB
from server.auth import Authenticator, Identity
from server.connections import (
    CLOSE_ACCOUNT_CHANGED,
    CLOSE_ACCOUNT_DISABLED,
    CLOSE_KIOSK_EXPIRED,
    CLOSE_KIOSK_REVOKED,
    CLOSE_SESSION_EXPIRED,
    Connection,
    Connections,
)
from server.session_manager import SessionManager
from signaling.messages import peek_type

log = logging.getLogger(__name__)


def busy_holders(sessions: SessionManager) -> set[str]:
    """Holders taking part in a video session (their staff sessions stay alive)."""
    return {p.holder for s in sessions.active() for p in s.participants}


async def _no_inspection(ident: Identity) -> str | None:
    return "no inspection"


def _is_ping(text: str) -> bool:
    # The substring test spares a JSON parse for every other message.
    return '"ping"' in text and peek_type(text) == "ping"


class CredentialGuard:
    def __init__(
        self,
        auth: Authenticator,
        accounts: AccountDB,
        connections: Connections,
        interval: float,
    ) -> None:
        self.auth = auth
        self.accounts = accounts
        self.connections = connections
        self.interval = interval
        # 云踏勘: why an inspector's socket must close (server/inspection.py), or None.
        self.inspector_problem: Callable[[Identity], Awaitable[str | None]] = _no_inspection
        # With several processes: the holder is in a session held by another one.
        self.busy_elsewhere: Callable[[str], Awaitable[bool]] | None = None

    async def problem(self, ident: Identity) -> str | None:
        """Why these credentials no longer hold (a close reason), or None."""
        if ident.role == "inspector":
            return await self.inspector_problem(ident)
        if ident.role == "kiosk":
            kiosk = self.accounts.get_kiosk(ident.subject)
            if kiosk is None or kiosk.revoked:
                return CLOSE_KIOSK_REVOKED
            return CLOSE_KIOSK_EXPIRED if kiosk.expired(self.auth.cfg.kiosk_token_days) else None
        if ident.session_id is None or not await self.auth.session_alive(ident.session_id):
            return CLOSE_SESSION_EXPIRED
        user = self.accounts.get_user(ident.subject)
        if user is None or user.disabled:
            return CLOSE_ACCOUNT_DISABLED
        if (user.role, user.items, user.place) != (ident.role, ident.items, ident.place):
            return CLOSE_ACCOUNT_CHANGED
        return None

    async def admit(self, conn: Connection, text: str | None) -> bool:
        """Whether to handle this inbound frame; closes the socket when not."""
        reason = await self.problem(conn.ident)
        if reason is not None:
            await conn.close_for(reason)
            return False
        sid = conn.ident.session_id
        if sid is not None and (text is None or not _is_ping(text)):
            await self.auth.touch(sid)
        return True

    async def sweep(self, in_session: set[str]) -> None:
        """Check every local socket; `in_session` holders count as active."""
        for conn in self.connections.all():
            if conn.ws.closed:
                continue
            reason = await self.problem(conn.ident)
            if reason is not None:
                await conn.close_for(reason)
            elif conn.ident.session_id is not None and await self._busy(conn.ident, in_session):
                await self.auth.touch(conn.ident.session_id)

    async def _busy(self, ident: Identity, in_session: set[str]) -> bool:
        if ident.holder in in_session:
            return True
        return self.busy_elsewhere is not None and await self.busy_elsewhere(ident.holder)

    async def run(self, in_session: Callable[[], set[str]]) -> None:
        """Sweep every interval until cancelled; `in_session()` gives the busy holders."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep(in_session())
            except Exception:
                log.exception("socket credential sweep failed")
