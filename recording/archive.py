"""One case folder per session, written as the session goes.

    <archive_root>/YYYY/MM/DD/<session-id>/
        .open              present while the session is live (removed by finalize)
        events.jsonl       hash-chained audit events (recording.audit.AuditLog)
        media/<participant>-<kind>-<segment>.webm
        media/<participant>-video1-<segment>.webm   a second camera ("video:1": document camera)
        documents/<n>.<ext>, evidence/<n>.<ext>
        manifest.json, manifest.sig   written by finalize

The date folders come from `started_at` in the time zone it carries. A
participant's segment index grows each time they (re)join: tracks opened while
another track of theirs is open share its index and its `TrackClock`.

Blocking: storing documents and `finalize` (which hashes every file) do
file I/O and fsync; from asyncio run them in a thread. Opening and closing a
segment is cheap when the archive is given `defer`: their audit events are
then stamped at the call and handed to `defer` (one ordered writer thread),
so they take their place in the chain in the order things happened. Events
logged through `log(..., when=...)` on that same thread keep that order too.
`TrackWriter.write` on the returned writers is the only per-packet call.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recording.audit import AuditLog, read_events
from recording.canonical import (
    DIR_MODE,
    Clock,
    canonical_json,
    fsync_dir,
    iso_utc,
    make_dirs,
    sha256_hex,
    utc_now,
    write_atomic,
)
from recording.manifest import EVENTS, OPEN_MARKER, Signer, build_manifest, write_manifest
from recording.webm import Kind, TrackClock, TrackStats, TrackWriter

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# What a `.open` marker's signature covers: this prefix, then the canonical JSON
# of {"session_id", "started_at"} (the prefix keeps it from ever being a manifest).
MARKER_CONTEXT = b"remote-window open marker\n"
SUBFOLDERS = ("media", "documents", "evidence")
Defer = Callable[[Callable[[], object]], object]


class ArchiveError(Exception):
    """A misuse of the archive (existing folder, segment already open, ...)."""


def _check_name(what: str, value: str) -> str:
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value):
        raise ArchiveError(f"{what} {value!r}: use 1-128 of A-Z a-z 0-9 . _ - (not first . _ -)")
    return value


@dataclass
class Segment:
    """One track of one join of a participant."""

    participant: str
    kind: Kind
    index: int
    file: str
    start: str
    writer: TrackWriter | None = None
    ended: bool = False
    track: str | None = None  # "video:1" for a participant's second camera; None: the first

    @property
    def track_key(self) -> str:
        return self.track or self.kind


class SessionArchive:
    """The live case folder of one session (see the module doc)."""

    def __init__(
        self,
        archive_root: str | os.PathLike[str],
        session_id: str,
        started_at: datetime,
        info: dict[str, Any] | None = None,
        *,
        clock: Clock = utc_now,
        cluster_seconds: float = 1.0,
        defer: Defer | None = None,
        marker_signer: Signer | None = None,
    ) -> None:
        """Create the folder; raise `ArchiveError` if it exists already.

        With `marker_signer`, the `.open` marker carries a signature (`sig`) over
        `marker_bytes`, so recovery can tell a folder this archive opened from
        one planted in it.
        """
        _check_name("session id", session_id)
        if started_at.tzinfo is None:
            raise ArchiveError("started_at must be timezone-aware")
        folder = Path(archive_root) / started_at.strftime("%Y/%m/%d") / session_id
        if folder.exists():
            raise ArchiveError(f"{folder}: archive folder exists already")
        make_dirs(folder.parent)
        folder.mkdir(mode=DIR_MODE)
        for name in SUBFOLDERS:
            (folder / name).mkdir(mode=DIR_MODE)
        opened = {"session_id": session_id, "started_at": iso_utc(started_at)}
        marker: dict[str, str] = dict(opened)
        if marker_signer is not None:
            marker["sig"] = base64.b64encode(marker_signer.sign(marker_bytes(opened))).decode()
        write_atomic(folder / OPEN_MARKER, json.dumps(marker).encode())
        self._setup(folder, session_id, opened["started_at"], clock, cluster_seconds)
        self._defer = defer
        self.info = dict(info or {})
        self.events.append("archive.opened", None, {**opened, "info": self.info})

    @classmethod
    def reopen(
        cls, folder: str | os.PathLike[str], *, clock: Clock = utc_now, cluster_seconds: float = 1.0
    ) -> SessionArchive:
        """Continue an open folder left by another process (rebuilding state from events).

        Segments that were open then have no writer now (`stale_segments`). A torn
        last event line was dropped: see `self.events.dropped`; the caller logs it.
        """
        folder = Path(folder)
        marker = folder / OPEN_MARKER
        if not marker.exists():
            raise ArchiveError(f"{folder}: not an open archive folder")
        opened = json.loads(marker.read_bytes())
        archive = cls.__new__(cls)
        archive._setup(folder, opened["session_id"], opened["started_at"], clock, cluster_seconds)
        archive._defer = None
        archive.info = {}
        segments: dict[tuple[str, str, int], Segment] = {}
        for event in read_events(folder / EVENTS):
            data = event["data"]
            if event["type"] == "archive.opened":
                archive.info = dict(data.get("info", {}))
            elif event["type"] in ("segment.opened", "segment.closed"):
                key = (data["participant"], data.get("track") or data["kind"], data["segment"])
                if event["type"] == "segment.opened":
                    segments[key] = Segment(
                        data["participant"],
                        data["kind"],
                        data["segment"],
                        data["file"],
                        data["start"],
                        track=data.get("track"),
                    )
                elif key in segments:
                    segments[key].ended = True
        archive._segments = list(segments.values())
        return archive

    def _setup(
        self, folder: Path, session_id: str, started_at: str, clock: Clock, cluster_seconds: float
    ) -> None:
        self.folder = folder
        self.session_id = session_id
        self.started_at = started_at
        self._clock = clock
        self._cluster_seconds = cluster_seconds
        self._lock = threading.RLock()
        self._segments: list[Segment] = []
        self._clocks: dict[tuple[str, int], TrackClock] = {}
        self._finalized = False
        self.events = AuditLog(folder / EVENTS, clock=clock)

    def log(
        self,
        type: str,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Append one audit event to the session's chain (`when`: default now)."""
        return self.events.append(type, actor, data, when=when)

    def _log_now_or_deferred(
        self, type: str, data: dict[str, Any], deferred: bool, when: datetime | None = None
    ) -> None:
        if deferred and self._defer is not None:
            stamp = when or self._clock()
            self._defer(lambda: self.events.append(type, None, data, when=stamp))
        else:
            self.events.append(type, None, data, when=when)

    def _now(self) -> str:
        return iso_utc(self._clock())

    def open_segment(
        self,
        participant: str,
        kind: Kind,
        clock: TrackClock | None = None,
        track: str | None = None,
    ) -> tuple[TrackWriter, int]:
        """Start recording one track of a participant; returns (writer, segment index).

        `track` names a further track of the kind ("video:1": the document
        camera); it gets its own file and its events carry `"track"`."""
        _check_name("participant", participant)
        if kind not in ("video", "audio"):
            raise ArchiveError(f"kind must be 'video' or 'audio', not {kind!r}")
        if track is not None and not re.fullmatch(rf"{kind}:[1-9][0-9]?", track):
            raise ArchiveError(f"track must be like '{kind}:1', not {track!r}")
        key = track or kind
        with self._lock:
            self._check_live()
            live = [s for s in self._segments if s.participant == participant and not s.ended]
            if any(s.track_key == key for s in live):
                raise ArchiveError(f"{participant} {key}: a segment is open already")
            if live:
                index = live[0].index
            else:
                mine = [s.index for s in self._segments if s.participant == participant]
                index = max(mine, default=0) + 1
            track_clock = self._clocks.setdefault((participant, index), clock or TrackClock())
            rel = f"media/{participant}-{key.replace(':', '')}-{index}.webm"
            writer = TrackWriter(
                self.folder / rel, kind, track_clock, cluster_seconds=self._cluster_seconds
            )
            now = self._clock()
            seg = Segment(participant, kind, index, rel, iso_utc(now), writer, track=track)
            opened = {
                "participant": participant,
                "kind": kind,
                "segment": index,
                "file": rel,
                "start": seg.start,
            }
            self._log_now_or_deferred(
                "segment.opened",
                opened | ({"track": track} if track else {}),
                deferred=True,
                when=now,
            )
            self._segments.append(seg)
            return writer, index

    def close_segment(self, participant: str, kind: Kind, track: str | None = None) -> TrackStats:
        """Finish the open segment of this participant and kind (or track); returns its stats."""
        key = track or kind
        with self._lock:
            for seg in self._segments:
                live = seg.writer is not None and not seg.ended
                if live and (seg.participant, seg.track_key) == (participant, key):
                    return self._close(seg, deferred=True)
            raise ArchiveError(f"{participant} {key}: no open segment")

    def _close(self, seg: Segment, *, deferred: bool = False) -> TrackStats:
        assert seg.writer is not None
        stats = seg.writer.close()
        self._log_closed(
            seg,
            self._now(),
            deferred=deferred,
            packets=stats.packets,
            dropped=stats.dropped,
            rebased=stats.rebased,
            first_pts=stats.first_pts,
            duration=round(stats.duration, 3),
        )
        return stats

    def _log_closed(
        self, seg: Segment, end: str, *, deferred: bool = False, **details: Any
    ) -> None:
        seg.ended = True
        closed = {"participant": seg.participant, "kind": seg.kind, "segment": seg.index}
        if seg.track:
            closed["track"] = seg.track
        self._log_now_or_deferred("segment.closed", closed | {"end": end} | details, deferred)

    def stale_segments(self) -> list[Segment]:
        """Segments left open by a process that ended (no writer here)."""
        return [s for s in self._segments if not s.ended and s.writer is None]

    def close_stale_segments(self) -> None:
        """Mark stale segments interrupted; the end is their file's last write time.

        The media bytes are left exactly as they are: a file cut by a kill is
        readable up to its last complete cluster.
        """
        with self._lock:
            for seg in self.stale_segments():
                path = self.folder / seg.file
                end = _mtime_iso(path) if path.exists() else self._now()
                self._log_closed(seg, end, interrupted=True)

    def add_document(
        self, data: bytes, actor: str | None, meta: dict[str, Any] | None = None, ext: str = "jpg"
    ) -> str:
        """Store a document-camera still as `documents/<n>.<ext>`; returns its path."""
        return self._store("documents", "document.stored", data, actor, meta, ext)

    def add_evidence(
        self, data: bytes, actor: str | None, meta: dict[str, Any] | None = None, ext: str = "jpg"
    ) -> str:
        """Store an inspection frame as `evidence/<n>.<ext>`; returns its path."""
        return self._store("evidence", "evidence.stored", data, actor, meta, ext)

    def _store(
        self,
        subfolder: str,
        event_type: str,
        data: bytes,
        actor: str | None,
        meta: dict[str, Any] | None,
        ext: str,
    ) -> str:
        _check_name("extension", ext)
        with self._lock:
            self._check_live()
            stems = (p.name.split(".")[0] for p in (self.folder / subfolder).iterdir())
            n = 1 + max((int(stem) for stem in stems if stem.isdigit()), default=0)
            rel = f"{subfolder}/{n}.{ext}"
            write_atomic(self.folder / rel, data)
            info = {**(meta or {}), "file": rel, "size": len(data), "sha256": sha256_hex(data)}
            self.log(event_type, actor, info)
            return rel

    def _check_live(self) -> None:
        if self._finalized:
            raise ArchiveError(f"{self.folder}: archive is finalised")

    def finalize(self, info: dict[str, Any], signer: Signer, actor: str | None = None) -> Path:
        """Close open segments, log `archive.finalized`, write and sign the manifest.

        `info` (item, place, participants, outcome, ...) is merged over the info
        given when the archive was opened. Returns the manifest path.
        """
        with self._lock:
            self._check_live()
            self.close_stale_segments()
            for seg in self._segments:
                if seg.writer is not None and not seg.ended:
                    self._close(seg)
            merged = {**self.info, **info}
            self.log("archive.finalized", actor, {"outcome": merged.get("outcome")})
            self.events.close()
            self._finalized = True
            manifest = build_manifest(
                self.folder,
                self.session_id,
                self.started_at,
                self._now(),
                merged,
                signer.public_key_b64(),
            )
            write_manifest(self.folder, manifest, signer)
            (self.folder / OPEN_MARKER).unlink()
            fsync_dir(self.folder)
            return self.folder / "manifest.json"


def marker_bytes(opened: dict[str, Any]) -> bytes:
    """The bytes a `.open` marker's signature covers."""
    fields = {"session_id": opened.get("session_id"), "started_at": opened.get("started_at")}
    return MARKER_CONTEXT + canonical_json(fields)


def _mtime_iso(path: Path) -> str:
    """Last modification time of a file, as an event time string."""
    return iso_utc(datetime.fromtimestamp(path.stat().st_mtime, UTC))
