"""Recovery of folders left open: torn event line, open segments, half-finished finalise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from recording.archive import SessionArchive
from recording.audit import read_events
from recording.canonical import sha256_hex
from recording.keys import ArchiveSigner
from recording.recovery import open_folders, recover_open_sessions
from recording.verify import verify_path
from tests.unit.recording_media import feed_audio, feed_video

STARTED = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
TORN = b'{"actor":null,"data":{"x":1'


def crashed_session(root: Path, session_id: str) -> Path:
    """A folder as a dead process leaves it: segments open, a torn last event line."""
    archive = SessionArchive(root, session_id, STARTED, {"item": "RSJ-001", "place": "XZ-02"})
    video, _ = archive.open_segment("kiosk1", "video")
    audio, _ = archive.open_segment("kiosk1", "audio")
    feed_video(video, video.clock.origin + 0.1)
    feed_audio(audio, audio.clock.origin + 0.1)
    video.close()  # the files are whatever the process wrote; only the events stop
    audio.close()
    archive.events.close()
    with open(archive.folder / "events.jsonl", "ab") as f:
        f.write(TORN)
    return archive.folder


def test_recovery_closes_and_signs_an_open_folder(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    root = tmp_path / "archive"
    folder = crashed_session(root, "s-crash")
    assert open_folders(root) == [folder]
    assert [r.problem for r in verify_path(root, signer.public_key)] == [
        "session still open: no manifest"
    ]

    assert recover_open_sessions(root, signer) == [folder]
    assert not (folder / ".open").exists()
    assert [r.problem for r in verify_path(root, signer.public_key)] == [None]

    events = read_events(folder / "events.jsonl")
    assert all(TORN not in json.dumps(e).encode() for e in events)
    [recovered] = [e for e in events if e["type"] == "recovered"]
    assert recovered["data"]["torn_line"] == {
        "file": "events.jsonl",
        "dropped_bytes": len(TORN),
        "dropped_sha256": sha256_hex(TORN),
    }
    closed = [e["data"] for e in events if e["type"] == "segment.closed"]
    assert [(c["kind"], c["interrupted"]) for c in closed] == [("video", True), ("audio", True)]

    manifest = json.loads((folder / "manifest.json").read_bytes())
    assert (manifest["outcome"], manifest["item"], manifest["place"]) == (
        "interrupted",
        "RSJ-001",
        "XZ-02",
    )
    assert set(manifest["interruption"]) == {"from", "to"}
    assert recover_open_sessions(root, signer) == []  # nothing left open


def test_a_signed_manifest_with_a_leftover_marker_only_loses_the_marker(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    root = tmp_path / "archive"
    archive = SessionArchive(root, "s-late", STARTED)
    archive.finalize({"outcome": "approved"}, signer)
    (archive.folder / ".open").write_text("{}")  # died before removing the marker
    manifest = (archive.folder / "manifest.json").read_bytes()

    assert recover_open_sessions(root, signer) == [archive.folder]
    assert (archive.folder / "manifest.json").read_bytes() == manifest
    assert not (archive.folder / ".open").exists()
    assert [r.problem for r in verify_path(root, signer.public_key)] == [None]


def test_an_unrecoverable_folder_stays_open_and_the_rest_go_on(tmp_path: Path, caplog) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    root = tmp_path / "archive"
    bad = SessionArchive(root, "s-bad", STARTED).folder
    (bad / "events.jsonl").write_bytes(b"not json\n" + (bad / "events.jsonl").read_bytes())
    good = crashed_session(root, "s-good")

    assert recover_open_sessions(root, signer) == [good]
    assert "cannot recover" in caplog.text
    assert (bad / ".open").exists()


def test_with_signed_markers_only_folders_opened_with_the_key_are_recovered(
    tmp_path: Path, caplog
) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    intruder = ArchiveSigner.load_or_create(tmp_path / "intruder")
    root = tmp_path / "archive"
    ours = SessionArchive(root, "s-ours", STARTED, marker_signer=signer)
    ours.events.close()
    theirs = SessionArchive(root, "s-theirs", STARTED, marker_signer=intruder)
    theirs.events.close()
    unsigned = crashed_session(root, "s-unsigned")
    # A marker signature copied from another folder does not fit this one.
    copied = SessionArchive(root, "s-copied", STARTED)
    copied.events.close()
    (copied.folder / ".open").write_bytes((ours.folder / ".open").read_bytes())

    done = recover_open_sessions(root, signer, require_marker_signature=True)
    assert done == [ours.folder]
    for folder in (theirs.folder, unsigned, copied.folder):
        assert (folder / ".open").exists() and not (folder / "manifest.sig").exists()
    assert caplog.text.count("not opened with this archive's key") == 3
    assert [r.problem for r in verify_path(ours.folder, signer.public_key)] == [None]
