"""The case-level archive folder: materials of one case (办件), signed.

    <archive_root>/cases/<case-number>/
        events.jsonl                 hash chain (recording.audit.AuditLog)
        documents/<k>-<n>.<ext>      page n stored for checklist material k (1-based)
        approval/approval-<n>.pdf    the approval document (回传批件), generated or uploaded
        evidence/<n>.jpg             an inspection still (云踏勘), as the phone sent it
        evidence/<n>-stamped.jpg     its copy with the visible stamp (server/evidence_stamp.py)
        manifest.json, manifest.sig  re-signed after every change

A case outlives its video sessions (收审分离: it may have none), so its
materials live here and not in a session folder; session folders keep their
own contract. The manifest's `files` come from the `document.stored` and
`approval.stored` events (size and SHA-256 taken at intake), never from
rehashing the disk, so re-signing after a later change cannot absorb a
tampered page or document. As in a session
folder, only `access.*` events may follow the signed prefix of the chain.

Every change (store a page, mark one unreadable) takes an exclusive flock on
events.jsonl (the same lock `server.case_index.append_access` takes), appends
its event, then writes and signs the manifest. A crash between the steps
leaves a folder that `verify` reports; the next change re-signs it whole, and
so does `reseal` at the next start (server/register/reseal.py), with a
`resealed` event saying why. `reseal` re-signs only what a crash leaves: a
chain intact up to a possibly torn last line, whose signed prefix matches a
validly signed manifest (or no manifest yet), with changes after it. Anything
else (a broken chain, a signature that does not verify, a chain that
disagrees with the manifest or with the register's page hashes) is tampering
or damage: left as it is, for `verify` to report.
Blocking (fsync): call from a thread.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from recording.audit import AuditLog, check_chain, dropped_info, read_events
from recording.canonical import (
    Clock,
    iso_utc,
    make_dirs,
    sha256_hex,
    utc_now,
    write_atomic,
)
from recording.keys import verify_signature
from recording.manifest import ACCESS_PREFIX, EVENTS, MANIFEST, SIGNATURE, Signer, write_manifest

CASES_DIR = "cases"
CASE_FORMAT = "remote-window-case/1"
DOCUMENTS = "documents"
STORED = "document.stored"
UNREADABLE = "document.unreadable"
APPROVAL_DIR = "approval"
APPROVAL_STORED = "approval.stored"
EVIDENCE_DIR = "evidence"
EVIDENCE_STORED = "evidence.stored"  # the still as the phone sent it, unmodified
EVIDENCE_STAMPED = "evidence.stamped"  # its copy with the visible stamp burned in
STORED_TYPES = (STORED, APPROVAL_STORED, EVIDENCE_STORED, EVIDENCE_STAMPED)
RESEALED = "resealed"
TORN = "incomplete last line"


class NotResealable(Exception):
    """The folder does not look like an interrupted change (see the module doc)."""


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

    def store_evidence(
        self,
        original: bytes,
        stamped: bytes,
        actor: str,
        meta: dict[str, Any],
        signer: Signer,
    ) -> dict[str, Any]:
        """Write an inspection still as `evidence/<n>.jpg` (unmodified) and its stamped
        copy as `evidence/<n>-stamped.jpg`, chain both (one event each), re-sign.

        Returns the stored record (see `evidence_records`); `n` is never reused."""
        with self._locked() as log:
            make_dirs(self.folder / EVIDENCE_DIR)
            taken = [
                int(p.name.split(".")[0].split("-")[0])
                for p in (self.folder / EVIDENCE_DIR).iterdir()
                if p.name.split(".")[0].split("-")[0].isdigit()
            ]
            n = max(taken, default=0) + 1
            rel, rel_stamped = f"{EVIDENCE_DIR}/{n}.jpg", f"{EVIDENCE_DIR}/{n}-stamped.jpg"
            write_atomic(self.folder / rel, original)
            write_atomic(self.folder / rel_stamped, stamped)
            first = {**meta, "n": n, "file": rel, "size": len(original)}
            first["sha256"] = sha256_hex(original)
            log.append(EVIDENCE_STORED, actor, first)
            copy = {"n": n, "of": rel, "file": rel_stamped, "size": len(stamped)}
            copy["sha256"] = sha256_hex(stamped)
            log.append(EVIDENCE_STAMPED, actor, copy)
            self._sign(log, signer)
        return {**first, "stamped": copy}

    def evidence_records(self) -> list[dict[str, Any]]:
        """The stills of this case in order: each `evidence.stored` event's data with
        its stamped copy under `stamped` and the event's time under `at`."""
        path = self.folder / EVENTS
        if not path.is_file():
            return []
        records: dict[int, dict[str, Any]] = {}
        for e in read_events(path):
            if e["type"] == EVIDENCE_STORED:
                records[e["data"]["n"]] = {**e["data"], "at": e["time"], "actor": e["actor"]}
            elif e["type"] == EVIDENCE_STAMPED and e["data"]["n"] in records:
                records[e["data"]["n"]]["stamped"] = e["data"]
        return [records[n] for n in sorted(records)]

    def events_of(self, type_: str) -> list[dict[str, Any]]:
        """The chained events of one type (e.g. `inspection.checked`), oldest first."""
        path = self.folder / EVENTS
        return [e for e in read_events(path) if e["type"] == type_] if path.is_file() else []

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

    def stale(self, public_key: Any, pages: dict[str, str]) -> dict[str, Any] | None:
        """Why the manifest lags its chain after a crash (None: it does not).

        `pages` maps file → SHA-256 as the register holds them. Raises
        NotResealable when the folder does not look like an interrupted change.
        Reads only.
        """
        path = self.folder / EVENTS
        if not path.is_file():
            return None
        chain = check_chain(path)
        if chain.problem and not chain.problem.endswith(TORN):
            raise NotResealable(f"{EVENTS} {chain.problem}")
        events = _complete(path, chain.lines)
        for e in events:
            if e["type"] in STORED_TYPES and e["data"].get("file") in pages:
                if pages[e["data"]["file"]] != e["data"].get("sha256"):
                    raise NotResealable(f"{e['data']['file']}: the register holds another hash")
        torn = chain.problem is not None
        try:
            raw = (self.folder / MANIFEST).read_bytes()
        except FileNotFoundError:
            return {"reason": "no manifest", "lines": chain.lines, "torn_line": torn}
        try:
            sig = base64.b64decode((self.folder / SIGNATURE).read_bytes().strip(), validate=True)
            manifest = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise NotResealable(f"unreadable manifest or signature: {exc}") from None
        if public_key is None or not verify_signature(public_key, raw, sig):
            raise NotResealable(f"{SIGNATURE} does not verify")
        signed = (manifest.get("events") or {}).get("lines")
        if not isinstance(signed, int) or not 1 <= signed <= len(events):
            raise NotResealable(f"the manifest records {signed!r} lines of {len(events)}")
        if events[signed - 1]["hash"] != manifest["events"].get("last_hash"):
            raise NotResealable(f"line {signed} differs from the manifest's last hash")
        later = [e["type"] for e in events[signed:] if not e["type"].startswith(ACCESS_PREFIX)]
        if not later and not torn:
            return None
        return {
            "reason": "changes after the signature",
            "signed_lines": signed,
            "lines": len(events),
            "unsigned": later,
            "torn_line": torn,
        }

    def reseal(
        self, signer: Signer, public_key: Any, pages: dict[str, str]
    ) -> dict[str, Any] | None:
        """Re-sign after an interrupted change, chaining a `resealed` event that says
        why; returns its data (None when nothing was due). Raises NotResealable."""
        why = self.stale(public_key, pages)  # read-only: a refusal changes nothing
        if why is None:
            return None
        with self._locked() as log:  # drops a torn last line
            if log.dropped:
                why["torn_line"] = dropped_info(log)
            log.append(RESEALED, None, why)
            self._sign(log, signer)
            return why

    def path_of(self, rel: str) -> Path:
        """The stored file of a document (rel as the register holds it)."""
        return self.folder / rel


def _complete(path: Path, lines: int) -> list[dict[str, Any]]:
    """The first `lines` events of a chain (a torn last line after them is left out)."""
    return [json.loads(raw) for raw in path.read_bytes().split(b"\n")[:lines]]
