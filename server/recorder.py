"""Bridges live sessions to the case archive (recording/).

- Every session gets a folder in `<data_dir>/archive` when it is created; its
  audit events go to that folder's hash chain.
- Every inbound track of every participant is remuxed into a WebM segment by
  a tap on the media hub's InboundStream: per packet, only `TrackWriter.write`
  runs, on the event loop, with no decoding.
- A rejoin (new inbound streams for a participant) closes the participant's
  segments and opens the next ones; the manifest lists the gap.
- Archive bookkeeping that fsyncs or hashes (events, finalisation, recovery)
  runs on one worker thread, in submission order, so the event loop never
  waits for the disk. Events are stamped when they are submitted, so the
  chain's order and its times both say when things happened.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from recording.archive import SessionArchive
from recording.audit import SystemAuditLog
from recording.canonical import make_dirs, utc_now
from recording.keys import ArchiveSigner
from recording.recovery import recover_open_sessions
from recording.retention import prune
from recording.webm import TrackWriter
from server.store import Ticket
from server.video_session import VideoSession

log = logging.getLogger(__name__)
InboundHook = Callable[[str, str, Any], None]


def participant_label(holder: str) -> str:
    """File-name-safe participant name: `kiosk:k-1a2b` → `kiosk-k-1a2b`."""
    return holder.replace(":", "-")


class _Recording:
    """The archive of one live session and its open track writers."""

    def __init__(self, archive: SessionArchive) -> None:
        self.archive = archive
        self.writers: dict[tuple[str, str], TrackWriter] = {}
        self.detach: dict[tuple[str, str], Callable[[], None]] = {}


class SessionRecorder:
    def __init__(self, data_dir: Path, cluster_seconds: float = 1.0) -> None:
        self.root = data_dir / "archive"
        self.data_dir = data_dir
        self.cluster_seconds = cluster_seconds
        self._io = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="archive"
        )
        self._live: dict[str, _Recording] = {}
        self._finished: dict[str, asyncio.Event] = {}
        self.signer: ArchiveSigner | None = None
        self.system_log: SystemAuditLog | None = None
        self.write_seconds = 0.0  # time spent muxing packets, for /metrics and the bench
        self.packets_written = 0
        # Called on the archive thread with each folder once it is finalised and
        # signed, or closed by crash recovery (the register's recordings index).
        self.on_sealed: list[Callable[[Path], Any]] = []

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> list[Path]:
        """Load or create the signing key, open the system log, recover crashes."""
        make_dirs(self.root)
        loop = asyncio.get_running_loop()
        self.signer = await loop.run_in_executor(
            self._io, ArchiveSigner.load_or_create, self.data_dir
        )
        self.system_log = await loop.run_in_executor(self._io, SystemAuditLog, self.root)
        recover = functools.partial(
            recover_open_sessions, self.root, self.signer, require_marker_signature=True
        )
        recovered = await loop.run_in_executor(self._io, recover)
        for folder in recovered:
            self._submit(self._sealed, folder)
            self.system("archive.recovered", None, {"session": folder.name})
            log.warning("recovered an interrupted session", extra={"session": folder.name})
        return recovered

    async def prune(self, retention_days: int) -> list[str]:
        """Remove finished cases past retention (each logged to the system log)."""
        assert self.system_log is not None
        future = self._submit(prune, self.root, retention_days, self.system_log)
        return await asyncio.wrap_future(future)

    async def stop(self) -> None:
        for session_id in list(self._live):
            await self._finalize(session_id, {"outcome": "server_shutdown"})
        loop = asyncio.get_running_loop()
        if self.system_log is not None:
            await loop.run_in_executor(self._io, self.system_log.close)
        self._io.shutdown(wait=True)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        future = self._io.submit(fn, *args)
        future.add_done_callback(_log_failure)
        return future

    # -- events ------------------------------------------------------------
    def system(self, type_: str, actor: str | None, data: dict[str, Any]) -> None:
        """A staff action outside sessions: the daily system audit log."""
        if self.system_log is not None:
            self._submit(self.system_log.append, type_, actor, data, utc_now())

    def open(self, session: VideoSession, ticket: Ticket) -> None:
        info = {
            "session": session.id,
            "item": session.item,
            "place": session.place,
            "queue": session.queue,
            "ticket": ticket.id,
            "priority_class": ticket.priority_class,
        }
        started = datetime.fromtimestamp(session.created_at, UTC)
        archive = SessionArchive(
            self.root,
            session.id,
            started,
            info,
            cluster_seconds=self.cluster_seconds,
            defer=self._submit,
            marker_signer=self.signer,
        )
        self._live[session.id] = _Recording(archive)
        self._finished[session.id] = asyncio.Event()
        waited = (ticket.called_at or session.created_at) - ticket.joined_at
        self.event(
            session, "session.created", session.reviewer.subject, {"queue_wait_s": round(waited, 1)}
        )
        self.event(
            session,
            "recording.notice_shown",
            session.applicant.holder,
            {"text": "本次办理全程录音录像"},
        )

    def event(
        self, session: VideoSession, type_: str, actor: str | None, data: dict[str, Any]
    ) -> None:
        recording = self._live.get(session.id)
        if recording is not None:
            # Stamped now, written in order by the archive thread.
            self._submit(recording.archive.log, type_, actor, data, utc_now())

    # -- media -------------------------------------------------------------
    def inbound_hook(self, session: VideoSession) -> InboundHook:
        def hook(holder: str, kind: str, stream: Any) -> None:
            self._record_stream(session.id, holder, kind, stream)

        return hook

    def _record_stream(self, session_id: str, holder: str, key: str, stream: Any) -> None:
        """Record one inbound track: `key` "audio", "video" or "video:1" (document camera)."""
        recording = self._live.get(session_id)
        kind, _, extra = key.partition(":")
        if recording is None or kind not in ("audio", "video"):
            return
        track = key if extra else None
        wkey = (holder, key)
        if wkey in recording.writers:
            # A new stream for a track we are writing: the participant rejoined.
            self.close_participant(session_id, holder)
        label = participant_label(holder)
        writer, _ = recording.archive.open_segment(label, kind, track=track)  # type: ignore[arg-type]
        recording.writers[wkey] = writer

        def tap(packet: av.Packet, arrival: float) -> None:
            started = time.perf_counter()
            writer.write(bytes(packet), packet.pts, packet.is_keyframe, arrival)
            self.write_seconds += time.perf_counter() - started
            self.packets_written += 1
            if writer.needs_keyframe:
                stream.request_keyframe()

        recording.detach[wkey] = stream.add_tap(tap)
        if kind == "video":
            stream.request_keyframe(joining=True)  # a video file starts at a keyframe

    def close_participant(self, session_id: str, holder: str) -> None:
        """Close the participant's open segments (connection lost, or rejoin)."""
        recording = self._live.get(session_id)
        if recording is None:
            return
        for wkey in [k for k in recording.writers if k[0] == holder]:
            recording.detach.pop(wkey)()
            del recording.writers[wkey]
            key = wkey[1]
            kind, _, extra = key.partition(":")
            track = key if extra else None
            recording.archive.close_segment(participant_label(holder), kind, track)  # type: ignore[arg-type]

    # -- ending ------------------------------------------------------------
    async def close(self, session: VideoSession) -> None:
        participants = [
            {
                "holder": p.holder,
                "role": p.role,
                "party": p.party,
                "account": p.subject,
                "name": p.name,
                "place": p.place,
                "label": participant_label(p.holder),  # the media files' prefix
                "stays": [
                    {"joined": _iso(a), "left": _iso(b) if b is not None else None}
                    for a, b in p.stays
                ],
                "added_by": p.added_by,
            }
            for p in session.everyone
        ]
        await self._finalize(
            session.id,
            {"outcome": session.outcome, "participants": participants, "live_at": session.live_at},
        )

    async def _finalize(self, session_id: str, info: dict[str, Any]) -> None:
        recording = self._live.pop(session_id, None)
        if recording is None:
            return
        for detach in recording.detach.values():
            detach()
        assert self.signer is not None
        future = self._submit(self._finalize_sealed, recording.archive, info, self.signer)
        try:
            await asyncio.wrap_future(future)
        finally:
            self._finished.pop(session_id, asyncio.Event()).set()

    def _finalize_sealed(self, archive: SessionArchive, info: dict[str, Any], signer: Any) -> Path:
        manifest = archive.finalize(info, signer)
        self._sealed(manifest.parent)
        return manifest

    def _sealed(self, folder: Path) -> None:
        for hook in self.on_sealed:
            try:
                hook(folder)
            except Exception:
                log.exception("after sealing a session failed", extra={"session": folder.name})

    async def flushed(self) -> None:
        """Until every archive write queued so far (events, system log) is done."""
        await asyncio.wrap_future(self._io.submit(lambda: None))

    async def wait_finalized(self, session_id: str) -> None:
        """Until the session's manifest is signed (returns at once if it is)."""
        event = self._finished.get(session_id)
        if event is not None:
            await event.wait()


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if future.cancelled():  # its awaiting task was cancelled (shutdown) before it ran
        return
    exc = future.exception()
    if exc is not None:
        log.error("archive operation failed", exc_info=exc)
