"""The signaling endpoint: one WebSocket per client at /ws.

Each inbound frame is size-limited (aiohttp closes with 1009 above
`signaling.max_message_bytes`), rate-limited per connection, parsed and
validated by `signaling.messages`, then dispatched by type. Anything wrong
becomes an `error` message with a stable code; the connection stays up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from server import appkeys as K
from server.auth import IDENTITY, Identity
from server.connections import TAKEOVER_ROLES, Connection
from server.origin import origin_allowed
from signaling.errors import CloseCode, ErrorCode, ProtocolError
from signaling.messages import (
    PROTOCOL_VERSION,
    CallNext,
    ClientMessage,
    DocCapture,
    DocFailed,
    InspectCapture,
    InspectFailed,
    InspectJoin,
    InspectPosition,
    MediaState,
    Ping,
    Pong,
    QueueJoin,
    QueueLeave,
    QueueStatus,
    RtcOffer,
    SessionEnd,
    SessionInvite,
    SessionInviteAnswer,
    SessionLeave,
    SupervisionObserve,
    SupervisionUnobserve,
    Welcome,
    error,
    parse_inbound,
    peek_type,
)

log = logging.getLogger(__name__)
Dispatch = Callable[[web.Application, Connection, ClientMessage], Awaitable[None]]
# Closing a flooding client: this many rate-limit errors in a row.
MAX_RATE_STRIKES = 50


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


async def ws_handler(request: web.Request) -> web.StreamResponse:
    app = request.app
    cfg = app[K.CONFIG]
    ident: Identity = request[IDENTITY]
    if not origin_allowed(request, cfg.server):
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(
        autoping=False,  # pings and pongs are ours: see _heartbeat and _read_loop
        # aiohttp refuses a frame of max_msg_size bytes; the limit is inclusive.
        max_msg_size=cfg.signaling.max_message_bytes + 1,
    )
    await ws.prepare(request)
    conn = Connection(ident, ws, secrets.token_hex(6))
    connections = app[K.CONNECTIONS]
    refused = connections.admit(
        conn,
        max_total=cfg.signaling.max_connections,
        max_per_account=cfg.signaling.max_connections_per_account,
    )
    if refused is not None:
        log.info("ws refused", extra={"role": ident.role, "code": int(refused[0])})
        await conn.close(*refused)
        return ws
    for old in connections.local(ident.holder):
        if old is not conn and ident.role in TAKEOVER_ROLES:
            await old.close(CloseCode.REPLACED, "replaced by a newer connection")
    app[K.METRICS].ws_opened(ident.role)
    log.info("ws open", extra={"conn": conn.id, "role": ident.role})
    try:
        device = request.query.get("device", "")[:64]
        if ident.role == "inspector" and not await app[K.INSPECTIONS].admit_socket(conn, device):
            return ws  # another phone holds this inspection link (refused, audited)
        await conn.send(
            Welcome(
                protocol=PROTOCOL_VERSION,
                role=ident.role,
                name=ident.name,
                place=ident.place,
                heartbeat_s=cfg.signaling.heartbeat_seconds,
                resume=await _resume_kind(app, ident),
            )
        )
        await _opened(app, conn)
        await _read_loop(app, conn)
    finally:
        last = connections.remove(conn)
        app[K.METRICS].ws_closed(ident.role)
        log.info("ws closed", extra={"conn": conn.id, "role": ident.role, "code": ws.close_code})
        if last:
            await _last_closed(app, conn)
    return ws


async def _opened(app: web.Application, conn: Connection) -> None:
    """A socket opened: its session's owner runs the rules when that is another process."""
    cluster = app.get(K.CLUSTER)
    elsewhere = False
    if cluster is not None:
        await cluster.router.presence(conn.ident, True)
        elsewhere = await cluster.router.forward_event(conn, "open")
    await on_open(app, conn, session_elsewhere=elsewhere)


async def _last_closed(app: web.Application, conn: Connection) -> None:
    cluster = app.get(K.CLUSTER)
    elsewhere = False
    try:
        if cluster is not None:
            await cluster.router.presence(conn.ident, False)
            elsewhere = await cluster.router.forward_event(conn, "last_close")
    except Exception:
        log.exception("cluster close forwarding failed", extra={"role": conn.ident.role})
    await on_last_close(app, conn.ident, session_elsewhere=elsewhere)


async def _heartbeat(conn: Connection, every: float) -> None:
    """Ping every `every` seconds; a ping still unanswered at the next one closes."""
    while not conn.ws.closed:
        await asyncio.sleep(every)
        if conn.awaiting_pong:
            await conn.close(CloseCode.GOING_AWAY, "no pong")
            return
        conn.awaiting_pong = True
        try:
            await conn.ws.ping()
        except (ConnectionError, RuntimeError):
            return


