"""The recordings list from the register: finalised session folders, indexed.

"Case lists, filters and statistics are queries, not walks of the archive
tree; the archive stays the evidence, the register indexes it." A session's
row (`recordings`, with its reviewers in `recording_reviewers`) is written
when its folder is finalised and signed (server/recorder.py, on the archive
thread), when crash recovery closes one, and at start for every finalised
folder the table does not know yet (`backfill`: an archive written before
the index, or restored from a backup; running it again changes nothing).

The row keeps the list entry read from the signed manifest and the signature
state found then ("ok", or "missing" / "invalid" for a folder the server did
not sign: listed, flagged, for supervisors only). Serving a recording still
loads and verifies its folder (server/archive_routes.py); what a serve finds
changed since (a broken signature; a folder gone, or holding a link: REFUSED,
left out of the list) is written back here. A folder planted or changed
behind the server's back is thus seen when it is served, or at the next
start; never by walking the tree for a list.
Blocking (SQL, disk): call from a thread.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, select

from recording.manifest import EVENTS
from server.archive_fs import Unsafe, is_real_dir, open_dir, read_file
from server.case_index import SESSION_ID, FoundCase, base_summary, load_case, parse_time, with_names
from server.register.db import Register
from server.register.models import CaseRow, CaseSession, RecordingReviewer, RecordingRow

log = logging.getLogger(__name__)
REFUSED = "refused"  # a serve found the indexed folder unusable: never listed
WAIT_KEY = "queue_wait_s"
WAIT_SCAN_LINES = 200  # `session.created` is among a chain's first lines


@dataclass(frozen=True)
class CaseFilter:
    """What `GET /api/cases` asks for (server/archive_routes.py)."""

    window: tuple[datetime, datetime] | None  # started_at bounds of a local day
    item: str | None
    place: str | None
    reviewer: str | None
    limit: int
    viewer: str | None = None  # a reviewer sees only cases they handled


class RecordingIndex:
    def __init__(self, register: Register, root: Path, public_key: Callable[[], Any]) -> None:
        """`public_key` gives the archive key (loaded once the server runs)."""
        self.register = register
        self.root = root
        self._public_key = public_key

    # -- writing -----------------------------------------------------------
    def add(self, folder: Path) -> bool:
        """Index one finalised folder (again: the row is replaced); False when it is
        not a finalised, readable case folder (left out, as the walk did)."""
        parts = folder.relative_to(self.root).parts
        found = load_case(self.root, parts, self._public_key())
        if found is None:
            return False
        self._write(found)
        return True

    def _write(self, found: FoundCase) -> None:
        summary = base_summary(found.manifest)
        wait = queue_wait(found.root, found.parts)
        summary[WAIT_KEY] = wait  # also marks the row as read for its wait
        kiosks = [
            p.get("account")
            for p in (found.manifest.get("participants") or [])
            if isinstance(p, dict) and p.get("role") == "kiosk"
        ]
        year, month, day, session_id = found.parts
        row = RecordingRow(
            session_id=session_id,
            folder="/".join(found.parts),
            day=date(int(year), int(month), int(day)),
            item=_text(summary.get("item")),
            place=_text(summary.get("place")),
            kiosk=_text(kiosks[0]) if kiosks else None,
            started_at=parse_time(summary.get("started_at")),
            ended_at=parse_time(summary.get("finalized_at")),
            outcome=_text(summary.get("outcome"), 32),
            queue_wait_s=wait,
            signature=found.signature,
            summary=summary,
            indexed_at=datetime.now(UTC),
        )
        accounts = dict.fromkeys(str(a)[:64] for a in summary.get("reviewers") or [])
        row.reviewers = [RecordingReviewer(account=a) for a in accounts]
        with self.register.write() as s:
            s.execute(delete(RecordingRow).where(RecordingRow.session_id == session_id))
            s.add(row)

    def mark(self, session_id: str, signature: str) -> None:
        """Record what a serve found: a signature broken after indexing, or REFUSED
        (the folder is gone, still open, or holds a link: out of the list)."""
        with self.register.read() as s:
            now = s.scalar(
                select(RecordingRow.signature).where(RecordingRow.session_id == session_id)
            )
        if now is None or now == signature:
            return  # not indexed (a bad id, a live session), or already known
        log.warning(
            "indexed recording changed on disk",
            extra={"session": session_id, "signature": signature},
        )
        with self.register.write() as s:
            row = s.get(RecordingRow, session_id)
            if row is not None:
                row.signature = signature

    def forget(self, session_ids: list[str]) -> None:
        """Rows of folders that are gone (retention pruning)."""
        if session_ids:
            with self.register.write() as s:
                s.execute(delete(RecordingRow).where(RecordingRow.session_id.in_(session_ids)))

    def backfill(self) -> int:
        """Index every finalised folder the table does not know, and again those
        indexed before the queue wait was (no wait, no `queue_wait_s` key in their
        summary: each is read once); returns how many."""
        with self.register.read() as s:
            query = select(
                RecordingRow.session_id, RecordingRow.queue_wait_s, RecordingRow.summary
            ).where(RecordingRow.signature != REFUSED)
            known = {  # refused ones are looked at again
                sid
                for sid, wait, summary in s.execute(query)
                if wait is not None or WAIT_KEY in (summary or {})
            }
        added = 0
        for folder in _session_folders(self.root):
            if folder.name in known:
                continue
            try:
                added += self.add(folder)
            except Exception:  # one odd folder must not stop the start
                log.exception("recording not indexed", extra={"session": folder.name})
        if added:
            log.info("recordings indexed from the archive", extra={"count": added})
        return added

    # -- reading -----------------------------------------------------------
    def list(self, flt: CaseFilter, catalogue: Any, *, unsigned: bool = False) -> list[dict]:
        """Matching recordings, newest first (the folder day, then the session id).

        Each carries `signed`; those without a valid signature are left out unless
        `unsigned` (supervisors), then listed with `signature` "missing" or "invalid".
        `case_number` is the register case the session is linked to, if any.
        """
        query = select(RecordingRow).where(RecordingRow.signature != REFUSED)
        if not unsigned:
            query = query.where(RecordingRow.signature == "ok")
        if flt.item:
            query = query.where(RecordingRow.item == flt.item)
        if flt.place:
            query = query.where(RecordingRow.place == flt.place)
        if flt.window:
            query = query.where(
                RecordingRow.started_at >= flt.window[0], RecordingRow.started_at < flt.window[1]
            )
        for account in {flt.reviewer, flt.viewer} - {None}:
            query = query.where(
                exists().where(
                    RecordingReviewer.session_id == RecordingRow.session_id,
                    RecordingReviewer.account == account,
                )
            )
        query = query.order_by(RecordingRow.day.desc(), RecordingRow.session_id.desc())
        with self.register.read() as s:
            rows = list(s.scalars(query.limit(flt.limit)))
            linked = _case_numbers(s, [r.session_id for r in rows])
        out = []
        for row in rows:
            entry = with_names(dict(row.summary), catalogue)
            entry["signed"] = row.signature == "ok"
            if row.signature != "ok":
                entry["signature"] = row.signature
            entry["case_number"] = linked.get(row.session_id)
            out.append(entry)
        return out


def _case_numbers(s: Any, session_ids: list[str]) -> dict[str, str]:
    """The case each session is linked to (the first link, if several)."""
    if not session_ids:
        return {}
    query = (
        select(CaseSession.session_id, CaseRow.number)
        .join(CaseRow, CaseRow.id == CaseSession.case_id)
        .where(CaseSession.session_id.in_(session_ids))
        .order_by(CaseSession.id.desc())
    )
    return {sid: number for sid, number in s.execute(query)}  # the earliest link wins


def queue_wait(root: Path, parts: tuple[str, ...]) -> float | None:
    """The queue wait in seconds from the chain's `session.created` event (None when
    absent or not a plain non-negative number). The folder is read as `load_case`
    reads it: without following links."""
    try:
        with open_dir(root, parts) as fd:
            raw = read_file(fd, EVENTS)
    except (OSError, Unsafe):
        return None
    for line in raw.split(b"\n")[:WAIT_SCAN_LINES]:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or event.get("type") != "session.created":
            continue
        data = event.get("data")
        value = data.get(WAIT_KEY) if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) and value >= 0 else None
    return None


def _text(value: Any, limit: int = 64) -> str | None:
    """A manifest's string as a column holds it (a forged one may be anything)."""
    return value[:limit] if isinstance(value, str) else None


_YEAR, _TWO = re.compile(r"[0-9]{4}"), re.compile(r"[0-9]{2}")


def _dirs(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    if not is_real_dir(folder):
        return []
    try:
        return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name) and is_real_dir(p))
    except OSError:
        return []


def _session_folders(root: Path) -> Iterator[Path]:
    """Every `YYYY/MM/DD/<session id>` folder under the archive (links not followed)."""
    for year in _dirs(root, _YEAR):
        for month in _dirs(year, _TWO):
            for day in _dirs(month, _TWO):
                yield from _dirs(day, SESSION_ID)
