"""Close the case folders that a killed or crashed process left open.

Run at server start, before new sessions are recorded. For each folder still
carrying the `.open` marker: drop a torn last event line, append a `recovered`
event (when the process last wrote, what was dropped, which segments were
open), mark those segments interrupted, then write and sign the manifest with
outcome "interrupted" and an `interruption` span, and remove the marker. Media
bytes are never rewritten: a WebM cut by a kill stays readable up to its last
cluster. A folder whose manifest was already fully written and signed (the
process died while removing the marker) only loses the marker.

With `require_marker_signature` (the server), only folders whose marker is
signed with the archive key are recovered: a folder planted in the archive
with a `.open` marker of its own stays open (never listed, never served,
`verify` reports it), instead of being signed at the next start.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from recording.archive import ArchiveError, SessionArchive, marker_bytes
from recording.audit import AuditError, dropped_info
from recording.canonical import Clock, fsync_dir, iso_utc, utc_now
from recording.keys import ArchiveSigner, verify_signature
from recording.manifest import MANIFEST, OPEN_MARKER, SIGNATURE

log = logging.getLogger(__name__)


def open_folders(archive_root: str | os.PathLike[str]) -> list[Path]:
    """Case folders (`YYYY/MM/DD/<id>`) that still carry the open marker."""
    markers = Path(archive_root).glob(f"[0-9]*/[0-9]*/[0-9]*/*/{OPEN_MARKER}")
    return sorted(marker.parent for marker in markers)


def recover_open_sessions(
    archive_root: str | os.PathLike[str],
    signer: ArchiveSigner,
    *,
    clock: Clock = utc_now,
    require_marker_signature: bool = False,
) -> list[Path]:
    """Finalise every open folder under `archive_root`; returns the folders handled."""
    done = []
    for folder in open_folders(archive_root):
        if require_marker_signature and not (
            _signed(folder, signer) or marker_signed(folder, signer)
        ):
            log.error(
                "open case folder not opened with this archive's key: left open",
                extra={"session": folder.name},
            )
            continue
        try:
            for leftover in folder.rglob(".*.tmp"):  # unfinished atomic writes
                leftover.unlink()
            if _signed(folder, signer):
                (folder / OPEN_MARKER).unlink()
                fsync_dir(folder)
            else:
                recover_folder(folder, signer, clock=clock)
        except (AuditError, ArchiveError, OSError, ValueError, KeyError) as exc:
            # Left open, so `verify` keeps reporting it; the other folders go on.
            log.error("cannot recover %s: %s", folder, exc)
            continue
        done.append(folder)
    return done


def recover_folder(folder: Path, signer: ArchiveSigner, *, clock: Clock = utc_now) -> Path:
    """Recover one open folder (see the module doc); returns the manifest path."""
    last_write = _last_write(folder)
    archive = SessionArchive.reopen(folder, clock=clock)
    recovered_at = iso_utc(clock())
    archive.log(
        "recovered",
        None,
        {
            "reason": "the recording process ended without finalising the session",
            "last_write": last_write,
            "torn_line": dropped_info(archive.events) if archive.events.dropped else None,
            "open_segments": [s.file for s in archive.stale_segments()],
        },
    )
    archive.close_stale_segments()
    interruption = {"from": last_write, "to": recovered_at}
    return archive.finalize({"outcome": "interrupted", "interruption": interruption}, signer)


def _last_write(folder: Path) -> str:
    """When the dead process last wrote anything in the folder."""
    newest = max(p.stat().st_mtime for p in folder.rglob("*") if p.is_file())
    return iso_utc(datetime.fromtimestamp(newest, UTC))


def marker_signed(folder: Path, signer: ArchiveSigner) -> bool:
    """True when the folder's `.open` marker is a plain file signed with the key."""
    marker = folder / OPEN_MARKER
    try:
        if marker.is_symlink():
            return False
        opened = json.loads(marker.read_bytes())
        signature = base64.b64decode(opened["sig"], validate=True)
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        return False
    if not isinstance(opened, dict) or opened.get("session_id") != folder.name:
        return False
    return verify_signature(signer.public_key, marker_bytes(opened), signature)


def _signed(folder: Path, signer: ArchiveSigner) -> bool:
    """True when manifest.json and a valid manifest.sig are both in place."""
    try:
        data = (folder / MANIFEST).read_bytes()
        signature = base64.b64decode((folder / SIGNATURE).read_bytes(), validate=False)
    except (OSError, binascii.Error):
        return False
    return verify_signature(signer.public_key, data, signature)