async def _read_loop(app: web.Application, conn: Connection) -> None:
    cfg = app[K.CONFIG].signaling
    bucket = TokenBucket(cfg.rate_per_second, cfg.rate_burst)
    strikes = 0
    ws = conn.ws
    pinger = asyncio.get_running_loop().create_task(_heartbeat(conn, cfg.heartbeat_seconds))
    last_message = time.monotonic()
    try:
        while not ws.closed:
            # Only messages count as activity; answering WebSocket pings does not.
            remaining = cfg.idle_timeout_seconds - (time.monotonic() - last_message)
            if remaining <= 0:
                await conn.close(CloseCode.GOING_AWAY, "idle")
                return
            try:
                msg = await ws.receive(timeout=remaining)
            except TimeoutError:
                continue
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
                continue
            if msg.type == WSMsgType.PONG:
                conn.awaiting_pong = False
                continue
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if msg.type == WSMsgType.ERROR:
                # Oversized frames land here; aiohttp has already closed with 1009.
                return
            last_message = time.monotonic()
            if not bucket.take():
                strikes += 1
                app[K.METRICS].ws_error(ErrorCode.RATE_LIMITED)
                if strikes >= MAX_RATE_STRIKES:
                    await conn.close(CloseCode.POLICY_VIOLATION, "rate limit")
                    return
                ref = peek_type(msg.data) if msg.type == WSMsgType.TEXT else None
                await conn.send(error(ErrorCode.RATE_LIMITED, "too many messages; slow down", ref))
                continue
            strikes = 0
            if not await app[K.GUARD].admit(conn, msg.data if msg.type == WSMsgType.TEXT else None):
                return  # credentials ended (signed out, expired, disabled, revoked): closed
            if msg.type != WSMsgType.TEXT:
                await conn.send(error(ErrorCode.BINARY_NOT_ALLOWED, "send JSON text frames"))
                continue
            await handle_text(app, conn, msg.data)
    finally:
        pinger.cancel()


async def handle_text(app: web.Application, conn: Connection, text: str) -> None:
    """Validate and dispatch one frame; every failure becomes an error message."""
    ref = None
    cluster = app.get(K.CLUSTER)
    try:
        if cluster is not None and await cluster.router.forward(conn, text):
            return  # handled by the process that owns the sender's session
        message = parse_inbound(text, conn.ident.role)
        ref = message.type
        await DISPATCH[type(message)](app, conn, message)
    except ProtocolError as exc:
        app[K.METRICS].ws_error(exc.code)
        await conn.send(error(exc.code, exc.message, exc.ref or ref))
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        ref = ref or peek_type(text)  # e.g. the shared store failed before parsing (routing)
        log.exception("message handler failed", extra={"conn": conn.id, "type": ref})
        app[K.METRICS].ws_error(ErrorCode.INTERNAL)
        await conn.send(error(ErrorCode.INTERNAL, "the server could not handle this message", ref))


async def _resume_kind(app: web.Application, ident: Identity) -> str:
    """What the client will be told right after welcome."""
    if app[K.SESSIONS].of(ident.holder) is not None:
        return "session"
    cluster = app.get(K.CLUSTER)
    if cluster is not None and await cluster.router.owner_of(ident.holder) is not None:
        return "session"
    if ident.role in ("kiosk", "agent") and await app[K.STORE].ticket_of(ident.holder):
        return "queue"
    return "none"


async def on_open(
    app: web.Application, conn: Connection, *, session_elsewhere: bool = False
) -> None:
    """A socket opened. `session_elsewhere`: the holder's session lives on another
    process, which runs the session's part (`on_session_open`) itself."""
    ident = conn.ident
    if ident.role in ("kiosk", "agent"):
        if session_elsewhere or await on_session_open(app, conn):
            return
        if await app[K.QUEUES].reconnected(ident) is None:
            await app[K.QUEUES].tell_if_expired(conn)
    elif ident.role == "supervisor":
        await app[K.SUPERVISION].opened(conn)
    elif ident.role in ("reviewer", "inspector"):
        if ident.role == "reviewer":
            await app[K.QUEUES].reviewer_online(ident, True)
            await conn.push(await app[K.QUEUES].desk_view(ident))
        if not session_elsewhere:
            await on_session_open(app, conn)


async def on_session_open(app: web.Application, conn: Connection) -> bool:
    """Tell a (re)connected participant of its session; False when it has none here."""
    ident = conn.ident
    if ident.role == "supervisor":
        return False  # an observer's socket is not re-announced (see on_open)
    if not await app[K.SESSIONS].ws_opened(ident):
        return False
    if ident.role in ("kiosk", "agent", "reviewer"):
        await app[K.DOCCAM].ws_opened(ident)  # the cases linked to the call so far
    return True


