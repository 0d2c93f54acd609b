"""Retention: finished cases older than the retention period are removed,
each removal first written to the system audit log (nothing goes silently).

A case still open (no manifest yet) is never removed, whatever its age.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from recording.audit import SystemAuditLog
from recording.canonical import sha256_file
from recording.manifest import MANIFEST, OPEN_MARKER

log = logging.getLogger(__name__)


def _case_date(folder: Path) -> date | None:
    """The date from `archive/YYYY/MM/DD/<session>`."""
    try:
        year, month, day = (int(p) for p in folder.parts[-4:-1])
        return date(year, month, day)
    except ValueError:
        return None


def expired_cases(archive_root: Path, retention_days: int, today: date) -> list[Path]:
    cutoff = today - timedelta(days=retention_days)
    found = []
    for manifest in sorted(archive_root.glob(f"[0-9]*/[0-9]*/[0-9]*/*/{MANIFEST}")):
        folder = manifest.parent
        when = _case_date(folder)
        if when is not None and when < cutoff and not (folder / OPEN_MARKER).exists():
            found.append(folder)
    return found


def prune(
    archive_root: Path,
    retention_days: int,
    system_log: SystemAuditLog,
    *,
    today: date | None = None,
) -> list[str]:
    """Remove expired cases; returns their session ids."""
    today = today or datetime.now(UTC).date()
    removed = []
    for folder in expired_cases(archive_root, retention_days, today):
        digest, _ = sha256_file(folder / MANIFEST)
        outcome = json.loads((folder / MANIFEST).read_text()).get("outcome")
        system_log.append(
            "archive.pruned",
            None,
            {
                "session": folder.name,
                "date": str(_case_date(folder)),
                "retention_days": retention_days,
                "manifest_sha256": digest,
                "outcome": outcome,
            },
        )
        shutil.rmtree(folder)
        removed.append(folder.name)
        log.info("case pruned", extra={"session": folder.name})
    return removed
