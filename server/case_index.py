"""Reading the case archive for the web: find and summarise cases.

Pure functions over the files of `recording/` (no HTTP): which folder a
session id names, who may see a case, a case's list entry, the replay data
(events, media lanes, gaps), and appending `access.*` events. The list
itself is a register query (server/recordings.py), not a walk of the tree.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from recording.audit import AuditLog, check_chain
from recording.keys import verify_signature
from recording.manifest import ACCESS_PREFIX, EVENTS, MANIFEST, OPEN_MARKER, SIGNATURE
from server.archive_fs import Unsafe, open_dir, read_file, tree_problem
from server.auth import Identity

SESSION_ID = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})-[0-9]{6}-[0-9a-f]{8}", re.ASCII)
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}\.(webm|jpg)", re.ASCII)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
FILTER_MAX = 64
FOLDERS = {"media": ("webm", "video/webm"), "documents": ("jpg", "image/jpeg")}

log = logging.getLogger(__name__)


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


@dataclass(frozen=True)
class FoundCase:
    """A finalised case folder, read without following links.

    `signature` is "ok", "missing" or "invalid": only "ok" cases are served;
    the others are listed, flagged, for supervisors (a forged or damaged folder).
    """

    root: Path  # the archive root
    parts: tuple[str, ...]  # below it: YYYY, MM, DD, session id
    manifest: dict[str, Any]
    signature: str

    @property
    def folder(self) -> Path:
        return self.root.joinpath(*self.parts)

    @property
    def signed(self) -> bool:
        return self.signature == "ok"


def load_case(root: Path, parts: tuple[str, ...], public_key: Any) -> FoundCase | None:
    """The finalised case at `root/parts`, or None (absent, still open, unreadable,
    or holding a symlink or special file anywhere: those are logged and refused)."""
    folder = root.joinpath(*parts)
    try:
        with open_dir(root, parts) as fd:
            try:
                os.stat(OPEN_MARKER, dir_fd=fd, follow_symlinks=False)
                return None  # still being recorded (or recovered at the next start)
            except FileNotFoundError:
                pass
            raw = read_file(fd, MANIFEST)
            try:
                sig_text = read_file(fd, SIGNATURE, max_bytes=4096)
            except FileNotFoundError:
                sig_text = None
    except FileNotFoundError:
        return None
    except Unsafe as exc:
        log.warning("case folder refused", extra={"session": parts[-1], "problem": str(exc)})
        return None
    except OSError as exc:
        log.warning("unreadable case folder", extra={"session": parts[-1], "err": exc.strerror})
        return None
    problem = tree_problem(folder)
    if problem is not None:
        log.warning("case folder refused", extra={"session": parts[-1], "problem": problem})
        return None
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("session_id") != folder.name:
        log.warning("manifest does not match its folder", extra={"session": parts[-1]})
        return None
    return FoundCase(root, parts, manifest, _signature_state(raw, sig_text, public_key))


def _signature_state(raw: bytes, sig_text: bytes | None, public_key: Any) -> str:
    if sig_text is None:
        return "missing"
    if public_key is None:
        return "invalid"
    try:
        sig = base64.b64decode(sig_text.strip(), validate=True)
    except ValueError:
        return "invalid"
    return "ok" if verify_signature(public_key, raw, sig) else "invalid"


def find_case(root: Path, session_id: str, public_key: Any) -> FoundCase | None:
    """The finalised case of a session id, or None (bad id, absent, open, refused).

    The id carries the UTC date it was made; the folder is dated by the session's
    creation a moment later, so the next day is looked at too (midnight).
    """
    match = SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    for candidate in (day, day + timedelta(days=1)):
        parts = (f"{candidate:%Y}", f"{candidate:%m}", f"{candidate:%d}", session_id)
        found = load_case(root, parts, public_key)
        if found is not None:
            return found
    return None


def participants(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Participants as dicts; a recovered session lists only labels (`role-account`)."""
    out = []
    for entry in manifest.get("participants") or []:
        if isinstance(entry, dict):
            out.append(entry)
        elif isinstance(entry, str) and "-" in entry:
            role, account = entry.split("-", 1)
            out.append({"holder": f"{role}:{account}", "role": role, "account": account})
    return out


