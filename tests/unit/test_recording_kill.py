"""kill -9 while recording: the WebM files stay readable to about the last second,
recovery closes the folder, and verify passes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from recording.audit import read_events
from recording.canonical import sha256_file
from recording.keys import ArchiveSigner
from recording.recovery import recover_open_sessions
from recording.verify import main as verify_main
from tests.unit.recording_media import decode_cut_file

PROJECT = Path(__file__).resolve().parents[2]


def test_sigkill_loses_at_most_about_a_second(tmp_path: Path, capsys) -> None:
    root = tmp_path / "data" / "archive"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.recording_writer_proc", str(root), "kill-1"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        kind, folder_text = proc.stdout.readline().split()
        assert kind == "ready"
        reported = []
        while len(reported) < 3:
            line = proc.stdout.readline()
            assert line.startswith("written "), line
            reported.append(float(line.split()[1]))
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    folder = Path(folder_text)
    video = folder / "media" / "kiosk1-video-1.webm"
    audio = folder / "media" / "kiosk1-audio-1.webm"
    video_times = decode_cut_file(video)
    audio_times = decode_cut_file(audio)
    assert video_times[-1] >= reported[-1] - 1.2, (video_times[-1], reported)
    assert audio_times[-1] >= reported[-1] - 1.2, (audio_times[-1], reported)
    assert len(video_times) >= 30 * (reported[-1] - 1.2)
    before = {p: sha256_file(p) for p in (video, audio)}

    signer = ArchiveSigner.load_or_create(tmp_path / "data")
    assert recover_open_sessions(root, signer) == [folder]
    assert {p: sha256_file(p) for p in (video, audio)} == before  # media bytes untouched
    assert not (folder / ".open").exists()

    manifest = json.loads((folder / "manifest.json").read_bytes())
    assert manifest["outcome"] == "interrupted"
    assert manifest["item"] == "SCJG-001"
    assert manifest["interruption"]["from"] <= manifest["interruption"]["to"]
    assert all(s.get("interrupted") for s in manifest["segments"])
    durations = {f["path"]: f.get("duration") for f in manifest["files"]}
    assert durations["media/kiosk1-video-1.webm"] >= reported[-1] - 1.2
    recovered = [e for e in read_events(folder / "events.jsonl") if e["type"] == "recovered"]
    assert recovered[0]["data"]["open_segments"] == [
        "media/kiosk1-video-1.webm",
        "media/kiosk1-audio-1.webm",
    ]

    capsys.readouterr()
    assert verify_main([str(root)]) == 0
    assert capsys.readouterr().out == "OK 1 session(s) verified\n"
