"""The case-level archive folder: materials of one case (办件), signed.

    <archive_root>/cases/<case-number>/
        events.jsonl                 hash chain (recording.audit.AuditLog)
        documents/<k>-<n>.<ext>      page n stored for checklist material k (1-based)
        approval/approval-<n>.pdf    the approval document (回传批件), generated or uploaded
        manifest.json, manifest.sig  re-signed after every change

A case outlives its video sessions (收审分离: it may have none), so its
materials live here and not in a session folder; session folders keep their
own contract. The manifest's `files` come from the `document.stored` and `approval.stored` events
(size and SHA-256 taken at intake), never from rehashing the disk, so
re-signing after a later change cannot absorb a tampered page. As in a session
folder, only `access.*` events may follow the signed prefix of the chain.

Every change (store a page, mark one unreadable) takes an exclusive flock on
events.jsonl (the same lock `server.case_index.append_access` takes), appends
its event, then writes and signs the manifest. A crash between the steps
leaves a folder that `verify` reports; the next change re-signs it whole.
Blocking (fsync): call from a thread.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from recording.audit import AuditLog, read_events
from recording.canonical import (
    Clock,
    iso_utc,
    make_dirs,
    sha256_hex,
    utc_now,
    write_atomic,
)
from recording.manifest import EVENTS, Signer, write_manifest

CASES_DIR = "cases"
CASE_FORMAT = "remote-window-case/1"
DOCUMENTS = "documents"
STORED = "document.stored"
UNREADABLE = "document.unreadable"
APPROVAL_DIR = "approval"
APPROVAL_STORED = "approval.stored"
STORED_TYPES = (STORED, APPROVAL_STORED)


class CaseFolder:
    """The archive folder of one case (see the module doc)."""

    def __init__(
        self, archive_root: str | os.PathLike[str], number: str, *, clock: Clock = utc_now
    ):
        self.number = number
        self.folder = Path(archive_root) / CASES_DIR / number
        self._clock = clock

    @contextmanager
    def _locked(self) -> Iterator[AuditLog]:
        make_dirs(self.folder / DOCUMENTS)
        path = self.folder / EVENTS
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with AuditLog(path, clock=self._clock) as log:
                if log.seq == 0:
                    log.append("case.opened", None, {"case": self.number})
                yield log
        finally:
            os.close(fd)

    def store(
        self, material: int, ext: str, data: bytes, actor: str, meta: dict[str, Any], signer: Signer
    ) -> tuple[str, str]:
        """Write one page as `documents/<material>-<n>.<ext>`, chain it, re-sign.

        Returns (relative path, sha256). `n` is never reused for a material.
        """
        with self._locked() as log:
            prefix = f"{material}-"
            taken = [
                int(p.name[len(prefix) :].split(".")[0])
                for p in (self.folder / DOCUMENTS).iterdir()
                if p.name.startswith(prefix) and p.name[len(prefix) :].split(".")[0].isdigit()
            ]
            rel = f"{DOCUMENTS}/{material}-{max(taken, default=0) + 1}.{ext}"
            digest = sha256_hex(data)
            write_atomic(self.folder / rel, data)
            info = {**meta, "file": rel, "size": len(data), "sha256": digest}
            log.append(STORED, actor, info)
            self._sign(log, signer)
            return rel, digest

    def store_approval(
        self, data: bytes, actor: str, meta: dict[str, Any], signer: Signer
    ) -> tuple[str, str]:
        """Write the approval PDF as `approval/approval-<n>.pdf`, chain it, re-sign.

        Returns (relative path, sha256); `n` is never reused.
        """
        with self._locked() as log:
            make_dirs(self.folder / APPROVAL_DIR)
            taken = [
                int(p.stem.split("-")[-1])
                for p in (self.folder / APPROVAL_DIR).iterdir()
                if p.stem.split("-")[-1].isdigit()
            ]
            rel = f"{APPROVAL_DIR}/approval-{max(taken, default=0) + 1}.pdf"
            digest = sha256_hex(data)
            write_atomic(self.folder / rel, data)
            log.append(
                APPROVAL_STORED, actor, {**meta, "file": rel, "size": len(data), "sha256": digest}
            )
            self._sign(log, signer)
            return rel, digest

    def log_change(self, type_: str, actor: str, data: dict[str, Any], signer: Signer) -> None:
        """Chain one change that is not an access (e.g. a page marked unreadable), re-sign."""
        with self._locked() as log:
            log.append(type_, actor, data)
            self._sign(log, signer)

    def _sign(self, log: AuditLog, signer: Signer) -> None:
        events = read_events(self.folder / EVENTS)
        files = [
            {"path": e["data"]["file"], "size": e["data"]["size"], "sha256": e["data"]["sha256"]}
            for e in events
            if e["type"] in STORED_TYPES
        ]
        manifest = {
            "format": CASE_FORMAT,
            "case_number": self.number,
            "signed_at": iso_utc(self._clock()),
            "events": {"file": EVENTS, "lines": log.seq, "last_hash": log.last_hash},
            "files": sorted(files, key=lambda f: f["path"]),
            "public_key": signer.public_key_b64(),
        }
        write_manifest(self.folder, manifest, signer)

    def path_of(self, rel: str) -> Path:
        """The stored file of a document (rel as the register holds it)."""
        return self.folder / rel
