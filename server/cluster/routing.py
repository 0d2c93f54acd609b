"""Session pinning and routing: a session's signaling reaches the process that owns it.

A video session's media (its aiortc peer connections) lives in one process,
the one it was created on. That process pins it in the store:

- `cluster:holder:<holder>` → {"session", "owner"} for every participant;
- `cluster:session:<id>` → {"owner", "ticket", "holders", "started"};
- `cluster:owned:<process>`, the set of the process's session ids.

A participant whose WebSocket landed on another process keeps talking to its
own socket: that process sees the holder is pinned elsewhere and publishes the
raw frame to the owner's channel `cluster:to:<owner>`, with who sent it (the
identity its credentials gave) and the socket's id. The owner handles it as
if the socket were local (`server.ws.handle_text`) through a `RemoteConnection`,
whose `send` publishes the answer back to the socket's process, which writes
it to the socket. Socket open and last close are forwarded the same way, so
the owner announces the session and runs its presence rules. Pushes to a
holder already go through the bus to wherever it is connected
(server/connections.py). The client protocol does not change.

Order is kept: one pub/sub connection delivers a channel's messages in order,
and each receiving side handles one socket's messages one after the other.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server import appkeys as K
from server.auth import Identity
from server.cluster.inspect_share import InspectionShare
from server.cluster.registry import Registry, presence_key
from server.connections import Connection
from server.video_session import State, VideoSession
from signaling.messages import Message, peek_type

if TYPE_CHECKING:
    from server.store import Store, Subscription

log = logging.getLogger(__name__)
PIN_TTL = 24 * 3600.0  # a backstop only: pins are removed when the session ends
# Frames always handled where the socket is.
LOCAL_TYPES = frozenset({"ping"})


def holder_key(holder: str) -> str:
    return f"cluster:holder:{holder}"


def session_key(session_id: str) -> str:
    return f"cluster:session:{session_id}"


def owned_key(proc_id: str) -> str:
    return f"cluster:owned:{proc_id}"


def staff_key(holder: str) -> str:
    """A staff desk online somewhere: {"owner", "ident"} (invitations find it)."""
    return f"cluster:staff:{holder}"


def invite_key(invite_id: str) -> str:
    return f"cluster:invite:{invite_id}"


INVITE_TTL = 300.0  # longer than any ringing (media.invite_seconds)
STAFF_ROLES = ("reviewer", "supervisor")


def channel(proc_id: str) -> str:
    return f"cluster:to:{proc_id}"


EVERYONE = "cluster:all"  # every process: case pages for sessions wherever they are


def identity_from(data: dict[str, Any]) -> Identity:
    return Identity(**{**data, "items": tuple(data.get("items") or ())})


class RemoteConnection(Connection):
    """A socket of another process, as the owner's handlers see it."""

    def __init__(self, router: Router, ident: Identity, origin: str, conn_id: str) -> None:
        super().__init__(ident, None, conn_id)  # type: ignore[arg-type]
        self.router = router
        self.origin = origin

    async def send(self, message: Message | dict[str, Any]) -> None:
        wire = message.to_wire() if isinstance(message, Message) else message
        event = {"kind": "reply", "conn": self.id, "holder": self.ident.holder, "msg": wire}
        await self.router.publish(self.origin, event)

    async def close(self, code: int, reason: str) -> None:
        event = {"kind": "close", "conn": self.id, "holder": self.ident.holder}
        await self.router.publish(self.origin, {**event, "code": code, "reason": reason})

    async def close_for(self, reason: str) -> None:
        from signaling.errors import CloseCode

        await self.close(CloseCode.CREDENTIALS_ENDED, reason)