def reviewers(manifest: dict[str, Any]) -> list[str]:
    return [
        str(p.get("account"))
        for p in participants(manifest)
        if p.get("role") == "reviewer" and p.get("account")
    ]


def may_see(ident: Identity, manifest: dict[str, Any]) -> bool:
    if ident.role == "supervisor":
        return True
    return ident.role == "reviewer" and ident.subject in reviewers(manifest)


def _names(table: dict[str, Any], code: Any) -> dict[str, str] | None:
    entry = table.get(code) if isinstance(code, str) else None
    return entry.names.to_json() if entry is not None else None


def base_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """A list entry from a manifest, without catalogue names (the register keeps it)."""
    started = parse_time(manifest.get("started_at"))
    finalized = parse_time(manifest.get("finalized_at"))
    people = participants(manifest)
    return {
        "id": manifest["session_id"],
        "started_at": manifest.get("started_at"),
        "finalized_at": manifest.get("finalized_at"),
        "duration_s": _seconds(started, finalized),
        "item": manifest.get("item"),
        "place": manifest.get("place"),
        "reviewers": reviewers(manifest),
        "reviewer_names": [p.get("name") for p in people if p.get("role") == "reviewer"],
        "outcome": manifest.get("outcome"),
    }


def with_names(summary: dict[str, Any], catalogue: Any) -> dict[str, Any]:
    """The entry with the item's and the place's names from the catalogue."""
    return {
        **summary,
        "item_names": _names(catalogue.items, summary.get("item")),
        "place_names": _names(catalogue.places, summary.get("place")),
    }


def case_summary(manifest: dict[str, Any], catalogue: Any) -> dict[str, Any]:
    return with_names(base_summary(manifest), catalogue)


def read_case_events(path: Path) -> list[dict[str, Any]]:
    """Events of a case log; a torn last line (a write in progress) is left out."""
    events = []
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _media_lanes(
    manifest: dict[str, Any], origin: datetime | None, urls: dict[str, str]
) -> list[dict[str, Any]]:
    """One lane per participant camera: its joins (segments) with audio/video files and
    offsets. A second camera (segments with `"track": "video:1"`, the kiosk's document
    camera) is a lane of its own, video only, with `track` set."""
    durations = {f.get("path"): f.get("duration") for f in manifest.get("files") or []}
    people = {str(p.get("holder", "")).replace(":", "-"): p for p in participants(manifest)}
    lanes: dict[str, dict[str, Any]] = {}
    for seg in manifest.get("segments") or []:
        label = seg.get("participant")
        if not isinstance(label, str):
            continue
        person = people.get(label, {})
        track = seg.get("track") if isinstance(seg.get("track"), str) else None
        lane = lanes.setdefault(
            f"{label}|{track}" if track else label,
            {
                "participant": label,
                "track": track,
                "role": person.get("role") or label.split("-", 1)[0],
                # N-party: applicant, reviewer, colleague, inspector, observer (None before)
                "party": person.get("party"),
                "account": person.get("account"),
                "name": person.get("name"),
                "joins": {},
            },
        )
        join = lane["joins"].setdefault(
            seg.get("segment"), {"segment": seg.get("segment"), "start": None, "end": None}
        )
        start, end = parse_time(seg.get("start")), parse_time(seg.get("end"))
        if start and (join["start"] is None or start < join["start"]):
            join["start"] = start
        if end and (join["end"] is None or end > join["end"]):
            join["end"] = end
        file, kind = seg.get("file"), seg.get("kind")
        if isinstance(file, str) and file in urls and kind in ("video", "audio"):
            join[kind] = {
                "file": file,
                "url": urls[file],
                "duration": durations.get(file),
                "start_s": _seconds(origin, start),
            }
    out = []
    for lane in lanes.values():
        joins = []
        for join in sorted(lane.pop("joins").values(), key=_segment_index):
            start, end = join.pop("start"), join.pop("end")
            media = [join[k] for k in ("video", "audio") if k in join]
            if end is None and media:  # interrupted without an end: use the media length
                longest = max((m["duration"] or 0.0) for m in media)
                end = start + timedelta(seconds=longest) if start else None
            join.update(
                {
                    "start": start.isoformat() if start else None,
                    "end": end.isoformat() if end else None,
                    "offset_s": _seconds(origin, start),
                    "end_s": _seconds(origin, end),
                }
            )
            joins.append(join)
        lane["segments"] = joins
        out.append(lane)
    order = {"kiosk": 0, "agent": 1, "reviewer": 2}
    parties = {"applicant": 0, "reviewer": 2, "colleague": 3, "inspector": 4, "observer": 5}
    return sorted(
        out,
        key=lambda lane: (
            parties.get(lane["party"], order.get(lane["role"], 3)),
            lane["participant"],
            lane["track"] or "",
        ),
    )


