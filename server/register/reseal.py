"""Reseal at start: case files a crash left with a manifest behind their chain.

A change to a case file appends its chain line, then re-signs the manifest
(recording/case_folder.py); a crash in between leaves `verify` reporting the
folder until its next change. At start, before serving, every case file of a
register case that may have been changing (open, or updated within
RECENT_DAYS) is looked at; one whose manifest lags its chain is re-signed
with a `resealed` event saying why, and the system log says so. Folders the
register does not know are never touched, nor ones that look tampered with
(CaseFolder.stale names the checks): those stay for `verify` to report.
Blocking (SQL, disk, fsync): call from a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from recording.audit import AuditError
from recording.case_folder import CASES_DIR, CaseFolder, NotResealable
from recording.keys import ArchiveSigner
from server.register.case_types import OPEN
from server.register.db import Register
from server.register.models import CaseRow

log = logging.getLogger(__name__)
RECENT_DAYS = 30
RESEALED_EVENT = "case.resealed"
Audit = Callable[[str, str | None, dict[str, Any]], None]


def reseal_cases(
    register: Register,
    archive_root: Path,
    signer: ArchiveSigner,
    audit: Audit,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Re-sign the case files a crash left behind; returns their case numbers."""
    since = (now or datetime.now(UTC)) - timedelta(days=RECENT_DAYS)
    query = (
        select(CaseRow)
        .where(or_(CaseRow.state.in_([s.value for s in OPEN]), CaseRow.updated_at >= since))
        .options(selectinload(CaseRow.documents))
        .order_by(CaseRow.id)
    )
    with register.read() as s:
        cases = [(row.number, _stored_files(row)) for row in s.scalars(query)]
    resealed = []
    for number, pages in cases:
        folder = CaseFolder(archive_root, number)
        if not folder.folder.is_dir():
            continue  # no page stored yet: no case file
        try:
            why = folder.reseal(signer, signer.public_key, pages)
        except NotResealable as exc:
            log.error("case file not resealed", extra={"case": number, "problem": str(exc)})
            continue
        except (AuditError, OSError, ValueError, KeyError) as exc:
            log.error("case file could not be checked", extra={"case": number, "problem": str(exc)})
            continue
        if why is not None:
            log.warning("case file resealed", extra={"case": number, "reason": why["reason"]})
            audit(RESEALED_EVENT, None, {"case": number, **why})
            resealed.append(number)
    return resealed


def _stored_files(row: CaseRow) -> dict[str, str]:
    """File → SHA-256 as the register holds them: the pages and the approval document."""
    files = {d.file: d.sha256 for d in row.documents}
    if row.approval_document and row.approval_sha256:
        # archive-relative in the register; the folder's chain names it folder-relative
        rel = row.approval_document.removeprefix(f"{CASES_DIR}/{row.number}/")
        files[rel] = row.approval_sha256
    return files