class Router:
    def __init__(self, app: web.Application, registry: Registry) -> None:
        self.app = app
        self.registry = registry
        self.store: Store = app[K.STORE]
        # 云踏勘: a phone's frames go to the process holding its inspection, even
        # before it joined (and so before its holder is pinned).
        self.inspections = InspectionShare(self.store, registry)
        self._subscription: Subscription | None = None
        self._everyone: Subscription | None = None
        self._remote: dict[tuple[str, str], RemoteConnection] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._queued: dict[str, int] = defaultdict(int)
        self._started_marked: set[str] = set()
        self._marking: asyncio.Task[None] | None = None

    @property
    def me(self) -> str:
        return self.registry.id

    async def start(self) -> None:
        self._subscription = await self.store.subscribe(channel(self.me), self._on_message)
        self._everyone = await self.store.subscribe(EVERYONE, self._on_everyone)
        doccam = self.app[K.DOCCAM]
        doccam.on_page.append(self._page_changed)
        sessions = self.app[K.SESSIONS]
        sessions.on_created.append(self.pin)
        sessions.on_added.append(self._pin_added)
        sessions.on_removed.append(self._unpin_removed)
        sessions.ended_listeners.append(self.unpin)
        sessions.listeners.append(self._state_changed)
        invites = self.app[K.INVITES]
        invites.find_remote = self.staff_identity
        invites.on_invite.append(self._note_invite)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
        if self._everyone is not None:
            await self._everyone.close()

    async def publish(self, proc_id: str, event: dict[str, Any]) -> None:
        await self.store.publish(channel(proc_id), event)

    # -- pinning -------------------------------------------------------------
    async def pin(self, session: VideoSession) -> None:
        """Called once a session exists here, before anyone is told of it."""
        await self._write_record(session)
        await self.store.set_add(owned_key(self.me), session.id, PIN_TTL)
        for p in session.participants:
            await self._pin_holder(session.id, p.holder)

    async def _pin_holder(self, session_id: str, holder: str) -> None:
        value = json.dumps({"session": session_id, "owner": self.me})
        await self.store.kv_set(holder_key(holder), value, ttl=PIN_TTL)

    async def _pin_added(self, session: VideoSession, holder: str) -> None:
        await self._pin_holder(session.id, holder)
        await self._write_record(session)

    async def _unpin_removed(self, session: VideoSession, participant: Any, reason: str) -> None:
        await self._unpin_holder(participant.holder, session.id)

    async def _unpin_holder(self, holder: str, session_id: str) -> None:
        raw = await self.store.kv_get(holder_key(holder))
        if raw and json.loads(raw).get("session") == session_id:
            await self.store.kv_delete(holder_key(holder))

    async def unpin(self, session: VideoSession) -> None:
        for p in [*session.participants, *session.former]:
            await self._unpin_holder(p.holder, session.id)
        await self.store.kv_delete(session_key(session.id))
        await self.store.set_remove(owned_key(self.me), session.id)
        self._started_marked.discard(session.id)

    async def _write_record(self, session: VideoSession) -> None:
        record = {
            "owner": self.me,
            "ticket": session.ticket_id,
            "holders": [p.holder for p in session.participants],
            "started": session.started,
            "item": session.item,
            "place": session.place,
        }
        await self.store.kv_set(session_key(session.id), json.dumps(record), ttl=PIN_TTL)

    def _state_changed(self) -> None:
        """A session here changed: note the ones that went live (recovery tells them apart)."""
        if self._marking is None or self._marking.done():
            self._marking = asyncio.get_running_loop().create_task(self._mark_started())

    async def _mark_started(self) -> None:
        for session in self.app[K.SESSIONS].active():
            if session.started and session.state != State.ENDED:
                if session.id not in self._started_marked:
                    self._started_marked.add(session.id)
                    await self._write_record(session)

    # -- lookup ----------------------------------------------------------------
    async def owner_of(self, holder: str) -> str | None:
        """The other live process that owns the holder's session, or None."""
        if self.app[K.SESSIONS].of(holder) is not None:
            return None
        raw = await self.store.kv_get(holder_key(holder))
        if not raw:
            return None
        owner = json.loads(raw).get("owner")
        if owner == self.me or not await self.registry.alive(owner):
            return None
        return owner

    async def pinned_elsewhere(self, holder: str) -> bool:
        """In a session held by another live process (its sign-in is busy, not idle)."""
        return await self.owner_of(holder) is not None

    async def session_owner(self, session_id: str) -> str | None:
        if any(s.id == session_id for s in self.app[K.SESSIONS].active()):
            return None
        raw = await self.store.kv_get(session_key(session_id))
        owner = json.loads(raw).get("owner") if raw else None
        if owner is None or owner == self.me or not await self.registry.alive(owner):
            return None
        return owner

    async def _target(self, conn: Connection, text: str) -> str | None:
        """Where this frame is handled: another process's id, or None (here)."""
        mtype = peek_type(text)
        if mtype in LOCAL_TYPES:
            return None
        owner = await self.owner_of(conn.ident.holder)
        if owner is not None:
            return owner
        if conn.ident.role == "inspector":
            return await self.inspections.owner_of(conn.ident.subject)
        if mtype == "session.invite_answer":
            try:
                invite_id = json.loads(text).get("invite_id")
            except ValueError:
                return None
            if not isinstance(invite_id, str):
                return None
            raw = await self.store.kv_get(invite_key(invite_id))
            owner = json.loads(raw).get("owner") if raw else None
            if owner is None or owner == self.me or not await self.registry.alive(owner):
                return None
            return owner
        if mtype == "supervision.observe":
            try:
                session_id = json.loads(text).get("session_id")
            except ValueError:
                return None
            return await self.session_owner(session_id) if isinstance(session_id, str) else None
        if mtype == "desk.call_next" and self.app[K.CONFIG].cluster.placement == "least_loaded":
            if self.app[K.SESSIONS].of(conn.ident.holder) is None:
                target = await self.registry.least_loaded()
                return None if target == self.me else target
        return None

    # -- forwarding (the socket's side) ---------------------------------------
    async def forward(self, conn: Connection, text: str) -> bool:
        """Send the frame to the process that handles it; False: handle it here."""
        if isinstance(conn, RemoteConnection):
            return False  # already at the process that handles it
        target = await self._target(conn, text)
        if target is None:
            return False
        await self.publish(target, self._envelope("msg", conn, text=text))
        return True

    async def forward_event(self, conn: Connection, kind: str) -> bool:
        """Socket `open` or last `close`: run it at the session's owner, if remote."""
        owner = await self.owner_of(conn.ident.holder)
        if owner is None:
            return False
        await self.publish(owner, self._envelope(kind, conn))
        return True

    def _envelope(self, kind: str, conn: Connection, **extra: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "from": self.me,
            "conn": conn.id,
            "ident": asdict(conn.ident),
            **extra,
        }

    async def presence(self, ident: Identity, here: bool) -> None:
        """A socket opened here, or the holder's last one closed."""
        if here:
            await self.store.set_add(presence_key(self.me), ident.holder, PIN_TTL)
        else:
            await self.store.set_remove(presence_key(self.me), ident.holder)
        if ident.role not in STAFF_ROLES:
            return
        if here:
            value = json.dumps({"owner": self.me, "ident": asdict(ident)})
            await self.store.kv_set(staff_key(ident.holder), value, ttl=PIN_TTL)
        else:
            raw = await self.store.kv_get(staff_key(ident.holder))
            if raw and json.loads(raw).get("owner") == self.me:
                await self.store.kv_delete(staff_key(ident.holder))

    async def staff_identity(self, account: str) -> Identity | None:
        """The identity of a desk of `account` online on another live process."""
        for role in STAFF_ROLES:
            raw = await self.store.kv_get(staff_key(f"{role}:{account}"))
            if not raw:
                continue
            entry = json.loads(raw)
            if entry.get("owner") != self.me and await self.registry.alive(entry.get("owner")):
                return identity_from(entry["ident"])
        return None

    async def _note_invite(self, invite_id: str) -> None:
        value = json.dumps({"owner": self.me})
        await self.store.kv_set(invite_key(invite_id), value, ttl=INVITE_TTL)

    async def _page_changed(self, op: str, number: str, document: dict[str, Any]) -> None:
        """A case page stored or marked here: the other processes tell their linked calls."""
        event = {"from": self.me, "op": op, "number": number, "document": document}
        await self.store.publish(EVERYONE, event)

    async def _on_everyone(self, event: dict[str, Any]) -> None:
        if event.get("from") == self.me:
            return
        doccam = self.app[K.DOCCAM]
        number, document = str(event.get("number")), event.get("document") or {}
        if event.get("op") == "stored":
            await doccam.stored_here(number, document)
        elif event.get("op") == "unreadable":
            await doccam.unreadable_here(number, document)

    # -- handling (both sides) -------------------------------------------------
    async def _on_message(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        key = f"{event.get('from') or ''}/{event.get('conn')}"
        # Taken before any await: tasks are created in arrival order, so the lock
        # (FIFO) keeps one socket's messages in order.
        self._queued[key] += 1
        try:
            async with self._locks[key]:
                if kind in ("reply", "close"):
                    await self._to_local(event)
                else:
                    await self._handle_remote(event)
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # idle: forget its lock
                del self._queued[key]
                self._locks.pop(key, None)

    async def _to_local(self, event: dict[str, Any]) -> None:
        connections = self.app[K.CONNECTIONS]
        for conn in connections.local(str(event.get("holder"))):
            if conn.id != event.get("conn"):
                continue
            if event["kind"] == "reply":
                await conn.send(event["msg"])
            else:
                await conn.close(int(event["code"]), str(event["reason"]))

    async def _handle_remote(self, event: dict[str, Any]) -> None:
        from server import ws  # the dispatcher; it reaches this module only through the app

        ident = identity_from(event["ident"])
        origin, conn_id = str(event["from"]), str(event["conn"])
        rkey = (origin, conn_id)
        conn = self._remote.get(rkey)
        if conn is None:
            conn = self._remote[rkey] = RemoteConnection(self, ident, origin, conn_id)
        kind = event["kind"]
        if kind == "msg":
            await ws.handle_text(self.app, conn, str(event["text"]))
        elif kind == "open":
            await ws.on_session_open(self.app, conn)
        elif kind == "last_close":
            self._remote.pop(rkey, None)
            try:
                await ws.on_session_close(self.app, ident)
            except Exception:
                log.exception("cleanup after a remote close failed", extra={"role": ident.role})
