"""SessionArchive: folder layout, segments and gaps, documents, the signed manifest."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recording.archive import ArchiveError, SessionArchive
from recording.audit import read_events, verify_chain
from recording.canonical import sha256_file
from recording.keys import ArchiveSigner, verify_signature
from recording.webm import TrackClock
from tests.unit.recording_media import feed_audio, feed_video

STARTED = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


class StepClock:
    """Wall clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = STARTED

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_a_recorded_session_gets_a_signed_manifest(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path / "data")
    root = tmp_path / "data" / "archive"
    info = {"item": "SCJG-001", "place": "XZ-01"}
    archive = SessionArchive(root, "s-0001", STARTED, info, clock=StepClock())
    folder = root / "2026" / "03" / "05" / "s-0001"
    assert archive.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        ".open",
        "documents",
        "events.jsonl",
        "evidence",
        "media",
    ]

    origin = 500.0
    video, index = archive.open_segment("kiosk1", "video", TrackClock(origin))
    audio, audio_index = archive.open_segment("kiosk1", "audio")
    assert index == audio_index == 1
    assert audio.clock is video.clock  # one join, one time line
    reviewer, reviewer_index = archive.open_segment("rev7", "video")
    assert reviewer_index == 1
    with pytest.raises(ArchiveError, match="open already"):
        archive.open_segment("kiosk1", "video")
    feed_video(video, origin + 0.1)
    feed_audio(audio, origin + 0.1)
    feed_video(reviewer, origin + 0.2, count=30)
    archive.close_segment("kiosk1", "video")
    archive.close_segment("kiosk1", "audio")

    rejoined = TrackClock(origin + 8.5)  # a rejoin is a new time line
    video2, index2 = archive.open_segment("kiosk1", "video", rejoined)  # the kiosk rejoins
    assert index2 == 2 and video2.path.name == "kiosk1-video-2.webm"
    feed_video(video2, origin + 9.0, count=45)
    archive.open_segment("kiosk1", "audio")  # opened, never fed: no file
    doc = archive.add_document(b"\xff\xd8 jpeg bytes", "rev7", {"title": "营业执照"})
    assert doc == "documents/1.jpg"
    assert archive.add_document(b"second", "rev7") == "documents/2.jpg"
    assert archive.add_evidence(b"frame", "inspector:9", {"gps": [30.1, 120.2]}) == "evidence/1.jpg"
    archive.log("session.ended", "rev7", {"reason": "done"})

    manifest_path = archive.finalize(
        {"outcome": "approved", "participants": ["kiosk1", "rev7"]}, signer
    )
    assert manifest_path == folder / "manifest.json"
    assert not (folder / ".open").exists()
    data = manifest_path.read_bytes()
    signature = base64.b64decode((folder / "manifest.sig").read_bytes())
    assert verify_signature(signer.public_key, data, signature)

    manifest = json.loads(data)
    assert manifest["session_id"] == "s-0001"
    assert (manifest["item"], manifest["place"], manifest["outcome"]) == (
        "SCJG-001",
        "XZ-01",
        "approved",
    )
    assert manifest["participants"] == ["kiosk1", "rev7"]
    assert manifest["public_key"] == signer.public_key_b64()

    segments = {(s["participant"], s["kind"], s["segment"]): s for s in manifest["segments"]}
    assert set(segments) == {
        ("kiosk1", "video", 1),
        ("kiosk1", "audio", 1),
        ("rev7", "video", 1),
        ("kiosk1", "video", 2),
        ("kiosk1", "audio", 2),
    }
    first = segments[("kiosk1", "video", 1)]
    assert first["file"] == "media/kiosk1-video-1.webm"
    assert first["packets"] == 60 and first["duration"] == pytest.approx(2.0)
    assert first["start"] < first["end"]
    assert segments[("kiosk1", "audio", 2)]["file"] is None
    assert segments[("rev7", "video", 1)]["end"] is not None  # closed by finalize

    [gap] = manifest["gaps"]
    assert (gap["participant"], gap["after_segment"], gap["before_segment"]) == ("kiosk1", 1, 2)
    assert gap["from"] == segments[("kiosk1", "audio", 1)]["end"]
    assert gap["to"] == segments[("kiosk1", "video", 2)]["start"]
    assert gap["seconds"] > 0

    files = {f["path"]: f for f in manifest["files"]}
    assert set(files) == {
        "media/kiosk1-video-1.webm",
        "media/kiosk1-audio-1.webm",
        "media/rev7-video-1.webm",
        "media/kiosk1-video-2.webm",
        "documents/1.jpg",
        "documents/2.jpg",
        "evidence/1.jpg",
    }
    for rel, entry in files.items():
        assert (entry["sha256"], entry["size"]) == sha256_file(folder / rel)
    # WebM stores milliseconds: a duration read back can be off by one.
    assert files["media/kiosk1-video-2.webm"]["duration"] == pytest.approx(1.5, abs=0.0015)
    assert files["media/kiosk1-audio-1.webm"]["duration"] == pytest.approx(2.0, abs=0.03)

    events = read_events(folder / "events.jsonl")
    assert verify_chain(folder / "events.jsonl") is None
    assert manifest["events"] == {
        "file": "events.jsonl",
        "lines": len(events),
        "last_hash": events[-1]["hash"],
    }
    types = [e["type"] for e in events]
    assert types[0] == "archive.opened" and types[-1] == "archive.finalized"
    assert events[0]["data"]["info"] == info
    stored = next(e for e in events if e["type"] == "document.stored")
    assert stored["actor"] == "rev7" and stored["data"]["title"] == "营业执照"

    with pytest.raises(ArchiveError, match="finalised"):
        archive.open_segment("kiosk1", "video")


