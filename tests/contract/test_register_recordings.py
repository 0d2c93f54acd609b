"""The recordings index (server/recordings.py) on SQLite and PostgreSQL alike:
backfilled from signed session folders, filtered, scoped, linked to cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from recording.archive import SessionArchive
from recording.keys import ArchiveSigner
from server.catalogue import load_catalogue
from server.recordings import CaseFilter, RecordingIndex
from server.register.db import Register
from tests.contract.case_helpers import REVIEWER, make_cases

T0 = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)


def _session(root: Path, signer: ArchiveSigner, sid: str, at: datetime, **info: object) -> None:
    archive = SessionArchive(root, sid, at, {"item": info["item"], "place": info["place"]})
    people = [
        {"holder": f"reviewer:{r}", "role": "reviewer", "account": r, "name": r}
        for r in info["reviewers"]  # type: ignore[attr-defined]
    ]
    people.append({"holder": "kiosk:k-1", "role": "kiosk", "account": "k-1", "name": "kiosk"})
    archive.finalize({"outcome": "completed", "participants": people}, signer)


def _flt(**kw: object) -> CaseFilter:
    values: dict = {"window": None, "item": None, "place": None, "reviewer": None, "limit": 100}
    values.update(kw)
    return CaseFilter(**values)


def test_backfill_filters_scope_and_linked_cases(register: Register, tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    root = tmp_path / "archive"
    _session(
        root,
        signer,
        "20260930-010000-0000000a",
        T0,
        item="SCJG-001",
        place="QH-CG",
        reviewers=["reviewer"],
    )
    _session(
        root,
        signer,
        "20260930-020000-0000000b",
        T0 + timedelta(hours=1),
        item="RSJ-001",
        place="QH-LL",
        reviewers=["reviewer2"],
    )
    _session(
        root,
        signer,
        "20261001-010000-0000000c",
        T0 + timedelta(days=1),
        item="SCJG-001",
        place="QH-LL",
        reviewers=["reviewer", "reviewer2"],
    )
    index = RecordingIndex(register, root, lambda: signer.public_key)
    catalogue = load_catalogue()
    assert index.backfill() == 3
    assert index.backfill() == 0

    def ids(**kw: object) -> list[str]:
        return [e["id"][-1] for e in index.list(_flt(**kw), catalogue)]

    assert ids() == ["c", "b", "a"]  # newest first
    assert ids(item="SCJG-001") == ["c", "a"]
    assert ids(place="QH-LL") == ["c", "b"]
    assert ids(reviewer="reviewer2") == ["c", "b"]
    assert ids(viewer="reviewer") == ["c", "a"]
    assert ids(viewer="reviewer", reviewer="reviewer2") == ["c"]
    assert ids(window=(T0, T0 + timedelta(hours=2))) == ["b", "a"]
    assert ids(limit=1) == ["c"]
    [entry] = index.list(_flt(limit=1), catalogue)
    assert entry["item_names"]["zh"] and entry["reviewers"] == ["reviewer", "reviewer2"]
    assert entry["signed"] is True and entry["case_number"] is None

    cases = make_cases(register, tmp_path)
    case = cases.create(REVIEWER, mode="video")
    cases.service.link_session(REVIEWER, case.number, "20260930-010000-0000000a")
    linked = {e["id"][-1]: e["case_number"] for e in index.list(_flt(), catalogue)}
    assert linked == {"a": case.number, "b": None, "c": None}

    # A signature found broken at a serve: listed flagged for supervisors only.
    index.mark("20260930-020000-0000000b", "invalid")
    assert ids() == ["c", "a"]
    flagged = [
        (e["id"][-1], e.get("signature")) for e in index.list(_flt(), catalogue, unsigned=True)
    ]
    assert flagged == [("c", None), ("b", "invalid"), ("a", None)]
    index.forget(["20260930-020000-0000000b"])
    assert [e["id"][-1] for e in index.list(_flt(), catalogue, unsigned=True)] == ["c", "a"]
    cases.audit.close()


def test_the_queue_wait_is_read_from_the_chain_and_backfilled(
    register: Register, tmp_path: Path
) -> None:
    from sqlalchemy import select, update

    from server.register.models import RecordingRow

    signer = ArchiveSigner.load_or_create(tmp_path)
    root = tmp_path / "archive"
    waits = {"20260930-010000-0000000a": 73.4, "20260930-020000-0000000b": None}
    for n, (sid, wait) in enumerate(waits.items()):
        at = T0 + timedelta(hours=n)
        archive = SessionArchive(root, sid, at, {"item": "SCJG-001", "place": "QH-CG"})
        if wait is not None:
            archive.log("session.created", "reviewer:r", {"queue_wait_s": wait})
        archive.finalize({"outcome": "completed", "participants": []}, signer)
    index = RecordingIndex(register, root, lambda: signer.public_key)

    def found() -> dict[str, float | None]:
        with register.read() as s:
            query = select(RecordingRow.session_id, RecordingRow.queue_wait_s)
            return {sid: wait for sid, wait in s.execute(query)}

    assert index.backfill() == 2
    assert found() == waits
    assert index.backfill() == 0  # the one without a wait was read: not again
    # A row indexed before the wait was (no wait, no key in its summary) is read again.
    with register.write() as s:
        s.execute(update(RecordingRow).values(queue_wait_s=None, summary={"id": "old"}))
    assert index.backfill() == 2
    assert found() == waits
    assert index.backfill() == 0
