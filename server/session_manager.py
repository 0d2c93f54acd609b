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
from server.media.receive_only import check_receive_only
from server.queue_service import QueueService
from server.recorder import SessionRecorder
from server.store import Ticket
from server.video_session import OBSERVER, Link, Participant, State, VideoSession
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import (
    RtcAnswer,
    SessionEnded,
    SessionPaired,
    SessionParticipants,
    SessionState,
)

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
        self._last_roster: dict[str, SessionParticipants] = {}
        # Awaited when an extra participant has left (session, participant, reason).
        self.on_removed: list[Callable[[VideoSession, Participant, str], Awaitable[None]]] = []
        # Awaited with each session once it has ended (e.g. ringing invitations withdrawn).
        self.ended_listeners: list[Callable[[VideoSession], Awaitable[None]]] = []
        # Awaited before anyone is told of a new session / of a newcomer (session,
        # holder): the cluster pins them to this process (server/cluster/routing.py).
        self.on_created: list[Callable[[VideoSession], Awaitable[None]]] = []
        self.on_added: list[Callable[[VideoSession, str], Awaitable[None]]] = []

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
        for created in self.on_created:
            await created(session)
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
                    party=p.party,
                ),
            )
        await self._push_state(session, again=only)
        await self.push_participants(session, again=only)

    async def push_participants(self, session: VideoSession, again: str | None = None) -> None:
        """Tell everyone in an N-party session who is in it and which m-line carries whom.

        Sent once a session has had more than two participants (a two-party
        client never needs it); `needed` is how many audio/video m-lines the
        client must offer to receive every other's tracks (re-offer with
        ``renegotiate`` on its current pc when it has fewer)."""
        media = self.media.get(session.id)
        # Observers publish nothing: nobody needs an m-line for them.
        members = [p.holder for p in session.participants if p.party != OBSERVER]
        for p in session.participants:
            seen = [q for q in session.everyone if self._sees(p, q)]
            if len(seen) <= 2:
                continue  # a two-party session as far as p can tell
            message = SessionParticipants(
                session_id=session.id,
                participants=[
                    {
                        "id": q.holder,
                        **q.public(),
                        "link": q.link.value,
                        "media": {"audio": q.audio, "video": q.video},
                    }
                    for q in session.participants
                    if self._sees(p, q)
                ],
                routes=media.routes(p.holder) if media else [],
                needed=self.media.session(session.id).slots_needed(p.holder, members),
                you=p.holder,
            )
            if self._last_roster.get(p.holder) == message and p.holder != again:
                continue
            self._last_roster[p.holder] = message
            await self.connections.to_holder(p.holder, message)

    def _sees(self, p: Participant, q: Participant) -> bool:
        """Whether `p` is told of `q`: an observer only when observers are announced."""
        if q.party != OBSERVER or p is q or p.party == OBSERVER:
            return True
        return self.cfg.supervision.announce_observer

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
    async def offer(self, ident: Identity, sdp: str, renegotiate: bool = False) -> RtcAnswer:
        session, participant = self._require(ident)
        if session.state == State.ENDED:
            raise ProtocolError(ErrorCode.WRONG_STATE, "the session has ended")
        receive_only = participant.party == OBSERVER
        if receive_only:
            check_receive_only(sdp)
        media = self.media.session(session.id)
        live_pc = media.participant_state(participant.holder) == "connected"
        try:
            answer = await media.accept_offer(
                participant.holder,
                sdp,
                server_ice_servers(self.cfg.ice),
                renegotiate=renegotiate,
                rank=_rank(session, participant),
                receive_only=receive_only,
            )
        except Exception as exc:
            log.warning("offer failed", extra={"session": session.id, "error": type(exc).__name__})
            raise ProtocolError(ErrorCode.MEDIA_FAILED, "cannot answer the offer") from None
        if not (renegotiate and live_pc):  # a renegotiation keeps the connected pc
            self._cancel_timer(participant.holder)
            participant.link = Link.CONNECTING
        if session.state == State.CALLED:
            session.set_state(State.CONNECTING, ident.subject, "offer")
        await self._push_state(session)
        await self.push_participants(session)
        return RtcAnswer(sdp=answer)

    async def _on_link(self, session: VideoSession, holder: str, state: str) -> None:
        participant = session.participant(holder)
        if participant is None or session.state == State.ENDED:
            return
        if state == "connected":
            participant.link = Link.CONNECTED
            participant.arrive(time.time())
            self.recorder.event(
                session,
                "participant.joined",
                holder,
                {**participant.public(), "account": participant.subject},
            )
            if all(p.link == Link.CONNECTED for p in session.pair):
                session.set_state(State.LIVE, None, "both connected")
        elif state in ("failed", "closed", "silent") and participant.link not in (
            Link.LEFT,
            Link.RECONNECTING,  # already dropped: "closed" after "failed" is no news
        ):
            participant.link = Link.RECONNECTING
            self.recorder.event(session, "participant.dropped", holder, {"state": state})
            self.recorder.close_participant(session.id, holder)
            if session.state == State.LIVE and not session.is_extra(participant):
                session.set_state(State.RECONNECTING, None, f"{participant.role} {state}")
            self._start_timer(session, participant)
        await self._push_state(session)
        await self.push_participants(session)

    async def media_state(self, ident: Identity, audio: bool, video: bool) -> None:
        session, participant = self._require(ident)
        participant.audio, participant.video = audio, video
        self.recorder.event(session, "media.state", ident.holder, {"audio": audio, "video": video})
        await self._push_state(session)
        await self.push_participants(session)

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
        if (
            participant.link in (Link.WAITING, Link.CONNECTING)
            or participant is session.reviewer
            or session.is_extra(participant)
        ):
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
        if session.is_extra(participant):  # the session carries on without them
            await self.remove(session, participant, "lost", None)
            return
        participant.link = Link.LEFT
        # A lost reviewer puts the applicant back at the head of the line.
        requeue = participant is session.reviewer
        await self._end(session, f"{participant.role}_lost", None, requeue=requeue)

    # -- more participants ------------------------------------------------
    def check_can_join(self, session: VideoSession, holder: str) -> None:
        """Raise ProtocolError when `holder` cannot be added to `session` now."""
        if session.state == State.ENDED or session.id not in self._sessions:
            raise ProtocolError(ErrorCode.WRONG_STATE, "the session has ended")
        if self.of(holder) is not None:
            raise ProtocolError(ErrorCode.WRONG_STATE, "already in a session")
        if len(session.participants) >= self.cfg.media.max_participants:
            raise ProtocolError(
                ErrorCode.WRONG_STATE,
                f"a session holds at most {self.cfg.media.max_participants} participants",
            )

    async def add_participant(
        self, session: VideoSession, ident: Identity, party: str, by: str | None
    ) -> Participant:
        """Bring `ident` into a running session as `party` (colleague, inspector, observer).

        The newcomer gets session.paired and makes its offer; everyone gets
        session.participants (the others re-offer for the newcomer's tracks).
        `by` is the account that brought them in (audited)."""
        self.check_can_join(session, ident.holder)
        participant = Participant(
            holder=ident.holder,
            role=ident.role,
            subject=ident.subject,
            name=ident.name,
            place=ident.place,
            party=party,
            added_by=by,
        )
        previous = next((p for p in session.former if p.holder == ident.holder), None)
        if previous is not None:  # back after leaving: one entry, two stays
            session.former.remove(previous)
            previous.link, previous.party, previous.added_by = Link.WAITING, party, by
            participant = previous
        session.extras.append(participant)
        self._by_holder[ident.holder] = session.id
        self.recorder.event(
            session,
            "participant.added",
            by,
            {**participant.public(), "account": participant.subject},
        )
        log.info("participant added", extra={"session": session.id, "party": party})
        for added in self.on_added:
            await added(session, ident.holder)
        await self._announce(session, only=ident.holder)
        await self.push_participants(session)
        return participant

    async def remove(
        self, session: VideoSession, participant: Participant, reason: str, actor: str | None
    ) -> None:
        """An extra participant leaves (`reason`: left, lost, removed); the session goes on."""
        if participant not in session.extras:
            return
        self._cancel_timer(participant.holder)
        session.extras.remove(participant)
        session.former.append(participant)
        participant.link = Link.LEFT
        participant.depart(time.time())
        self._by_holder.pop(participant.holder, None)
        self._last_state.pop(participant.holder, None)
        self._last_roster.pop(participant.holder, None)
        self.recorder.event(
            session,
            "participant.left",
            participant.holder,
            {"role": participant.role, "party": participant.party, "reason": reason},
        )
        self.recorder.close_participant(session.id, participant.holder)
        media = self.media.get(session.id)
        if media is not None:
            await media.remove_participant(participant.holder)
        await self.connections.to_holder(
            participant.holder, SessionEnded(session_id=session.id, outcome=reason, by="self")
        )
        await self.push_participants(session)
        for removed in self.on_removed:
            await removed(session, participant, reason)

    async def leave(self, ident: Identity) -> None:
        """`session.leave`: an extra participant goes; the pair must end instead."""
        session, participant = self._require(ident)
        if not session.is_extra(participant):
            raise ProtocolError(
                ErrorCode.WRONG_STATE, "the applicant and the reviewer end the session instead"
            )
        await self.remove(session, participant, "left", ident.subject)

    # -- ending ------------------------------------------------------------
    async def end(self, ident: Identity, outcome: str) -> None:
        session, participant = self._require(ident)
        if session.is_extra(participant):  # only the pair ends a session: the others leave
            await self.remove(session, participant, "left", ident.subject)
            return
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
        settle: bool = True,
    ) -> None:
        """`actor` is the account for the audit trail; `by` the side told (PROTOCOL.md);
        `settle` False leaves the ticket alone (another process already settled it)."""
        if session.state == State.ENDED:
            return
        session.outcome = outcome
        now = time.time()
        for p in session.participants:
            p.depart(now)
            self.recorder.event(
                session, "participant.left", p.holder, {"role": p.role, "party": p.party}
            )
        for ending in self.on_ending:
            ending(session)
        session.set_state(State.ENDED, actor, outcome)
        for p in session.participants:
            self._cancel_timer(p.holder)
            self._by_holder.pop(p.holder, None)
            self._last_state.pop(p.holder, None)
            self._last_roster.pop(p.holder, None)
        self._sessions.pop(session.id, None)
        await self.media.close_session(session.id)
        for p in session.participants:
            await self.connections.to_holder(
                p.holder, SessionEnded(session_id=session.id, outcome=outcome, by=by)
            )
        if not settle:
            pass
        elif requeue:
            await self.queues.requeue(session.ticket_id)
        else:
            await self.queues.finish(
                session.ticket_id, session.handling_seconds(), session.reviewer.holder
            )
        for listener in self.ended_listeners:
            try:
                await listener(session)
            except Exception:
                log.exception("after ending a session failed", extra={"session": session.id})
        await self.recorder.close(session)
        self.notify_changed()
        log.info(
            "session ended",
            extra={"session": session.id, "outcome": outcome, "seconds": _age(session)},
        )

    async def abandon(self, outcome: str) -> None:
        """End every session here, leaving their tickets alone: this process was
        taken for dead and another one has already requeued them (server/cluster)."""
        for session in list(self._sessions.values()):
            await self._end(session, outcome, None, requeue=False, settle=False)

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            await self._end(session, "server_shutdown", None, requeue=not session.started)


def _rank(session: VideoSession, participant: Participant) -> int:
    """The applicant's tracks first, then the reviewer's, then the others' (media routing)."""
    if participant is session.applicant:
        return 0
    if participant is session.reviewer:
        return 1
    return 2 + [*session.former, *session.extras].index(participant)


def _age(session: VideoSession) -> int:
    return int(time.time() - session.created_at)
