"""A benchmark client process: drives some of the sessions.

One Python process cannot push and decode many streams (the GIL caps it at
one core), so the runner spreads sessions over a few of these. They talk
to the runner in lines: the runner sends `GO`, `MARK` (window start) and
`STOP` (window end) on stdin; the worker prints `JOINED` and finally one
JSON line with its counts.

Run as `python -m server.bench.client_proc --base URL --accounts FILE --indices 0,2,4`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from server.bench import driver
from server.bench.source import DecodeErrorCounter, vp8_clip
from server.eventloop import new_event_loop

ROLES = ("kiosk", "desk")


async def _line(reader: asyncio.StreamReader, expected: str) -> None:
    line = (await reader.readline()).decode().strip()
    if line != expected:
        raise SystemExit(f"bench client: expected {expected!r}, got {line!r}")


def _totals(sessions: list[driver.BenchSession]) -> tuple[int, int]:
    sent = sum(p.video_sent for s in sessions for p in s.peers)
    received = sum(p.decoded["video"] for s in sessions for p in s.peers)
    return sent, received


async def _drain(
    sessions: list[driver.BenchSession], quiet_s: float = 0.4, limit_s: float = 5
) -> None:
    """Wait until in-flight frames have arrived (decoded counts stop rising)."""
    deadline = time.monotonic() + limit_s
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = _totals(sessions)[1]
        if total != last:
            last, stable_since = total, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_s:
            return
        await asyncio.sleep(0.1)  # sampling counters while the media tasks run


async def run(
    base: str, accounts: dict, indices: list[int], stagger_s: float, decode_share: float = 1.0
) -> dict:
    clip = vp8_clip(640, 480, 1_000_000)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    sessions: list[driver.BenchSession] = []
    try:
        with DecodeErrorCounter() as errors:
            prepared = [
                await driver.prepare(
                    base,
                    i,
                    accounts["kiosks"][i],
                    accounts["reviewers"][i],
                    accounts["password"],
                    clip,
                    decode=(
                        driver.decodes(2 * i, decode_share),
                        driver.decodes(2 * i + 1, decode_share),
                    ),
                )
                for i in indices
            ]
            sessions = [p[0] for p in prepared]
            print("READY", flush=True)
            await _line(reader, "GO")

            async def join(index: int, p: tuple) -> None:
                session, kiosk, desk = p
                # The kiosk answers whichever reviewer calls it, from now on.
                answer_within = 30 + len(accounts["kiosks"]) * stagger_s
                answering = asyncio.ensure_future(driver.answer_call(session, kiosk, answer_within))
                await asyncio.sleep(index * stagger_s)  # reviewers do not all click at once
                await driver.place_call(session, desk)
                await answering

            await asyncio.gather(*(join(i, p) for i, p in zip(indices, prepared, strict=True)))
            print("JOINED", flush=True)
            peers = [(role, p) for s in sessions for role, p in zip(ROLES, s.peers, strict=True)]
            await _line(reader, "MARK")
            start = [p.counts() for _, p in peers]
            await _line(reader, "STOP")
            for _, peer in peers:
                peer.stop_sending()
            sent = [p.video_sent for _, p in peers]
            await _drain(sessions)  # the in-flight tail arrives before counting
            window = []
            for (role, peer), begin, sent_at_stop in zip(peers, start, sent, strict=True):
                counts = peer.counts() | {"sent": sent_at_stop, "role": role}
                window.append(driver.window_counts(begin, counts))
            for s in sessions:
                await driver.end(s)
            return {
                "stamps": [stamp for s in sessions for stamp in s.stamps()],
                "sent": sum(w["sent"] for w in window),
                "received": sum(w["received"] for w in window),
                "peers": window,
                "decode_errors": len(errors.errors),
                "decode_error_samples": errors.errors[:5],
                "decoded_frames": errors.frames_in,
            }
    finally:
        for s in sessions:
            await s.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--indices", required=True)
    parser.add_argument("--stagger-ms", type=float, default=0)
    parser.add_argument("--decode-share", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    indices = [int(i) for i in args.indices.split(",")]
    accounts = json.loads(Path(args.accounts).read_text())
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        result = runner.run(
            run(args.base, accounts, indices, args.stagger_ms / 1000, args.decode_share)
        )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
