"""The session manifest: what a finalised case folder holds, signed.

`manifest.json` lists the session (id, item, place, participants, outcome), the
media segments with their wall-clock start/end and the gaps between one
participant's segments, every file of the folder (relative path, size, SHA-256,
and for media the duration), and the event log's line count and last hash (the
only way to notice that the last event line was deleted). `manifest.sig` is the
base64 Ed25519 signature over the exact bytes of `manifest.json`.

Segments are rebuilt from the `segment.opened` / `segment.closed` events, so a
recovered folder gets the same manifest as one finalised by its process.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import av

from recording.audit import check_chain, read_events
from recording.canonical import parse_iso, sha256_file, write_atomic

FORMAT = "remote-window-archive/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
EVENTS = "events.jsonl"
OPEN_MARKER = ".open"
# events.jsonl is pinned by the manifest's "events" entry (line count and last
# hash) rather than a file hash: after finalisation it keeps growing with
# access events (who viewed or downloaded the case), chained on the signed prefix.
NOT_LISTED = frozenset({MANIFEST, SIGNATURE, OPEN_MARKER, EVENTS})
ACCESS_PREFIX = "access."
TOP_LEVEL_INFO = ("item", "place", "participants", "outcome", "interruption")


class Signer(Protocol):
    """What `write_manifest` needs from a key (see `recording.keys.ArchiveSigner`)."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key_b64(self) -> str: ...


def segments_from_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Media segments in opening order, each with its closing data merged in."""
    segments: dict[tuple[str, str, int], dict[str, Any]] = {}
    for event in events:
        data = event["data"]
        if event["type"] == "segment.opened":
            key = (data["participant"], data.get("track") or data["kind"], data["segment"])
            segments[key] = {**data, "end": None}
        elif event["type"] == "segment.closed":
            key = (data["participant"], data.get("track") or data["kind"], data["segment"])
            if key in segments:
                segments[key].update(data)
    return list(segments.values())


def segment_gaps(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gaps between the consecutive segments (joins) of each participant.

    A join spans its tracks: from the earliest start to the latest end. Times
    are ISO strings in one format, so they compare as text.
    """
    tracks: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for seg in segments:
        tracks[(seg["participant"], seg["segment"])].append(seg)
    joins = []
    for key, segs in sorted(tracks.items()):
        ends = [s["end"] for s in segs if s["end"]]
        joins.append((key, min(s["start"] for s in segs), max(ends, default=None)))
    gaps = []
    for (prev_key, _, prev_end), (key, start, _) in pairwise(joins):
        if prev_key[0] != key[0] or prev_end is None:
            continue
        gaps.append(
            {
                "participant": key[0],
                "after_segment": prev_key[1],
                "before_segment": key[1],
                "from": prev_end,
                "to": start,
                "seconds": round((parse_iso(start) - parse_iso(prev_end)).total_seconds(), 3),
            }
        )
    return gaps


def media_duration(path: Path) -> float | None:
    """Seconds of media in a WebM file, read from its packets (works on cut files).

    The span from the first to the last packet plus one mean packet interval;
    None when no packet can be read.
    """
    stamps: list[float] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams[0]
            for packet in container.demux(stream):
                if packet.pts is not None:
                    stamps.append(float(packet.pts * packet.time_base))
    except av.error.FFmpegError:
        pass  # a file cut by a kill ends in a partial cluster: keep what was read
    if not stamps:
        return None
    span = max(stamps) - min(stamps)
    return round(span + (span / (len(stamps) - 1) if len(stamps) > 1 else 0.0), 3)


def file_entries(folder: Path) -> list[dict[str, Any]]:
    """Every file under `folder` except the manifest, its signature and the open marker."""
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in NOT_LISTED:
            continue
        digest, size = sha256_file(path)
        entry: dict[str, Any] = {"path": rel, "size": size, "sha256": digest}
        if rel.startswith("media/") and rel.endswith(".webm"):
            entry["duration"] = media_duration(path)
        entries.append(entry)
    return entries


def build_manifest(
    folder: Path,
    session_id: str,
    started_at: str,
    finalized_at: str,
    info: dict[str, Any],
    public_key_b64: str,
) -> dict[str, Any]:
    """The manifest of a folder whose event log is complete (call after the last event)."""
    events_path = folder / EVENTS
    chain = check_chain(events_path)
    segments = segments_from_events(read_events(events_path))
    for seg in segments:
        if not (folder / seg["file"]).exists():
            seg["file"] = None  # opened, but no packet ever arrived
    participants = info.get("participants") or sorted({seg["participant"] for seg in segments})
    for p in participants:
        if isinstance(p, dict) and "label" in p:  # each participant's own media files
            p["media"] = [
                seg["file"] for seg in segments if seg["participant"] == p["label"] and seg["file"]
            ]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "session_id": session_id,
        "started_at": started_at,
        "finalized_at": finalized_at,
        "item": info.get("item"),
        "place": info.get("place"),
        "participants": participants,
        "outcome": info.get("outcome"),
        "info": {k: v for k, v in info.items() if k not in TOP_LEVEL_INFO},
        "segments": segments,
        "gaps": segment_gaps(segments),
        "events": {"file": EVENTS, "lines": chain.lines, "last_hash": chain.last_hash},
        "files": file_entries(folder),
        "public_key": public_key_b64,
    }
    if "interruption" in info:
        manifest["interruption"] = info["interruption"]
    return manifest


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The stored form of a manifest (readable JSON; the signature covers these bytes)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write_manifest(folder: Path, manifest: dict[str, Any], signer: Signer) -> None:
    """Write `manifest.json`, then `manifest.sig` (each atomically)."""
    data = manifest_bytes(manifest)
    write_atomic(folder / MANIFEST, data)
    write_atomic(folder / SIGNATURE, base64.b64encode(signer.sign(data)) + b"\n")
