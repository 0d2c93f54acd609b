"""`remote-window verify`: an intact archive passes; each kind of tampering is named."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recording.archive import SessionArchive
from recording.audit import SystemAuditLog
from recording.keys import ArchiveSigner
from recording.manifest import manifest_bytes
from recording.verify import main, verify_path
from tests.unit.recording_media import feed_audio, feed_video

STARTED = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


@dataclass
class Archive:
    data: Path
    root: Path
    session: Path  # the fully recorded session
    other: Path
    signer: ArchiveSigner


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    data = tmp_path / "data"
    signer = ArchiveSigner.load_or_create(data)
    root = data / "archive"
    case = SessionArchive(root, "s-full", STARTED, {"item": "SCJG-001", "place": "XZ-01"})
    video, _ = case.open_segment("kiosk1", "video")
    audio, _ = case.open_segment("kiosk1", "audio")
    feed_video(video, video.clock.origin + 0.1, count=45)
    feed_audio(audio, audio.clock.origin + 0.1, count=75)
    case.add_document(b"document one", "rev7")
    case.add_evidence(b"evidence one", "inspector:3", {"gps": [30.2, 120.1]})
    for n in range(4):
        case.log("review.note", "rev7", {"n": n})
    case.finalize({"outcome": "approved"}, signer)
    other = SessionArchive(root, "s-short", STARTED + timedelta(days=1))
    other.finalize({"outcome": "withdrawn"}, signer)
    clock_now = [STARTED]
    system = SystemAuditLog(root, clock=lambda: clock_now[0])
    for day in range(3):
        clock_now[0] = STARTED + timedelta(days=day)
        system.append("staff.login", "admin:li", {"day": day})
        system.append("recording.viewed", "supervisor:zhao", {"session": "s-full"})
    system.close()
    return Archive(data, root, case.folder, other.folder, signer)


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def event_lines(folder: Path) -> list[bytes]:
    return (folder / "events.jsonl").read_bytes().splitlines(keepends=True)


def test_an_intact_archive_passes(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, archive.root) == (0, "OK 2 session(s) verified\n")
    assert run(capsys, archive.session) == (0, "OK 1 session(s) verified\n")
    assert run(capsys, archive.root / "2026" / "03") == (0, "OK 2 session(s) verified\n")
    assert run(capsys, archive.session / "manifest.json") == (0, "OK 1 session(s) verified\n")
    key = archive.data / "keys" / "archive_ed25519.pub.pem"
    assert run(capsys, archive.session, "--key", key)[0] == 0
    results = verify_path(archive.root, archive.signer.public_key)
    assert sorted((r.kind, r.path.name, r.ok) for r in results) == [
        ("session", "s-full", True),
        ("session", "s-short", True),
        ("system", "system", True),
    ]


def flip_media_byte(a: Archive) -> None:
    path = a.session / "media" / "kiosk1-video-1.webm"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate_media(a: Archive) -> None:
    path = a.session / "media" / "kiosk1-audio-1.webm"
    path.write_bytes(path.read_bytes()[:-10])


def edit_event(a: Archive) -> None:
    lines = event_lines(a.session)
    assert b'"kind":"audio"' in lines[2]
    lines[2] = lines[2].replace(b'"kind":"audio"', b'"kind":"video"')
    (a.session / "events.jsonl").write_bytes(b"".join(lines))


def delete_event(index: int) -> Callable[[Archive], None]:
    def tamper(a: Archive) -> None:
        lines = event_lines(a.session)
        del lines[index]
        (a.session / "events.jsonl").write_bytes(b"".join(lines))

    tamper.__name__ = f"delete_event_{index}"
    return tamper


def swap_events(a: Archive) -> None:
    lines = event_lines(a.session)
    lines[4], lines[5] = lines[5], lines[4]
    (a.session / "events.jsonl").write_bytes(b"".join(lines))


def replace_manifest(a: Archive) -> None:
    path = a.session / "manifest.json"
    manifest = json.loads(path.read_bytes())
    manifest["outcome"] = "rejected"
    path.write_bytes(manifest_bytes(manifest))


def bad_signature(a: Archive) -> None:
    (a.session / "manifest.sig").write_bytes(base64.b64encode(bytes(64)) + b"\n")


def foreign_signature(a: Archive) -> None:
    """Re-signed (consistently) with a key the archive does not trust."""
    intruder = ArchiveSigner.load_or_create(a.data.parent / "intruder")
    path = a.session / "manifest.json"
    manifest = json.loads(path.read_bytes())
    manifest["outcome"] = "rejected"
    manifest["public_key"] = intruder.public_key_b64()
    path.write_bytes(manifest_bytes(manifest))
    (a.session / "manifest.sig").write_bytes(base64.b64encode(intruder.sign(path.read_bytes())))


def missing_file(a: Archive) -> None:
    (a.session / "documents" / "1.jpg").unlink()


def extra_file(a: Archive) -> None:
    (a.session / "evidence" / "2.jpg").write_bytes(b"planted")


def missing_manifest(a: Archive) -> None:
    (a.session / "manifest.json").unlink()


def reopened(a: Archive) -> None:
    (a.session / ".open").write_text("{}")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (flip_media_byte, "media/kiosk1-video-1.webm: sha256 does not match the manifest"),
        (truncate_media, "media/kiosk1-audio-1.webm: size"),
        (edit_event, "events.jsonl line 3: hash does not match its content"),
        (delete_event(2), "events.jsonl line 3: sequence 4 where 3 expected"),
        (delete_event(-1), "events.jsonl: 11 lines where the manifest records 12"),
        (swap_events, "events.jsonl line 5: sequence 6 where 5 expected"),
        (replace_manifest, "manifest.sig: signature does not match manifest.json"),
        (bad_signature, "manifest.sig: signature does not match manifest.json"),
        (foreign_signature, "manifest.sig: signed by a different key than the archive key"),
        (missing_file, "documents/1.jpg missing"),
        (extra_file, "evidence/2.jpg: not in the manifest"),
        (missing_manifest, "manifest.json missing"),
        (reopened, "session still open: finalisation did not complete"),
    ],
)
def test_tampering_is_named(
    archive: Archive,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[Archive], None],
    expected: str,
) -> None:
    assert len(event_lines(archive.session)) == 12
    tamper(archive)
    code, out = run(capsys, archive.root)
    assert code == 1
    assert out.startswith(f"BROKEN: {archive.session}: {expected}") and out.count("\n") == 1, out


def test_a_moved_session_folder_is_caught(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = archive.other.parent / "s-renamed"
    archive.other.rename(moved)
    code, out = run(capsys, archive.root)
    assert (code, out) == (
        1,
        f"BROKEN: {moved}: manifest.json: session id 's-short' is not the folder name\n",
    )


def test_system_log_tampering_is_named(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    system = archive.root / "system"
    day2 = system / "2026-03-06.jsonl"
    day2.write_bytes(day2.read_bytes().replace(b"supervisor:zhao", b"supervisor:wang"))
    assert run(capsys, archive.root) == (
        1,
        f"BROKEN: {system}: 2026-03-06.jsonl line 2: hash does not match its content\n",
    )
    day2.unlink()  # a whole day removed: the next day no longer links
    assert run(capsys, system) == (
        1,
        f"BROKEN: {system}: 2026-03-07.jsonl line 1: "
        "prev does not match the last line of 2026-03-05.jsonl\n",
    )


def test_open_sessions_missing_paths_and_keys(
    archive: Archive, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    live = SessionArchive(archive.root, "s-live", STARTED)
    assert run(capsys, live.folder) == (
        1,
        f"BROKEN: {live.folder}: session still open: no manifest\n",
    )
    assert run(capsys, archive.root / "nowhere") == (
        1,
        f"BROKEN: {archive.root / 'nowhere'}: no such file or directory\n",
    )
    elsewhere = tmp_path / "copy" / "s-full"
    elsewhere.parent.mkdir()
    archive.session.rename(elsewhere)  # no keys/ above it any more
    assert main([str(elsewhere)]) == 2
    assert "--key" in capsys.readouterr().err
    key = archive.data / "keys" / "archive_ed25519.pub.pem"
    assert run(capsys, elsewhere, "--key", key) == (0, "OK 1 session(s) verified\n")
