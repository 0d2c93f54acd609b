"""Everything in the data dir is private to the server account: files 0600,
folders 0700, whatever the umask it was started with; a start fixes and
reports entries that are not."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.api.serve_proc import serve
from tests.api.test_archive_routes import record_session
from tests.conftest import loose_entries, make_config, start_server


async def test_a_recorded_session_leaves_only_private_entries(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]], umask_022: None
) -> None:
    data = tmp_path / "data"
    srv = await start_server(make_config(data), accounts_template)
    try:
        folder = await record_session(srv, frames=30)
        session, _ = await srv.http("supervisor")
        async with session.get(f"/api/cases/{folder.name}") as resp:
            assert resp.status == 200  # an access event appended after signing
    finally:
        await srv.close()
    names = {p.name for p in data.rglob("*")}
    for expected in ("register.sqlite3", "events.jsonl", "manifest.json", "manifest.sig"):
        assert expected in names
    assert list(folder.glob("media/*.webm")) and list((data / "archive" / "system").iterdir())
    assert loose_entries(data) == []


def test_a_start_fixes_world_readable_entries_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    case = data / "archive" / "2026" / "01" / "02" / "20260102-030405-0a0b0c0d"
    (case / "media").mkdir(parents=True)
    planted = [
        data / "register.sqlite3",
        case / "events.jsonl",
        case / "manifest.json",
        case / "media" / "kiosk-k-1-video-1.webm",
    ]
    for path in planted:
        path.write_bytes(b"" if path.suffix == ".sqlite3" else b"x")  # empty: a new database
        path.chmod(0o644)
    for folder in (data, data / "archive", case, case / "media"):
        folder.chmod(0o755)
    (case / "media" / "group.webm").write_bytes(b"x")
    (case / "media" / "group.webm").chmod(0o660)
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(b"x")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)

    with serve(data, umask=0o022) as served:
        pass
    text = served.log_text()
    [warning] = [
        json.loads(line)
        for line in text.splitlines()
        if line.startswith("{") and "readable by group or others" in line
    ]
    assert warning["level"] == "WARNING"
    assert warning["fixed"] >= len(planted) + 1 + 4  # files, the group file, folders
    assert "archive" in warning["where"] and "register.sqlite3" in warning["where"]
    assert case.name not in json.dumps(warning)  # top-level names only, no case ids
    assert loose_entries(data) == []
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # a link's target is left alone

    # The next start finds nothing to fix: no warning.
    with serve(data, umask=0o022) as again:
        pass
    assert "readable by group or others" not in again.log_text()
    assert loose_entries(data) == []
