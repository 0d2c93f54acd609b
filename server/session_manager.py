"""Video sessions of this process: pairing, media negotiation, rejoin, end.

A session is created when a reviewer calls the next applicant. Its media
(the aiortc peer connections) lives in this process; the participants'
WebSockets may reconnect at any time, and a participant whose connection
fails has `media.rejoin_grace_seconds` to come back with a new one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from server.auth import Identity
from server.config import Config
from server.connections import Connections
from server.ice import ice_servers_for, server_ice_servers
from server.media.hub import MediaHub
from server.queue_service import QueueService
from server.recorder import SessionRecorder
from server.store import Ticket
from server.video_session import Link, Participant, State, VideoSession
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import RtcAnswer, SessionEnded, SessionPaired, SessionState

log = logging.getLogger(__name__)

# Plain words for the other side, zh-CN first.
NOTICES: dict[Link, dict[str, str]] = {
    Link.WAITING: {"zh": "正在等待对方接入…", "en": "Waiting for the other side to join…"},
    Link.CONNECTING: {"zh": "正在连接对方…", "en": "Connecting to the other side…"},
    Link.CONNECTED: {"zh": "已接通", "en": "Connected"},
    Link.RECONNECTING: {
        "zh": "对方网络中断，正在重新连接，请稍候…",
        "en": "The other side lost the connection and is reconnecting. Please wait…",
    },
    Link.LEFT: {"zh": "对方已离开", "en": "The other side has left"},
}
# What the applicant is told while the reviewer's link is down mid-call.
REVIEWER_DROPPED = {
    "zh": "审批人员连接中断，请稍候；如未恢复，将为您重新排在最前面…",
    "en": "The reviewer's connection dropped. Please wait; if it does not come back, "
    "you go back to the head of the line…",
}


def notice_for(other: Participant, reviewer: Participant) -> dict[str, str]:
    if other is reviewer and other.link == Link.RECONNECTING:
        return REVIEWER_DROPPED
    return NOTICES[other.link]


class SessionManager:
    def __init__(
        self,
        cfg: Config,
        queues: QueueService,
        connections: Connections,
        media: MediaHub,
        recorder: SessionRecorder,
        display_name: Callable[[str], str] = lambda holder: holder,
    ) -> None:
        self.cfg = cfg
        self.queues = queues
        self.connections = connections
        self.media = media
        self.recorder = recorder
        self.display_name = display_name
        self._sessions: dict[str, VideoSession] = {}
        self._by_holder: dict[str, str] = {}
        self._rejoin_timers: dict[str, asyncio.Task[None]] = {}
        # The last session.state pushed to each holder: each state is pushed once.
        self._last_state: dict[str, SessionState] = {}
        # Told (no arguments) when a session starts, changes state or ends: the
        # supervisors' dashboard (server/supervision.py).
        self.listeners: list[Callable[[], None]] = []
        # Live spot checks (server/session_observers.py): told before a session's
        # chain closes, and when a participant's socket is back.
        self.on_ending: list[Callable[[VideoSession], None]] = []
        self.on_reopened: list[Callable[[VideoSession, str], Awaitable[None]]] = []

    # -- lookup ------------------------------------------------------------
    def of(self, holder: str) -> VideoSession | None:
        sid = self._by_holder.get(holder)
        return self._sessions.get(sid) if sid else None

    def active(self) -> list[VideoSession]:
        return list(self._sessions.values())

    def _require(self, ident: Identity) -> tuple[VideoSession, Participant]:
        session = self.of(ident.holder)
        if session is None:
            raise ProtocolError(ErrorCode.WRONG_STATE, "not in a session")
        participant = session.participant(ident.holder)
        assert participant is not None
        return session, participant

    # -- pairing -----------------------------------------------------------
    async def call_next(self, reviewer: Identity) -> VideoSession | None:
        if self.of(reviewer.holder) is not None:
            raise ProtocolError(ErrorCode.WRONG_STATE, "finish the current session first")
        session_id = VideoSession.new_id()
        ticket = await self.queues.call_next(reviewer, session_id)
        if ticket is None:
            return None
        session = self._create(session_id, ticket, reviewer)
        await self._announce(session)
        return session

    def _create(self, session_id: str, ticket: Ticket, reviewer: Identity) -> VideoSession:
        role, _, subject = ticket.holder.partition(":")
        item = self.queues.catalogue.item_for_queue(ticket.queue)
        applicant = Participant(
            holder=ticket.holder,
            role=role,
            subject=subject,
            name=self.display_name(ticket.holder),
            place=ticket.place,
            priority_class=ticket.priority_class,
        )
        desk = Participant(
            holder=reviewer.holder,
            role=reviewer.role,
            subject=reviewer.subject,
            name=reviewer.name,
            place=reviewer.place,
        )
        session = VideoSession(
            id=session_id,
            ticket_id=ticket.id,
            queue=ticket.queue,
            item=item.code,
            place=ticket.place,
            applicant=applicant,
            reviewer=desk,
            audit=self.recorder.event,
            waited_s=max(0.0, (ticket.called_at or ticket.joined_at) - ticket.joined_at),
            ticket_number=ticket.number,
        )
        self._sessions[session.id] = session
        for p in session.participants:
            self._by_holder[p.holder] = session.id
        self.recorder.open(session, ticket)
        media = self.media.session(session.id)
        media.on_participant_state(lambda pid, st: self._on_link(session, pid, st))
        media.on_inbound(self.recorder.inbound_hook(session))
        return session

    async def _announce(self, session: VideoSession, only: str | None = None) -> None:
        for p in session.participants:
            if only is not None and p.holder != only:
                continue
            other = session.other(p.holder)
            await self.connections.to_holder(
                p.holder,
                SessionPaired(
                    session_id=session.id,
                    item=session.item,
                    place=session.place,
                    role=p.role,
                    peer=other.public(),
                    ice_servers=ice_servers_for(self.cfg.ice, p.subject),
                    state=session.state.value,
                    priority_class=session.applicant.priority_class,
                    waited_s=round(session.waited_s),
                    ticket_number=session.ticket_number,
                ),
            )
        await self._push_state(session, again=only)

    def notify_changed(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("session listener failed")

    async def _push_state(self, session: VideoSession, again: str | None = None) -> None:
        """Tell each side what changed; `again` (a reconnected holder) gets it anyway."""
        self.notify_changed()
        for p in session.participants:
            other = session.other(p.holder)
            state = SessionState(
                session_id=session.id,
                state=session.state.value,
                peer_connection=other.link.value,
                peer_media={"audio": other.audio, "video": other.video},
                notice=notice_for(other, session.reviewer),
            )
            if self._last_state.get(p.holder) == state and p.holder != again:
                continue
            self._last_state[p.holder] = state
            await self.connections.to_holder(p.holder, state)

    # -- media -------------------------------------------------------------
    async def offer(self, ident: Identity, sdp: str) -> RtcAnswer:
        session, participant = self._require(ident)
        if session.state == State.ENDED:
            raise ProtocolError(ErrorCode.WRONG_STATE, "the session has ended")
        media = self.media.session(session.id)
        try:
            answer = await media.accept_offer(
                participant.holder, sdp, server_ice_servers(self.cfg.ice)
            )
        except Exception as exc:
            log.warning("offer failed", extra={"session": session.id, "error": type(exc).__name__})
            raise ProtocolError(ErrorCode.MEDIA_FAILED, "cannot answer the offer") from None
        self._cancel_timer(participant.holder)
        participant.link = Link.CONNECTING
        if session.state == State.CALLED:
            session.set_state(State.CONNECTING, ident.subject, "offer")
        await self._push_state(session)
        return RtcAnswer(sdp=answer)

    async def _on_link(self, session: VideoSession, holder: str, state: str) -> None:
        participant = session.participant(holder)
        if participant is None or session.state == State.ENDED:
            return
        if state == "connected":
            participant.link = Link.CONNECTED
            self.recorder.event(
                session,
                "participant.joined",
                holder,
                {**participant.public(), "account": participant.subject},
            )
            if all(p.link == Link.CONNECTED for p in session.participants):
                session.set_state(State.LIVE, None, "both connected")
        elif state in ("failed", "closed", "silent") and participant.link not in (
            Link.LEFT,
            Link.RECONNECTING,  # already dropped: "closed" after "failed" is no news
        ):
            participant.link = Link.RECONNECTING
            self.recorder.event(session, "participant.dropped", holder, {"state": state})
            self.recorder.close_participant(session.id, holder)
            if session.state == State.LIVE:
                session.set_state(State.RECONNECTING, None, f"{participant.role} {state}")
            self._start_timer(session, participant)
        await self._push_state(session)

    async def media_state(self, ident: Identity, audio: bool, video: bool) -> None:
        session, participant = self._require(ident)
        participant.audio, participant.video = audio, video
        self.recorder.event(session, "media.state", ident.holder, {"audio": audio, "video": video})
        await self._push_state(session)

    # -- presence ----------------------------------------------------------
    async def ws_closed(self, ident: Identity) -> None:
        """A participant's last WebSocket closed."""
        session = self.of(ident.holder)
        if session is None:
            return
        participant = session.participant(ident.holder)
        assert participant is not None
        if not session.started and participant is session.reviewer:
            # The reviewer vanished before the session started: the applicant
            # goes back to the head of the line.
            await self._end(session, "reviewer_left", ident.subject, requeue=True)  # by server
            return
        if participant.link in (Link.WAITING, Link.CONNECTING) or participant is session.reviewer:
            # A reviewer whose page closed mid-call: its media stops too (the
            # silence watchdog fails the pc within media.silence_seconds); the
            # deadline spares a reviewer whose media still flows.
            self._start_timer(session, participant)

    async def ws_opened(self, ident: Identity) -> bool:
        """A participant (re)connected its WebSocket: tell it about its session."""
        session = self.of(ident.holder)
        if session is None:
            return False
        await self._announce(session, only=ident.holder)
        for reopened in self.on_reopened:
            await reopened(session, ident.holder)
        return True

    def _start_timer(self, session: VideoSession, participant: Participant) -> None:
        running = self._rejoin_timers.get(participant.holder)
        if running is not None and not running.done():
            # Already counting (its WebSocket closed, now its media stopped too):
            # the earlier deadline stands.
            return
        grace = self.cfg.media.rejoin_grace_seconds
        if participant is session.reviewer and session.started:
            # The applicant is kept waiting by a reviewer who is gone: short grace.
            grace = self.cfg.media.reviewer_rejoin_seconds
        self._rejoin_timers[participant.holder] = asyncio.get_running_loop().create_task(
            self._rejoin_deadline(session, participant, grace)
        )

    def _cancel_timer(self, holder: str) -> None:
        task = self._rejoin_timers.pop(holder, None)
        if task is not None:
            task.cancel()

    async def _rejoin_deadline(
        self, session: VideoSession, participant: Participant, grace: float
    ) -> None:
        await asyncio.sleep(grace)
        self._rejoin_timers.pop(participant.holder, None)
        if session.state == State.ENDED or participant.link == Link.CONNECTED:
            return
        participant.link = Link.LEFT
        # A lost reviewer puts the applicant back at the head of the line.
        requeue = participant is session.reviewer
        await self._end(session, f"{participant.role}_lost", None, requeue=requeue)

    # -- ending ------------------------------------------------------------
    async def end(self, ident: Identity, outcome: str) -> None:
        session, participant = self._require(ident)
        by = "reviewer" if participant is session.reviewer else "applicant"
        await self._end(session, outcome, ident.subject, requeue=False, by=by)

    async def _end(
        self,
        session: VideoSession,
        outcome: str,
        actor: str | None,
        *,
        requeue: bool,
        by: str = "server",
    ) -> None:
        """`actor` is the account for the audit trail; `by` the side told (PROTOCOL.md)."""
        if session.state == State.ENDED:
            return
        session.outcome = outcome
        for p in session.participants:
            self.recorder.event(session, "participant.left", p.holder, {"role": p.role})
        for ending in self.on_ending:
            ending(session)
        session.set_state(State.ENDED, actor, outcome)
        for p in session.participants:
            self._cancel_timer(p.holder)
            self._by_holder.pop(p.holder, None)
            self._last_state.pop(p.holder, None)
        self._sessions.pop(session.id, None)
        await self.media.close_session(session.id)
        for p in session.participants:
            await self.connections.to_holder(
                p.holder, SessionEnded(session_id=session.id, outcome=outcome, by=by)
            )
        if requeue:
            await self.queues.requeue(session.ticket_id)
        else:
            await self.queues.finish(
                session.ticket_id, session.handling_seconds(), session.reviewer.holder
            )
        await self.recorder.close(session)
        self.notify_changed()
        log.info(
            "session ended",
            extra={"session": session.id, "outcome": outcome, "seconds": _age(session)},
        )

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            await self._end(session, "server_shutdown", None, requeue=not session.started)


def _age(session: VideoSession) -> int:
    return int(time.time() - session.created_at)
