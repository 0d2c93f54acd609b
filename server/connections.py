"""Live WebSocket clients of this process, and the bus that reaches them.

Every process subscribes to one Store channel, "bus". Anything that must
reach a client (which may be connected to another process) is published
there; each process delivers to its own local connections.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from server.auth import Identity
from server.register.case_types import Actor, may_read
from server.store import Store, Subscription
from signaling.errors import CloseCode
from signaling.messages import Message

log = logging.getLogger(__name__)
BUS = "bus"
# Close reasons for a socket whose credentials stopped being valid while it was
# open (CloseCode.CREDENTIALS_ENDED, see signaling/PROTOCOL.md).
CLOSE_SIGNED_OUT = "signed_out"
CLOSE_SESSION_EXPIRED = "session_expired"
CLOSE_ACCOUNT_DISABLED = "account_disabled"
CLOSE_ACCOUNT_CHANGED = "account_changed"
CLOSE_KIOSK_REVOKED = "kiosk_revoked"
CLOSE_KIOSK_EXPIRED = "kiosk_expired"
CLOSE_PASSWORD_RESET = "password_reset"
# Roles whose credential is one device: a newer socket replaces the older one.
TAKEOVER_ROLES = frozenset({"kiosk"})
QueuesChanged = Callable[[set[str]], Awaitable[None]]
Changed = Callable[[], Awaitable[None]]


class Connection:
    """One client's WebSocket and who it is."""

    def __init__(self, ident: Identity, ws: web.WebSocketResponse, conn_id: str) -> None:
        self.ident = ident
        self.ws = ws
        self.id = conn_id
        self.awaiting_pong = False
        # The latest queue push of each type, so an unchanged one is not sent again.
        self.last_push: dict[str, Message] = {}

    async def close(self, code: int, reason: str) -> None:
        await self.ws.close(code=code, message=reason.encode())

    async def push(self, message: Message, *, again: bool = False) -> bool:
        """Send unless it equals the last push of its type (`again`: an explicit
        answer, sent anyway); True when sent."""
        if not again and self.last_push.get(message.type) == message:
            return False
        self.last_push[message.type] = message
        await self.send(message)
        return True

    def forget_push(self, message_type: str) -> None:
        """The next push of this type goes out even if it looks the same."""
        self.last_push.pop(message_type, None)

    def matches(self, holder: str | None, account: str | None, web_session: str | None) -> bool:
        ident = self.ident
        return (
            (holder is not None and ident.holder == holder)
            or (account is not None and ident.role != "kiosk" and ident.subject == account)
            or (web_session is not None and ident.session_id == web_session)
        )

    async def close_for(self, reason: str) -> None:
        """Close because the credentials ended (code 4401, the reason as text)."""
        if not self.ws.closed:
            log.info("ws closed: credentials ended", extra={"conn": self.id, "reason": reason})
            await self.close(CloseCode.CREDENTIALS_ENDED, reason)

    async def send(self, message: Message | dict[str, Any]) -> None:
        if self.ws.closed:
            return
        text = (
            message.dumps()
            if isinstance(message, Message)
            else json.dumps(message, ensure_ascii=False)
        )
        try:
            await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            log.debug("send to closed connection %s dropped", self.id)


