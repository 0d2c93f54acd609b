"""`remote-window bench`: server CPU per forwarded stream, join times,
frames and decode errors, with the naive decode/re-encode path as a baseline
measured in the same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from server.bench import driver
from server.bench.source import DecodeErrorCounter, vp8_clip

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARMUP_S = 1.5
# A/V streams per two-party session: each participant publishes one audio+video stream.
STREAMS_PER_SESSION = 2


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


async def _recording_counters(base: str) -> tuple[float, int]:
    """The server's own count of time spent writing recordings, from /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    values = {}
    for line in text.splitlines():
        if line.startswith("rw_recording_"):
            name, value = line.split()
            values[name] = float(value)
    return values.get("rw_recording_write_seconds_total", 0.0), int(
        values.get("rw_recording_packets_total", 0)
    )


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def _start_server(
    mode: str, data_dir: Path, sessions: int, record_format: str = "webm"
) -> tuple[asyncio.subprocess.Process, int]:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.server_proc",
        "--mode",
        mode,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--sessions",
        str(sessions),
        "--record-format",
        record_format,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while (line := await proc.stdout.readline()) != b"READY\n":
            if not line:
                raise RuntimeError(f"bench server ({mode}) exited before it was ready")
    return proc, port


async def _drain(
    sessions: list[driver.BenchSession], quiet_s: float = 0.4, limit_s: float = 5
) -> None:
    """Wait until in-flight frames have arrived (decoded counts stop rising)."""
    deadline = time.monotonic() + limit_s
    last = -1
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        now_total = sum(p.decoded["video"] for s in sessions for p in s.peers)
        if now_total != last:
            last, stable_since = now_total, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_s:
            return
        await asyncio.sleep(0.1)


async def run_mode(
    mode: str, n: int, seconds: float, data_dir: Path, record_format: str = "webm"
) -> dict[str, Any]:
    clip = vp8_clip(640, 480, 1_000_000)
    proc, port = await _start_server(mode, data_dir, n, record_format)
    base = f"http://127.0.0.1:{port}"
    accounts = json.loads((data_dir / "bench-accounts.json").read_text())
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
                )
                for i in range(n)
            ]
            sessions = [p[0] for p in prepared]
            await asyncio.gather(*(driver.call_and_join(*p) for p in prepared))
            await asyncio.sleep(WARMUP_S)  # reach steady state before measuring
            sent0 = sum(p.video_sent for s in sessions for p in s.peers)
            recv0 = sum(p.decoded["video"] for s in sessions for p in s.peers)
            rec0 = await _recording_counters(base)
            cpu0, wall0, own0 = _cpu_seconds(proc.pid), time.monotonic(), time.process_time()
            await asyncio.sleep(seconds)  # the measured window
            cpu1, wall1, own1 = _cpu_seconds(proc.pid), time.monotonic(), time.process_time()
            rec1 = await _recording_counters(base)
            rss = _rss_mb(proc.pid)
            for s in sessions:
                for peer in s.peers:
                    peer.stop_sending()
            sent1 = sum(p.video_sent for s in sessions for p in s.peers)
            await _drain(sessions)
            recv1 = sum(p.decoded["video"] for s in sessions for p in s.peers)
            for s in sessions:
                await driver.end(s)
            decode_errors = len(errors.errors)
    finally:
        for s in sessions:
            await s.close()
        proc.terminate()
        await proc.wait()
    cores = (cpu1 - cpu0) / (wall1 - wall0)
    joins = [s.join_ms for s in sessions if s.join_ms is not None]
    streams = STREAMS_PER_SESSION * n
    archive = data_dir / "archive"
    return {
        "mode": mode,
        "sessions": n,
        "streams": streams,
        "seconds": round(wall1 - wall0, 2),
        "server_cpu_cores": round(cores, 4),
        "server_cpu_per_stream": round(cores / streams, 5),
        "client_cpu_cores": round((own1 - own0) / (wall1 - wall0), 3),
        "join_ms": {
            "p50": round(_percentile(joins, 0.5), 1),
            "p95": round(_percentile(joins, 0.95), 1),
            "max": round(max(joins), 1),
        },
        "video_frames": {"sent": sent1 - sent0, "received": recv1 - recv0},
        "decode_errors": decode_errors,
        "server_rss_mb": round(rss, 1),
        "recorded_bytes": _dir_bytes(archive) if archive.exists() else 0,
        "recording": {
            "packets": rec1[1] - rec0[1],
            "write_cpu_cores": round((rec1[0] - rec0[0]) / (wall1 - wall0), 5),
            "share_of_server_cpu": round((rec1[0] - rec0[0]) / max(cpu1 - cpu0, 1e-9), 4),
        },
    }


def _table(results: list[dict[str, Any]]) -> str:
    rows = [
        (
            "path",
            "sessions",
            "streams",
            "cores",
            "cores/stream",
            "join p50/p95/max ms",
            "frames sent/recv",
            "decode err",
            "rss MB",
        ),
    ]
    for r in results:
        j = r["join_ms"]
        rows.append(
            (
                r["mode"],
                str(r["sessions"]),
                str(r["streams"]),
                f"{r['server_cpu_cores']:.3f}",
                f"{r['server_cpu_per_stream']:.4f}",
                f"{j['p50']:.0f}/{j['p95']:.0f}/{j['max']:.0f}",
                f"{r['video_frames']['sent']}/{r['video_frames']['received']}",
                str(r["decode_errors"]),
                f"{r['server_rss_mb']:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


async def _bench(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    ours_dir = Path(args.data_dir) if args.data_dir else root / "passthrough"
    ours_dir.mkdir(parents=True, exist_ok=True)
    result = await run_mode("passthrough", args.sessions, args.seconds, ours_dir)
    runs = [result]
    if args.baseline:
        base_dir = ours_dir / "baseline-naive" if args.data_dir else root / "naive"
        base_dir.mkdir(parents=True, exist_ok=True)
        baseline = await run_mode(
            "naive", args.baseline_sessions, args.seconds, base_dir, args.baseline_format
        )
        baseline["record_format"] = args.baseline_format
        runs.append(baseline)
        result["baseline"] = baseline
        result["ratio_vs_baseline"] = round(
            baseline["server_cpu_per_stream"] / max(result["server_cpu_per_stream"], 1e-9), 1
        )
    print(_table(runs))
    rec = result["recording"]
    share = 100 * rec["share_of_server_cpu"]
    print(
        f"recording (ours): {rec['packets']} frames remuxed in the window, "
        f"{rec['write_cpu_cores']:.4f} cores ({share:.1f}% of server CPU), "
        f"{result['recorded_bytes'] / 1e6:.1f} MB archived"
    )
    if args.baseline:
        print(f"ratio_vs_baseline (naive CPU per stream / ours): {result['ratio_vs_baseline']}")
    return result


def run_bench(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix="rw-bench-"))
    try:
        result = asyncio.run(_bench(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
