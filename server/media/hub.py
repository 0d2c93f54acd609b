"""MediaHub: the media sessions of one server process (see ``session`` for the routing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import passthrough
from .session import (
    IceServerLike,
    MediaNegotiationError,
    MediaSession,
    SessionClosedError,
    SessionFullError,
)

__all__ = [
    "IceServerLike",
    "MediaHub",
    "MediaNegotiationError",
    "MediaSession",
    "SessionClosedError",
    "SessionFullError",
]


class MediaHub:
    """All media sessions of this server process."""

    def __init__(
        self,
        *,
        max_participants: int = 2,
        keyframe_interval_ms: int = 300,
        queue_frames: Mapping[str, int] | None = None,
        silence_s: float | None = None,
    ) -> None:
        passthrough.install()
        self.max_participants = max_participants
        self.keyframe_interval_ms = keyframe_interval_ms
        self.queue_frames = dict(queue_frames or {})
        self.silence_s = silence_s  # a connected pc silent this long has failed
        self.sessions: dict[str, MediaSession] = {}

    def session(self, session_id: str) -> MediaSession:
        """The media session for ``session_id``, created on first use."""
        media_session = self.sessions.get(session_id)
        if media_session is None:
            media_session = self.sessions[session_id] = MediaSession(
                session_id,
                max_participants=self.max_participants,
                keyframe_interval_ms=self.keyframe_interval_ms,
                queue_frames=self.queue_frames,
                silence_s=self.silence_s,
                on_close=self._forget,
            )
        return media_session

    def get(self, session_id: str) -> MediaSession | None:
        return self.sessions.get(session_id)

    async def close_session(self, session_id: str) -> None:
        media_session = self.sessions.get(session_id)
        if media_session is not None:
            await media_session.close()

    async def close(self) -> None:
        """Close every session."""
        for media_session in list(self.sessions.values()):
            await media_session.close()

    async def stream_stats(self) -> list[dict[str, Any]]:
        """Per stream: session, participant, kind, direction (in/out), bitrate_bps,
        packets_lost, jitter (s), frames_forwarded, keyframe_requests, frames_dropped."""
        rows: list[dict[str, Any]] = []
        for media_session in list(self.sessions.values()):
            rows.extend(await media_session.stream_stats())
        return rows

    def _forget(self, media_session: MediaSession) -> None:
        if self.sessions.get(media_session.session_id) is media_session:
            del self.sessions[media_session.session_id]
