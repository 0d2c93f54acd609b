"""Evidence stills of a site inspection (云踏勘) in the case file, and the checklist.

A still from the inspector's phone is stored under the case's `evidence/` twice:
the bytes as they came (`<n>.jpg`, never touched) and a copy with the visible
stamp (`<n>-stamped.jpg`, server/evidence_stamp.py). Both are hashed into the
case's chain (`evidence.stored` with the GPS fix, its accuracy, the server's
time and the inspector's identity; `evidence.stamped`) and so into its signed
manifest; `remote-window verify` checks them with the rest of the case file.

The inspection checklist (the item's `inspection_points` in the catalogue) is
ticked by the reviewer, one point at a time, with a still of this case:
`inspection.checked` in the chain; the latest tick of a point counts.
Both are lines of the case's history in the register too (`evidence`,
`inspection`), written under the case row's lock like a stored page, so the
case page and the system log show them. Blocking (files, fsync, the
register): call from a thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recording.case_folder import CaseFolder
from server.evidence_stamp import NotAnImage, Stamp, printable, stamp_copy
from server.register.case_types import OPEN, Actor, CaseError, InvalidTransition, check_may_change
from server.register.documents import DocumentService, TooLarge

CHECKED = "inspection.checked"
JPEG_MAGIC = b"\xff\xd8\xff"


class EvidenceNotFound(CaseError):
    status = 404

    def __init__(self, number: str, n: int) -> None:
        super().__init__("evidence", "not_found", f"no evidence still {n} in case {number}")


class EvidenceService:
    def __init__(self, documents: DocumentService, points_for: Any, max_bytes: int) -> None:
        self.documents = documents
        self.points_for = points_for  # item code -> its inspection points
        self.max_bytes = max_bytes

    def _folder(self, number: str) -> CaseFolder:
        return CaseFolder(self.documents.root, number, clock=self.documents.cases._clock)

    def store(
        self,
        number: str,
        data: bytes,
        *,
        actor: str,
        inspector: dict[str, str],
        fix: dict[str, Any] | None,
        server_time: float,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        """Store one still (JPEG) with its stamped copy; returns the evidence record."""
        if len(data) > self.max_bytes:
            raise TooLarge(len(data), self.max_bytes)
        if not data.startswith(JPEG_MAGIC):
            raise CaseError("file", "wrong_type", "an evidence still is a JPEG image")
        who = inspector["id"] + (f" {printable(inspector['name'])}" if inspector["name"] else "")
        stamp = Stamp(
            server_time=server_time,
            lat=fix["lat"] if fix else None,
            lon=fix["lon"] if fix else None,
            accuracy=fix["accuracy"] if fix else None,
            inspector=who.strip(),
            case=number,
        )
        try:
            stamped = stamp_copy(data, stamp)
        except NotAnImage:
            raise CaseError("file", "wrong_type", "the JPEG cannot be read") from None
        meta = {
            "case": number,
            "server_time": server_time,
            "gps": fix,
            "inspector": inspector,
            "stamp": stamp.lines(),
            **extra,
        }
        cases = self.documents.cases
        who = Actor(inspector["id"], "inspector")
        with cases.register.write() as s:
            row = cases._locked(s, number)
            if row.state not in OPEN:
                raise InvalidTransition(row.number, row.state, "take evidence")
            record = self._folder(number).store_evidence(
                data, stamped, actor, meta, self.documents._signer
            )
            info = {"n": record["n"], "point": meta.get("point", ""), "sha256": record["sha256"]}
            event = cases._history(s, row, who, "evidence", None, None, "", info)
        cases._emit(event)
        return record

    def _readable(self, actor: Actor, number: str) -> tuple[str, str]:
        """(item, place) of a case `actor` may read; CaseError otherwise."""
        with self.documents.cases.register.read() as s:
            row = self.documents._readable_row(s, actor, number)
            return row.item, row.place

    def listing(self, actor: Actor, number: str) -> dict[str, Any]:
        """The stills and the checklist with its ticks."""
        item, _ = self._readable(actor, number)
        return self.overview(number, item)

    def overview(self, number: str, item: str) -> dict[str, Any]:
        folder = self._folder(number)
        ticks: dict[str, dict[str, Any]] = {}
        for e in folder.events_of(CHECKED):
            ticks[e["data"]["point"]] = {**e["data"], "at": e["time"], "by": e["actor"]}
        points = [{"point": p, "check": ticks.get(p)} for p in self.points_for(item)]
        return {"number": number, "evidence": folder.evidence_records(), "points": points}

    def file(self, actor: Actor, number: str, n: int, stamped: bool) -> Path:
        self._readable(actor, number)
        for record in self._folder(number).evidence_records():
            if record["n"] == n:
                rel = record["stamped"]["file"] if stamped else record["file"]
                return self._folder(number).path_of(rel)
        raise EvidenceNotFound(number, n)

    def check(self, actor: Actor, number: str, point: Any, n: Any) -> dict[str, Any]:
        """Tick `point` of the case's inspection with its still `n` (of this case)."""
        item, place = self._readable(actor, number)
        check_may_change(actor, item, place)
        if not isinstance(point, str) or point not in self.points_for(item):
            raise CaseError("point", "unknown", "a point of this item's inspection checklist")
        if isinstance(n, bool) or not isinstance(n, int):
            raise CaseError("evidence", "invalid", "the number of an evidence still")
        records = {r["n"]: r for r in self._folder(number).evidence_records()}
        if n not in records:
            raise EvidenceNotFound(number, n)
        data = {"point": point, "evidence": n, "sha256": records[n]["sha256"]}
        cases = self.documents.cases
        with cases.register.write() as s:
            row = cases._locked(s, number)
            self._folder(number).log_change(CHECKED, actor.ref, data, self.documents._signer)
            event = cases._history(s, row, actor, "inspection", None, None, "", data)
        cases._emit(event)
        return {**data, "by": actor.ref}