async def on_last_close(
    app: web.Application, ident: Identity, *, session_elsewhere: bool = False
) -> None:
    try:
        if ident.role in ("kiosk", "agent"):
            await app[K.QUEUES].disconnected(ident)
        elif ident.role == "reviewer":
            await app[K.QUEUES].reviewer_online(ident, False)
        if not session_elsewhere:
            await on_session_close(app, ident)
    except Exception:
        log.exception("cleanup after close failed", extra={"role": ident.role})


async def on_session_close(app: web.Application, ident: Identity) -> None:
    """The session's part of a holder's last socket closing (run where the session is)."""
    if ident.role == "supervisor":
        await app[K.OBSERVERS].socket_closed(ident)
    await app[K.SESSIONS].ws_closed(ident)


# -- handlers ----------------------------------------------------------------


async def _ping(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    await conn.send(Pong())


async def _queue_join(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, QueueJoin)
    queues = app[K.QUEUES]
    # Field values first (bad_field, then not_found), then state (wrong_state).
    queues.check_join(msg.item, msg.priority_class)
    if not msg.recording_notice_shown:
        raise ProtocolError(
            ErrorCode.WRONG_STATE, "show the recording notice before joining", msg.type
        )
    if app[K.SESSIONS].of(conn.ident.holder) is not None:
        raise ProtocolError(ErrorCode.WRONG_STATE, "already in a session", msg.type)
    ticket = await queues.join(conn.ident, msg.item, msg.priority_class)
    if ticket.queue.split("@")[0] != msg.item:
        status: QueueStatus = await queues.status(ticket)
        raise ProtocolError(
            ErrorCode.WRONG_STATE, f"already waiting for item {status.item}", msg.type
        )


async def _queue_leave(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    if await app[K.QUEUES].leave(conn.ident) is None:
        raise ProtocolError(ErrorCode.WRONG_STATE, "not waiting in a queue", msg.type)


async def _call_next(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    session = await app[K.SESSIONS].call_next(conn.ident)
    if session is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no applicant is waiting", msg.type)
    app[K.METRICS].observe_wait(session.item, session.waited_s)


async def _rtc_offer(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, RtcOffer)
    await conn.send(await app[K.SESSIONS].offer(conn.ident, msg.sdp, msg.renegotiate))


async def _media_state(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, MediaState)
    await app[K.SESSIONS].media_state(conn.ident, msg.audio, msg.video)


async def _session_end(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, SessionEnd)
    await app[K.SESSIONS].end(conn.ident, msg.outcome)


async def _doc_capture(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, DocCapture)
    await app[K.DOCCAM].capture(conn.ident, msg)


async def _doc_failed(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, DocFailed)
    await app[K.DOCCAM].failed(conn.ident, msg)


async def _observe(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, SupervisionObserve)
    await app[K.OBSERVERS].observe(conn.ident, msg.session_id)


async def _unobserve(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, SupervisionUnobserve)
    await app[K.OBSERVERS].unobserve(conn.ident, msg.session_id)


async def _session_leave(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    await app[K.SESSIONS].leave(conn.ident)


async def _session_invite(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, SessionInvite)
    await app[K.INVITES].invite(conn.ident, msg.account)


async def _invite_answer(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, SessionInviteAnswer)
    await app[K.INVITES].answer(conn.ident, msg.invite_id, msg.accept)


async def _inspect_join(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, InspectJoin)
    await app[K.INSPECTIONS].join(conn.ident, msg)


async def _inspect_position(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, InspectPosition)
    await app[K.INSPECTIONS].position(conn.ident, msg)


async def _inspect_capture(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, InspectCapture)
    await app[K.INSPECTIONS].capture(conn.ident, msg)


async def _inspect_failed(app: web.Application, conn: Connection, msg: ClientMessage) -> None:
    assert isinstance(msg, InspectFailed)
    await app[K.INSPECTIONS].failed(conn.ident, msg)


DISPATCH: dict[type[ClientMessage], Dispatch] = {
    Ping: _ping,
    QueueJoin: _queue_join,
    QueueLeave: _queue_leave,
    CallNext: _call_next,
    RtcOffer: _rtc_offer,
    MediaState: _media_state,
    SessionEnd: _session_end,
    DocCapture: _doc_capture,
    DocFailed: _doc_failed,
    SupervisionObserve: _observe,
    SupervisionUnobserve: _unobserve,
    SessionLeave: _session_leave,
    SessionInvite: _session_invite,
    SessionInviteAnswer: _invite_answer,
    InspectJoin: _inspect_join,
    InspectPosition: _inspect_position,
    InspectCapture: _inspect_capture,
    InspectFailed: _inspect_failed,
}