def test_names_and_existing_folders_are_refused(tmp_path: Path) -> None:
    for bad in ("../x", "", ".hidden", "a/b", "x" * 129):
        with pytest.raises(ArchiveError):
            SessionArchive(tmp_path, bad, STARTED)
    with pytest.raises(ArchiveError, match="timezone"):
        SessionArchive(tmp_path, "s1", datetime(2026, 3, 5))
    archive = SessionArchive(tmp_path, "s1", STARTED)
    with pytest.raises(ArchiveError, match="exists"):
        SessionArchive(tmp_path, "s1", STARTED)
    with pytest.raises(ArchiveError, match="participant"):
        archive.open_segment("kiosk 1", "video")
    with pytest.raises(ArchiveError, match="no open segment"):
        archive.close_segment("kiosk1", "video")


def test_a_second_camera_gets_its_own_file_in_the_same_join(tmp_path: Path) -> None:
    """The kiosk's document camera ("video:1") is recorded beside its face camera:
    its own WebM, the same segment index and time line, its own manifest entry."""
    signer = ArchiveSigner.load_or_create(tmp_path / "data")
    root = tmp_path / "data" / "archive"
    archive = SessionArchive(root, "s-0002", STARTED, {}, clock=StepClock())
    face, index = archive.open_segment("kiosk1", "video", TrackClock(100.0))
    doc, doc_index = archive.open_segment("kiosk1", "video", track="video:1")
    assert index == doc_index == 1 and doc.clock is face.clock
    assert doc.path.name == "kiosk1-video1-1.webm"
    with pytest.raises(ArchiveError, match="open already"):
        archive.open_segment("kiosk1", "video", track="video:1")
    with pytest.raises(ArchiveError, match="track must be"):
        archive.open_segment("kiosk1", "video", track="../x")
    feed_video(face, 100.1)
    feed_video(doc, 100.1, count=30)
    archive.close_segment("kiosk1", "video", "video:1")
    archive.close_segment("kiosk1", "video")
    doc2, index2 = archive.open_segment("kiosk1", "video", track="video:1")  # a rejoin
    assert index2 == 2 and doc2.path.name == "kiosk1-video1-2.webm"
    feed_video(doc2, 108.0, count=15)
    archive.finalize({"outcome": "completed"}, signer)

    manifest = json.loads((archive.folder / "manifest.json").read_bytes())
    segments = {
        (s["participant"], s.get("track") or s["kind"], s["segment"]): s
        for s in manifest["segments"]
    }
    assert set(segments) == {
        ("kiosk1", "video", 1),
        ("kiosk1", "video:1", 1),
        ("kiosk1", "video:1", 2),
    }
    first_doc = segments[("kiosk1", "video:1", 1)]
    assert first_doc["kind"] == "video" and first_doc["file"] == "media/kiosk1-video1-1.webm"
    assert first_doc["packets"] == 30 and first_doc["end"] is not None
    assert segments[("kiosk1", "video", 1)]["packets"] == 60
    files = {f["path"] for f in manifest["files"]}
    assert {"media/kiosk1-video-1.webm", "media/kiosk1-video1-1.webm"} <= files
    assert verify_chain(archive.folder / "events.jsonl") is None


def test_a_second_camera_left_open_by_a_crash_is_closed_on_reopen(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path / "data")
    root = tmp_path / "data" / "archive"
    archive = SessionArchive(root, "s-0003", STARTED, {}, clock=StepClock())
    face, _ = archive.open_segment("kiosk1", "video", TrackClock(100.0))
    doc, _ = archive.open_segment("kiosk1", "video", track="video:1")
    feed_video(face, 100.1, count=15)
    feed_video(doc, 100.1, count=15)
    # The process dies here: another one reopens the folder.
    again = SessionArchive.reopen(archive.folder, clock=StepClock())
    assert sorted(s.track or s.kind for s in again.stale_segments()) == ["video", "video:1"]
    again.close_stale_segments()
    again.finalize({"outcome": "server_shutdown"}, signer)
    manifest = json.loads((archive.folder / "manifest.json").read_bytes())
    closed = {s.get("track") or s["kind"]: s for s in manifest["segments"]}
    assert set(closed) == {"video", "video:1"}
    assert closed["video:1"]["interrupted"] is True and closed["video:1"]["track"] == "video:1"
