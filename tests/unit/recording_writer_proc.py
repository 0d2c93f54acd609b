"""Kill-test workload: record one participant in real time until killed.

    python -m tests.unit.recording_writer_proc ARCHIVE_ROOT SESSION_ID

Prints `ready <folder>`, then after each second of media `written <s>`: the
pts (seconds) of the last video frame handed to the writer. Pacing with sleep
is the workload itself (frames arrive in real time), not synchronisation.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from recording.archive import SessionArchive
from recording.webm import TrackClock
from tests.unit.recording_media import AUDIO_TICKS, FPS, VIDEO_TICKS, opus_packets, vp8_packets

MAX_SECONDS = 60.0


def main(root: str, session_id: str) -> None:
    video_packets, audio_packets = vp8_packets(), opus_packets()  # encode before timing
    archive = SessionArchive(root, session_id, datetime.now(UTC), {"item": "SCJG-001"})
    clock = TrackClock()
    video, _ = archive.open_segment("kiosk1", "video", clock)
    audio, _ = archive.open_segment("kiosk1", "audio")
    print("ready", archive.folder, flush=True)
    start = clock.origin
    n_video = n_audio = 0
    next_report = 1.0
    while (elapsed := time.monotonic() - start) < MAX_SECONDS:
        while n_video / FPS <= elapsed:
            data, key = video_packets[n_video % len(video_packets)]
            video.write(data, n_video * VIDEO_TICKS, key, start + n_video / FPS)
            n_video += 1
        while n_audio * 0.02 <= elapsed:
            data = audio_packets[n_audio % len(audio_packets)]
            audio.write(data, n_audio * AUDIO_TICKS, False, start + n_audio * 0.02)
            n_audio += 1
        if elapsed >= next_report:
            print(f"written {video.stats().last_pts:.3f}", flush=True)
            next_report += 1.0
        time.sleep(0.005)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
