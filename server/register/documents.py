"""Materials of a case (办件材料): pages stored as evidence in the case file.

A page is checked completely before anything is written: the actor may change
the case, the case is open, the material is on the item's checklist, the size
is within `cases.max_document_bytes`, the type by its magic bytes. Then, inside
the register transaction that holds the case row lock, the page goes to the
case folder (recording/case_folder.py: file, chain event, re-signed manifest)
and its `case_documents` row, history line and material state are written.
Refusals write nothing. The file is written before the commit, so a failing
commit (rare: the row is locked and checked) can leave a stored, chained page
without a row; it is never the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recording.case_folder import UNREADABLE, CaseFolder
from recording.manifest import Signer
from server.register.case_types import (
    OPEN,
    Actor,
    CaseError,
    CaseForbidden,
    CaseNotFound,
    InvalidTransition,
    MaterialState,
    check_may_change,
    check_reason,
    may_read,
    utc,
)
from server.register.cases import CaseService
from server.register.doc_files import TYPES, clean
from server.register.models import CaseDocument, CaseRow

SOURCES = ("camera", "upload")
MAX_PAGE = 999


class DocumentNotFound(CaseError):
    status = 404

    def __init__(self, number: str, doc_id: int) -> None:
        super().__init__("document", "not_found", f"no document {doc_id} in case {number}")


class TooLarge(CaseError):
    status = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__("file", "too_large", f"{size} bytes; the limit is {limit} bytes")


def document_json(doc: CaseDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "material": doc.material,
        "page": doc.page,
        "file": doc.file,
        "media_type": doc.media_type,
        "size": doc.size,
        "sha256": doc.sha256,
        "state": doc.state,
        "reason": doc.reason,
        "source": doc.source,
        "stored_by": doc.stored_by,
        "stored_at": utc(doc.stored_at).isoformat(),
        "marked_by": doc.marked_by,
        "marked_at": utc(doc.marked_at).isoformat() if doc.marked_at else None,
    }


@dataclass(frozen=True)
class StoredFile:
    path: Path
    media_type: str
    document: dict[str, Any]


class DocumentService:
    def __init__(
        self,
        cases: CaseService,
        archive_root: str | os.PathLike[str],
        signer: Callable[[], Signer | None],
        max_bytes: int,
    ) -> None:
        """`signer` gives the archive key (the server loads it once the loop runs)."""
        self.cases = cases
        self.root = Path(archive_root)
        self._get_signer = signer
        self.max_bytes = max_bytes

    @property
    def _signer(self) -> Signer:
        signer = self._get_signer()
        if signer is None:
            raise RuntimeError("the archive key is not loaded yet")
        return signer

    def _folder(self, number: str) -> CaseFolder:
        return CaseFolder(self.root, number, clock=self.cases._clock)

    def add(
        self,
        actor: Actor,
        number: str,
        material: str,
        data: bytes,
        *,
        page: int | None = None,
        source: str = "upload",
        kiosk_session: str | None = None,
    ) -> dict[str, Any]:
        """Store one page of `material`; returns its document record.

        A kiosk (role "kiosk") stores camera stills only, and only into a case
        that its live video session (`kiosk_session`, from the session manager)
        is linked to.
        """
        if len(data) > self.max_bytes:
            raise TooLarge(len(data), self.max_bytes)
        if source not in SOURCES:
            raise CaseError("source", "invalid", f"expected one of {', '.join(SOURCES)}")
        if page is not None and not 1 <= page <= MAX_PAGE:
            raise CaseError("page", "invalid", f"a page number from 1 to {MAX_PAGE}")
        ext, stored = clean(data)
        with self.cases.register.write() as s:
            row = self.cases._locked(s, number)
            if actor.role == "kiosk":
                linked = {x.session_id for x in row.sessions}
                if kiosk_session is None or kiosk_session not in linked:
                    raise CaseForbidden(
                        f"kiosk {actor.username}'s session is not linked to case {number}"
                    )
                if source != "camera":
                    raise CaseError("source", "not_allowed", "a kiosk stores camera stills")
            else:
                check_may_change(actor, row.item, row.place)
            if row.state not in OPEN:
                raise InvalidTransition(row.number, row.state, "take new materials")
            codes = [m.code for m in row.materials]
            if material not in codes:
                raise CaseError("material", "unknown", f"{material!r} is not on the checklist")
            pages = [d.page for d in row.documents if d.material == material]
            page = page or max(pages, default=0) + 1
            now = self.cases._clock()
            meta = {"material": material, "page": page, "source": source}
            rel, digest = self._folder(number).store(
                codes.index(material) + 1, ext, stored, actor.ref, meta, self._signer
            )
            doc = CaseDocument(
                material=material,
                page=page,
                file=rel,
                media_type=TYPES[ext],
                size=len(stored),
                sha256=digest,
                state="ok",
                reason="",
                source=source,
                stored_by=actor.ref,
                stored_at=now,
            )
            row.documents.append(doc)
            entry = next(m for m in row.materials if m.code == material)
            if entry.state == MaterialState.MISSING.value:
                entry.state, entry.updated_at = MaterialState.RECEIVED.value, now
            row.updated_at = now
            info = {"material": material, "page": page, "file": rel, "sha256": digest}
            event = self.cases._history(s, row, actor, "document", None, None, "", info)
            s.flush()
            result = document_json(doc)
        self.cases._emit(event)
        return result

    def mark_unreadable(
        self, actor: Actor, number: str, doc_id: int, reason: str
    ) -> dict[str, Any]:
        """Mark a page unreadable (the kiosk is to recapture it); the file stays as evidence."""
        text = check_reason(reason, True)
        with self.cases.register.write() as s:
            row = self.cases._locked(s, number)
            if actor.role != "reviewer":
                raise CaseForbidden("only a reviewer marks a page unreadable")
            check_may_change(actor, row.item, row.place)
            if row.state not in OPEN:
                raise InvalidTransition(row.number, row.state, "mark a page unreadable")
            doc = next((d for d in row.documents if d.id == doc_id), None)
            if doc is None:
                raise DocumentNotFound(number, doc_id)
            if doc.state == "unreadable":
                return document_json(doc)
            now = self.cases._clock()
            doc.state, doc.reason, doc.marked_by, doc.marked_at = "unreadable", text, actor.ref, now
            info = {"file": doc.file, "material": doc.material, "page": doc.page}
            self._folder(number).log_change(
                UNREADABLE, actor.ref, {**info, "reason": text}, self._signer
            )
            left = [d for d in row.documents if d.material == doc.material and d.state == "ok"]
            entry = next(m for m in row.materials if m.code == doc.material)
            if not left and entry.state == MaterialState.RECEIVED.value:
                entry.state, entry.updated_at = MaterialState.MISSING.value, now
            row.updated_at = now
            event = self.cases._history(s, row, actor, "unreadable", None, None, text, info)
            result = document_json(doc)
        self.cases._emit(event)
        return result

    def _readable_row(self, s: Any, actor: Actor, number: str) -> CaseRow:
        row = s.scalar(select(CaseRow).where(CaseRow.number == number))
        if row is None:
            raise CaseNotFound(number)
        if not may_read(actor, row.item, row.place):
            raise CaseForbidden(f"{actor.username} may not see case {number}")
        return row

    def list(self, actor: Actor, number: str) -> list[dict[str, Any]]:
        """The case's pages, per material in checklist order, then by page."""
        with self.cases.register.read() as s:
            row = self._readable_row(s, actor, number)
            order = {m.code: i for i, m in enumerate(row.materials)}
            docs = sorted(row.documents, key=lambda d: (order.get(d.material, 0), d.page, d.id))
            return [document_json(d) for d in docs]

    def file(self, actor: Actor, number: str, doc_id: int) -> StoredFile:
        """Where one page's bytes are (the caller audits the access)."""
        with self.cases.register.read() as s:
            row = self._readable_row(s, actor, number)
            doc = next((d for d in row.documents if d.id == doc_id), None)
            if doc is None:
                raise DocumentNotFound(number, doc_id)
            path = self._folder(number).path_of(doc.file)
            return StoredFile(path, doc.media_type, document_json(doc))
