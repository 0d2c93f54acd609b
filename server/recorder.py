"""Bridges sessions to the case archive: audit events, recordings, manifests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from server.store import Ticket
from server.video_session import VideoSession

log = logging.getLogger(__name__)
InboundHook = Callable[[str, str, Any], None]


class SessionRecorder:
    """Interim: events go to the log until the archive lands (issue 4)."""

    def open(self, session: VideoSession, ticket: Ticket) -> None:
        self.event(session, "session.created", session.reviewer.subject, {"queue": ticket.queue})

    def event(
        self, session: VideoSession, type_: str, actor: str | None, data: dict[str, Any]
    ) -> None:
        log.info("audit", extra={"session": session.id, "event": type_, "actor": actor})

    def system(self, type_: str, actor: str | None, data: dict[str, Any]) -> None:
        log.info("system audit", extra={"event": type_, "actor": actor})

    def inbound_hook(self, session: VideoSession) -> InboundHook:
        def hook(participant: str, kind: str, stream: Any) -> None:
            return None

        return hook

    async def close(self, session: VideoSession) -> None:
        return None
