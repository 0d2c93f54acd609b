"""The archive creates its files 0600 and folders 0700 even under umask 0022."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from recording.archive import SessionArchive
from recording.audit import SystemAuditLog
from recording.keys import ArchiveSigner
from tests.conftest import loose_entries
from tests.unit.recording_media import feed_video


def test_archive_entries_are_private_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    (tmp_path / "data").mkdir(mode=0o700)  # the server's to create (server/data_dir.py)
    root = tmp_path / "data" / "archive"
    signer = ArchiveSigner.load_or_create(tmp_path / "data")
    archive = SessionArchive(root, "20260102-030405-0a0b0c0d", datetime(2026, 1, 2, tzinfo=UTC))
    writer, _ = archive.open_segment("kiosk-k-1", "video")
    feed_video(writer, 0.0, count=10)
    archive.add_document(b"\xff\xd8jpeg", "reviewer:wang")
    archive.finalize({"outcome": "completed"}, signer)
    system = SystemAuditLog(root)
    system.append("server.started", None, {})
    system.close()
    entries = [p for p in (tmp_path / "data").rglob("*")]
    assert any(p.suffix == ".webm" for p in entries) and any(p.suffix == ".sig" for p in entries)
    assert loose_entries(tmp_path / "data") == []
