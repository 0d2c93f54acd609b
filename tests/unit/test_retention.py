"""Retention: old finished cases go, each with an audit event; open ones stay."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from recording.archive import SessionArchive
from recording.audit import SystemAuditLog, read_events
from recording.keys import ArchiveSigner
from recording.retention import prune


def _case(root: Path, sid: str, when: datetime, signer: ArchiveSigner, finish: bool) -> Path:
    archive = SessionArchive(root, sid, when, {"item": "SCJG-001"})
    archive.log("session.created", "reviewer", {})
    if finish:
        archive.finalize({"outcome": "completed"}, signer)
    else:
        archive.events.close()
    return archive.folder


def test_prune_removes_only_expired_finished_cases(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    signer = ArchiveSigner.load_or_create(tmp_path)
    today = date(2026, 11, 28)
    old = datetime(2026, 5, 1, 9, tzinfo=UTC)
    recent = datetime.combine(today - timedelta(days=30), datetime.min.time(), UTC)
    expired = _case(root, "20260501-090000-aaaa0001", old, signer, finish=True)
    still_open = _case(root, "20260501-090000-aaaa0002", old, signer, finish=False)
    kept = _case(root, "20261029-000000-aaaa0003", recent, signer, finish=True)
    system = SystemAuditLog(root)
    removed = prune(root, 180, system, today=today)
    system.close()
    assert removed == [expired.name]
    assert not expired.exists() and still_open.exists() and kept.exists()
    [event] = [
        e
        for f in (root / "system").glob("*.jsonl")
        for e in read_events(f)
        if e["type"] == "archive.pruned"
    ]
    assert event["data"]["session"] == expired.name
    assert event["data"]["retention_days"] == 180 and event["data"]["manifest_sha256"]
    assert json.loads((kept / "manifest.json").read_text())["outcome"] == "completed"


def test_default_retention_keeps_180_days(tmp_path: Path) -> None:
    from server.config import load_config

    assert load_config(demo=True, environ={}).archive.retention_days >= 180
    root = tmp_path / "archive"
    signer = ArchiveSigner.load_or_create(tmp_path)
    today = date(2026, 11, 28)
    edge = datetime.combine(today - timedelta(days=179), datetime.min.time(), UTC)
    _case(root, "20260602-000000-bbbb0001", edge, signer, finish=True)
    system = SystemAuditLog(root)
    assert prune(root, 180, system, today=today) == []
    system.close()
