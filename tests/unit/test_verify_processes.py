"""`remote-window verify` over the data dirs of several server processes: every
archive is checked with its own key, every process's system chain is checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recording.archive import SessionArchive
from recording.audit import SystemAuditLog
from recording.keys import ArchiveSigner
from recording.verify import main

STARTED = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _data_dir(root: Path, name: str) -> Path:
    """A process's data dir: its own key, one signed session, its own system chain."""
    data = root / name
    signer = ArchiveSigner.load_or_create(data)
    case = SessionArchive(data / "archive", f"s-{name}", STARTED, {"item": "SCJG-001"})
    case.log("session.created", None, {})
    case.finalize({"outcome": "completed"}, signer)
    log = SystemAuditLog(data / "archive")
    log.append("server.started", None, {})
    log.append("cluster.joined", None, {"process": name})
    log.close()
    return data


def test_every_process_archive_is_checked_with_its_own_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _data_dir(tmp_path, "node-a")
    _data_dir(tmp_path, "node-b")
    assert main([str(tmp_path)]) == 0
    assert "OK 2 session(s) verified" in capsys.readouterr().out


def test_a_broken_chain_of_one_process_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _data_dir(tmp_path, "node-a")
    b = _data_dir(tmp_path, "node-b")
    [day] = list((b / "archive" / "system").glob("*.jsonl"))
    lines = day.read_text().splitlines()
    event = json.loads(lines[1])
    event["data"]["process"] = "someone-else"
    day.write_text("\n".join([lines[0], json.dumps(event)]) + "\n")
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN:" in out and "node-b" in out and "node-a" not in out