def _segment_index(join: dict[str, Any]) -> int:
    return join["segment"] if isinstance(join["segment"], int) else 0


def case_detail(case: FoundCase, catalogue: Any) -> dict[str, Any]:
    """Everything the replay page needs (blocking: run in a thread)."""
    folder, manifest = case.folder, case.manifest
    session_id = manifest["session_id"]
    origin = parse_time(manifest.get("started_at"))
    base = f"/api/cases/{session_id}/"
    urls = {
        f["path"]: base + f["path"]
        for f in manifest.get("files") or []
        if isinstance(f.get("path"), str) and _listed_path_ok(f["path"])
    }
    signed = (manifest.get("events") or {}).get("lines") or 0
    events = []
    for event in read_case_events(folder / EVENTS):
        seq = event.get("seq")
        events.append(
            {
                "seq": seq,
                "time": event.get("time"),
                "offset_s": _seconds(origin, parse_time(event.get("time"))),
                "type": event.get("type"),
                "actor": event.get("actor"),
                "data": event.get("data"),
                "signed": isinstance(seq, int) and seq <= signed,
            }
        )
    gaps = [
        {
            **gap,
            "from_s": _seconds(origin, parse_time(gap.get("from"))),
            "to_s": _seconds(origin, parse_time(gap.get("to"))),
        }
        for gap in manifest.get("gaps") or []
    ]
    files = [
        {"path": f["path"], "url": urls[f["path"]], "size": f.get("size")}
        for f in manifest.get("files") or []
        if f.get("path") in urls and not str(f["path"]).startswith("media/")
    ]
    chain = check_chain(folder / EVENTS)
    late = [e for e in events if not e["signed"]]
    return {
        "case": {
            **case_summary(manifest, catalogue),
            "participants": participants(manifest),
            "info": manifest.get("info") or {},
            "interruption": manifest.get("interruption"),
        },
        "lanes": _media_lanes(manifest, origin, urls),
        "gaps": gaps,
        "events": events,
        "files": files,
        "integrity": {
            "signature_ok": case.signed,
            "chain_problem": chain.problem,
            "signed_events": signed,
            "only_access_after_signing": all(
                str(e["type"]).startswith(ACCESS_PREFIX) for e in late
            ),
        },
    }


def _listed_path_ok(path: str) -> bool:
    folder, _, name = path.partition("/")
    return folder in FOLDERS and FILE_NAME.fullmatch(name) is not None and ".." not in name


# -- access events -------------------------------------------------------------


def append_access(folder: Path, type_: str, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    """Append one `access.*` event to a finalised case's chain (blocking; fsyncs).

    An exclusive flock on events.jsonl serialises writers across threads and
    processes (each open file description locks on its own).
    """
    if not type_.startswith(ACCESS_PREFIX):
        raise ValueError(f"{type_!r}: only {ACCESS_PREFIX}* events follow a signed manifest")
    path = folder / EVENTS
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # a planted link is refused (ELOOP)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with AuditLog(path) as audit:
            return audit.append(type_, actor, data)
    finally:
        os.close(fd)  # releases the lock
