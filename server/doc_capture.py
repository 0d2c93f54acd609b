"""The document camera (高拍仪) in a live session: linked cases, capture requests,
stored pages, failed stills and recapture requests, between the desk and the kiosk.

The register holds the truth (which sessions a case has, its pages); this
module keeps, per live session, the cases linked to it while it runs
(`VideoSession.cases`), so that a `doc.capture` is checked without a database
round trip and each stored or unreadable page reaches the right two screens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from server.auth import Identity
from server.connections import Connections
from server.recorder import SessionRecorder
from server.register.case_types import CaseDetail, CaseError, CaseForbidden
from server.session_manager import SessionManager
from server.video_session import LinkedCase, State, VideoSession
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import (
    DocCapture,
    DocCaptureFailed,
    DocCase,
    DocFailed,
    DocRecapture,
    DocStored,
    DocTake,
)

log = logging.getLogger(__name__)


class ReviewerSessionRequired(CaseForbidden):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = "session"


class DocCameraService:
    def __init__(
        self, sessions: SessionManager, connections: Connections, recorder: SessionRecorder
    ) -> None:
        self.sessions = sessions
        self.connections = connections
        self.recorder = recorder
        # Awaited with ("stored" | "unreadable", number, document) after the local
        # pushes: other server processes push to their own linked sessions.
        self.on_page: list[Callable[[str, str, dict[str, Any]], Awaitable[None]]] = []

    # -- linking (from the case API) ----------------------------------------
    def reviewer_session(self, ident: Identity, session_id: Any) -> VideoSession:
        """The live session `session_id` when `ident` is its reviewer; CaseError otherwise."""
        if not isinstance(session_id, str) or not session_id:
            raise CaseError("session", "required", "the id of your live video session")
        session = self.sessions.of(ident.holder)
        if session is None or session.id != session_id:
            raise ReviewerSessionRequired(f"{session_id!r} is not your current video session")
        if ident.role != "reviewer" or session.reviewer.holder != ident.holder:
            raise ReviewerSessionRequired("only the reviewer of the session links a case to it")
        if session.state == State.ENDED:
            raise ReviewerSessionRequired(f"session {session_id} has ended")
        return session

    async def linked(self, session: VideoSession, case: CaseDetail, actor: str) -> None:
        """The register linked `case` to `session`: remember it, tell both sides."""
        linked = LinkedCase(case.summary.item, tuple(c["code"] for c in case.checklist))
        session.cases[case.number] = linked
        self.recorder.event(session, "case.linked", actor, {"case": case.number})
        for p in session.participants:
            await self.connections.to_holder(p.holder, _doc_case(session, case.number, linked))

    async def ws_opened(self, ident: Identity) -> None:
        """A participant's socket (re)opened mid-call: tell it the cases linked so far."""
        session = self.sessions.of(ident.holder)
        if session is None:
            return
        for number, linked in session.cases.items():
            await self.connections.to_holder(ident.holder, _doc_case(session, number, linked))

    # -- capture (from the socket) ------------------------------------------
    def _checked(self, ident: Identity, msg: DocCapture | DocFailed) -> tuple[VideoSession, bool]:
        """The sender's live session, for a linked case and a material on its checklist,
        and whether the sender is its reviewer; ProtocolError otherwise (in the
        documented order: session, sender, case, material, live)."""
        session = self.sessions.of(ident.holder)
        if session is None or session.state == State.ENDED:
            raise ProtocolError(ErrorCode.WRONG_STATE, "not in a session", msg.type)
        participant = session.participant(ident.holder)
        is_reviewer = participant is session.reviewer
        if not is_reviewer and ident.role not in ("kiosk", "agent"):
            raise ProtocolError(ErrorCode.FORBIDDEN, "not a participant of this session", msg.type)
        linked = session.cases.get(msg.case)
        if linked is None:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, f"case {msg.case!r} is not linked to this session", msg.type
            )
        if msg.material not in linked.materials:
            raise ProtocolError(
                ErrorCode.BAD_FIELD,
                f"material {msg.material!r} is not on the checklist of {msg.case}",
                msg.type,
            )
        if session.state not in (State.LIVE, State.RECONNECTING):
            raise ProtocolError(ErrorCode.WRONG_STATE, "the call is not live yet", msg.type)
        return session, is_reviewer

    async def capture(self, ident: Identity, msg: DocCapture) -> None:
        """Check a `doc.capture` and hand it to the applicant side as `doc.take`."""
        session, is_reviewer = self._checked(ident, msg)
        by = "reviewer" if is_reviewer else "applicant"
        self.recorder.event(
            session,
            "document.requested",
            ident.holder,
            {"case": msg.case, "material": msg.material},
        )
        await self.connections.to_holder(
            session.applicant.holder, DocTake(case=msg.case, material=msg.material, by=by)
        )

    async def failed(self, ident: Identity, msg: DocFailed) -> None:
        """The applicant side took or stored no still: tell the session's reviewer now,
        rather than leave the desk waiting for a page that will not come."""
        # Only kiosks and agents may send it (messages.py): in a session, the applicant side.
        session, _ = self._checked(ident, msg)
        data = {"case": msg.case, "material": msg.material, "reason_code": msg.reason_code}
        self.recorder.event(session, "document.failed", ident.holder, data)
        log.info("still failed", extra={"session": session.id, "reason": msg.reason_code})
        await self.connections.to_holder(
            session.reviewer.holder,
            DocCaptureFailed(case=msg.case, material=msg.material, reason_code=msg.reason_code),
        )

    # -- pages (from the documents API) ---------------------------------------
    def _linked_sessions(self, number: str) -> list[VideoSession]:
        return [s for s in self.sessions.active() if number in s.cases]

    async def stored(self, number: str, document: dict[str, Any]) -> None:
        """A page of `number` was stored: both sides of each linked live session see it."""
        await self.stored_here(number, document)
        for page in self.on_page:
            await page("stored", number, document)

    async def unreadable(self, number: str, document: dict[str, Any]) -> None:
        """A page was marked unreadable: the applicant side is asked to capture it again."""
        await self.unreadable_here(number, document)
        for page in self.on_page:
            await page("unreadable", number, document)

    async def stored_here(self, number: str, document: dict[str, Any]) -> None:
        """`stored`, for the sessions of this process."""
        message = DocStored(case=number, document=document)
        for session in self._linked_sessions(number):
            for p in session.participants:
                await self.connections.to_holder(p.holder, message)

    async def unreadable_here(self, number: str, document: dict[str, Any]) -> None:
        """`unreadable`, for the sessions of this process."""
        message = DocRecapture(
            case=number,
            material=document["material"],
            page=document["page"],
            reason=document.get("reason") or "",
        )
        for session in self._linked_sessions(number):
            await self.connections.to_holder(session.applicant.holder, message)
            await self.connections.to_holder(
                session.reviewer.holder, DocStored(case=number, document=document)
            )


def _doc_case(session: VideoSession, number: str, linked: LinkedCase) -> DocCase:
    return DocCase(
        session_id=session.id, case=number, item=linked.item, materials=list(linked.materials)
    )
