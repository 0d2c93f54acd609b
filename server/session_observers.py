"""Live spot check (监督旁听): a supervisor observes a live video session.

The plumbing only: who observes which session, the audit trail (the session's
own chain and the system log), and what the participants are told. With
`supervision.announce_observer` on (the default, per policy) the kiosk or agent
and the reviewer get `session.observer` with the notice 监督人员在线 while at
least one supervisor observes; with it off nobody is told, but it is audited
all the same.

Media: the observer joins the session as a participant of party "observer"
(`SessionManager.add_participant`), receive-only: its offer must have only
recvonly m-lines, the media plane never forwards nor records anything from it,
and the others are given no m-line for it. Whether the participants'
`session.participants` lists it follows the same announce policy; the pair
alone decides live/ended. Its joins and leaves are in the manifest.

A supervisor bound to service items observes their departments' sessions
only (server/supervision_scope.py).

Sessions live in one process (their media does): a supervisor's socket on
another process gets `not_found` for a session it cannot see locally.
"""

from __future__ import annotations

import logging

from server.auth import Identity
from server.catalogue import Catalogue
from server.config import SupervisionConfig
from server.connections import Connections
from server.recorder import SessionRecorder
from server.session_manager import SessionManager
from server.supervision_scope import in_scope, scope_of
from server.video_session import OBSERVER, Participant, State, VideoSession
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import SessionObserver

log = logging.getLogger(__name__)
NOTICE = {"zh": "监督人员在线", "en": "A supervisor is observing this session"}


class SessionObservers:
    def __init__(
        self,
        cfg: SupervisionConfig,
        sessions: SessionManager,
        connections: Connections,
        recorder: SessionRecorder,
        catalogue: Catalogue,
    ) -> None:
        self.cfg = cfg
        self.catalogue = catalogue
        self.sessions = sessions
        self.connections = connections
        self.recorder = recorder
        sessions.on_ending.append(self._session_ending)
        sessions.on_reopened.append(self._participant_back)
        sessions.on_removed.append(self._removed)

    def _find(self, session_id: str) -> VideoSession:
        for session in self.sessions.active():
            if session.id == session_id and session.state != State.ENDED:
                return session
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such live session here")

    async def observe(self, ident: Identity, session_id: str) -> VideoSession:
        session = self._find(session_id)
        item = self.catalogue.items.get(session.item)
        if not in_scope(scope_of(ident, self.catalogue), item.department.zh if item else None):
            raise ProtocolError(ErrorCode.FORBIDDEN, "this session is outside your departments")
        if ident.holder in session.observers:
            await self._tell_observer(session, ident.holder, True)  # an explicit answer
            return session
        await self._join_media(session, ident)  # refused (e.g. full): nothing recorded
        session.observers[ident.holder] = ident.name
        announced = self.cfg.announce_observer
        info = {"account": ident.subject, "announced": announced}
        self.recorder.event(session, "observer.joined", ident.holder, info)
        self.recorder.system(
            "supervision.observed", ident.holder, {"session": session.id, "announced": announced}
        )
        log.info("observer joined", extra={"session": session.id, "announced": announced})
        await self._tell(session)
        await self._tell_observer(session, ident.holder, True)
        self.sessions.notify_changed()
        return session

    async def unobserve(self, ident: Identity, session_id: str) -> None:
        session = self._find(session_id)
        if ident.holder not in session.observers:
            raise ProtocolError(ErrorCode.WRONG_STATE, "not observing this session")
        await self._leave(session, ident.holder, "unobserve")

    async def socket_closed(self, ident: Identity) -> None:
        """The supervisor's last socket closed: it observes nothing any more."""
        for session in self.sessions.active():
            if ident.holder in session.observers and session.state != State.ENDED:
                await self._leave(session, ident.holder, "socket_closed")

    async def _removed(self, session: VideoSession, participant: Participant, reason: str) -> None:
        """The observer left the media itself (session.leave/end, or its pc was lost)."""
        if participant.holder in session.observers:
            await self._leave(session, participant.holder, reason)

    async def _leave(self, session: VideoSession, holder: str, reason: str) -> None:
        session.observers.pop(holder, None)
        self.recorder.event(session, "observer.left", holder, {"reason": reason})
        self.recorder.system("supervision.unobserved", holder, {"session": session.id})
        await self._leave_media(session, holder)
        await self._tell(session)
        await self._tell_observer(session, holder, False)
        self.sessions.notify_changed()

    def _session_ending(self, session: VideoSession) -> None:
        """Before the session's chain closes: each observer leaves with it."""
        for holder in list(session.observers):
            self.recorder.event(session, "observer.left", holder, {"reason": "session_ended"})
            # its media closes with the session's (SessionManager._end)
        session.observers.clear()

    async def _participant_back(self, session: VideoSession, holder: str) -> None:
        """A participant reconnected: the notice again, if observers are announced."""
        if session.observers and self.cfg.announce_observer:
            await self.connections.to_holder(holder, self._message(session, False))

    # -- telling -----------------------------------------------------------
    def _message(self, session: VideoSession, observing: bool) -> SessionObserver:
        n = len(session.observers)
        announced = self.cfg.announce_observer and n > 0
        return SessionObserver(
            session_id=session.id,
            observers=n,
            notice=dict(NOTICE) if announced else None,
            observing=observing,
        )

    async def _tell(self, session: VideoSession) -> None:
        if not self.cfg.announce_observer:
            return  # silent observation (policy): audited, not announced
        for p in session.participants:
            if p.party != OBSERVER:  # the observers are told by _tell_observer
                await self.connections.to_holder(p.holder, self._message(session, False))

    async def _tell_observer(self, session: VideoSession, holder: str, observing: bool) -> None:
        await self.connections.to_holder(holder, self._message(session, observing))

    # -- media ---------------------------------------------------------------
    async def _join_media(self, session: VideoSession, ident: Identity) -> None:
        """The observer joins receive-only; it gets session.paired and makes its offer."""
        await self.sessions.add_participant(session, ident, OBSERVER, by=ident.subject)

    async def _leave_media(self, session: VideoSession, holder: str) -> None:
        participant = session.participant(holder)
        if participant is not None and participant.party == OBSERVER:
            await self.sessions.remove(session, participant, "left", holder)