class Connections:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_holder: dict[str, list[Connection]] = defaultdict(list)
        self._subscription: Subscription | None = None
        self._queue_listeners: list[QueuesChanged] = []
        self._supervision_listeners: list[Changed] = []
        self._resync_listeners: list[Changed] = []

    async def start(self) -> None:
        self._subscription = await self.store.subscribe(BUS, self._on_bus)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
        for conns in list(self._by_holder.values()):
            for conn in list(conns):
                await conn.close(CloseCode.GOING_AWAY, "server shutting down")

    def add(self, conn: Connection) -> None:
        self._by_holder[conn.ident.holder].append(conn)

    def admit(
        self, conn: Connection, *, max_total: int, max_per_account: int
    ) -> tuple[CloseCode, str] | None:
        """Add a new connection, or say why not: (close code, reason).

        A kiosk's connection is always admitted (it replaces the older one,
        which the caller closes); a staff account may have max_per_account."""
        mine = self._by_holder.get(conn.ident.holder, [])
        replaced = len(mine) if conn.ident.role in TAKEOVER_ROLES else 0
        if sum(map(len, self._by_holder.values())) - replaced >= max_total:
            return CloseCode.SERVER_FULL, "server full, try again later"
        if not replaced and len(mine) >= max_per_account:
            return CloseCode.TOO_MANY_CONNECTIONS, "too many connections for this account"
        self.add(conn)
        return None

    def remove(self, conn: Connection) -> bool:
        """Forget a connection; True when it was the holder's last one."""
        conns = self._by_holder.get(conn.ident.holder, [])
        if conn in conns:
            conns.remove(conn)
        if not conns:
            self._by_holder.pop(conn.ident.holder, None)
            return True
        return False

    def local(self, holder: str) -> list[Connection]:
        return list(self._by_holder.get(holder, ()))

    def all(self) -> list[Connection]:
        return [c for conns in self._by_holder.values() for c in conns]

    def with_role(self, role: str) -> list[Connection]:
        return [c for conns in self._by_holder.values() for c in conns if c.ident.role == role]

    def count_by_role(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for conn in self.all():
            counts[conn.ident.role] += 1
        return dict(counts)

    def on_queues_changed(self, listener: QueuesChanged) -> None:
        self._queue_listeners.append(listener)

    def on_supervision_changed(self, listener: Changed) -> None:
        self._supervision_listeners.append(listener)

    def on_resync(self, listener: Changed) -> None:
        """Called when bus messages may have been lost (the store reconnected)."""
        self._resync_listeners.append(listener)

    async def supervision_changed(self) -> None:
        """Something on the supervisors' dashboard changed (a session, a case, a
        follow-up): every process refreshes its supervisors' sockets."""
        await self.store.publish(BUS, {"kind": "supervision"})

    async def close_sockets(
        self,
        reason: str,
        *,
        holder: str | None = None,
        account: str | None = None,
        web_session: str | None = None,
    ) -> None:
        """Close, in every process, the sockets of a holder (kiosk device or staff
        role:username), of a staff account whatever its role, or of one web session."""
        await self.store.publish(
            BUS,
            {
                "kind": "close",
                "reason": reason,
                "holder": holder,
                "account": account,
                "web_session": web_session,
            },
        )

    # -- publishing --------------------------------------------------------
    async def to_holder(self, holder: str, message: Message) -> None:
        """Deliver to every connection of a holder, wherever it is connected."""
        await self.store.publish(BUS, {"kind": "to", "holder": holder, "msg": message.to_wire()})

    async def to_case_readers(self, item: str, place: str, message: Message) -> None:
        """Deliver to every staff connection, wherever it is, that may read a case
        of `item` received at `place` (the case service's rule)."""
        await self.store.publish(
            BUS, {"kind": "case", "item": item, "place": place, "msg": message.to_wire()}
        )

    async def queues_changed(self, queues: set[str]) -> None:
        await self.store.publish(BUS, {"kind": "queues", "queues": sorted(queues)})

    async def _on_bus(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "to":
            for conn in self.local(event["holder"]):
                await conn.send(event["msg"])
        elif kind == "close":
            args = (event.get("holder"), event.get("account"), event.get("web_session"))
            for conn in self.all():
                if conn.matches(*args):
                    await conn.close_for(str(event.get("reason")))
        elif kind == "case":
            for conn in self.all():
                if _reads_case(conn.ident, event["item"], event["place"]):
                    await conn.send(event["msg"])
        elif kind == "queues":
            queues = set(event["queues"])
            for listener in self._queue_listeners:
                await listener(queues)
        elif kind == "supervision":
            for changed in self._supervision_listeners:
                await changed()
        elif kind == "resync":  # the store's pub/sub reconnected: pushes may be lost
            for changed in (*self._resync_listeners, *self._supervision_listeners):
                await changed()


def _reads_case(ident: Identity, item: str, place: str) -> bool:
    if ident.role == "kiosk":
        return False
    actor = Actor(ident.subject, ident.role, place=ident.place, items=tuple(ident.items))
    return may_read(actor, item, place)
