"""This process's figures for /metrics, kept in prometheus-client instruments.

/metrics may be scraped without signing in, so no label names a session, a
participant or an account: media streams are summed per kind and direction
(per-stream figures are at the admin API, GET /api/admin/media-stats). Every
series of this process carries `process` (config `server.process_id`, else
host:port), so several processes behind one address stay apart.

With PROMETHEUS_MULTIPROC_DIR set (several processes on one machine), the
instruments live in that directory's mmap files (prometheus-client's
multiprocess mode) and any process's /metrics shows every process. Figures
read from this process's state (sessions, streams, recordings) are then
sampled every SAMPLE_SECONDS as well as at each scrape, so the other
processes' files are at most that old. Stream counters stay monotonic across
streams that come and go: each sample adds what every live stream forwarded
since the previous one. Shared figures (queues, the register) are computed
by the serving process at scrape time: server/scrape.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    values,
)
from prometheus_client.registry import Collector

from server.video_session import State

WAIT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
SAMPLE_SECONDS = 5.0
KINDS = ("audio", "video")
DIRECTIONS = ("in", "out")
STREAM_GAUGES = (
    ("bitrate_bps", "rw_stream_bitrate_bps", "Bitrate of the media streams (sum)."),
    ("packets_lost", "rw_stream_packets_lost", "Packets lost by the live streams (RTCP, sum)."),
    ("jitter", "rw_stream_jitter", "Highest interarrival jitter (RTP clock units)."),
)
STREAM_COUNTERS = (
    ("frames_forwarded", "rw_stream_frames_total", "Frames forwarded."),
    ("keyframe_requests", "rw_stream_keyframe_requests_total", "Keyframe requests (PLI/FIR)."),
)
StreamKey = tuple[str, str]  # (kind, direction)
log = logging.getLogger(__name__)
disable_created_metrics()  # no *_created series: the text stays as it was before the library
# A gauge of one process: summed over the live processes' files (one writes each
# series, its `process` label differs), a dead process's files dropped.
LIVE = "livesum"


def multiproc_dir() -> Path | None:
    """The multiprocess directory when prometheus-client runs in that mode (the
    variable is read once, when the library is imported: set it before start)."""
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not raw or values.ValueClass is values.MutexValue:
        return None
    return Path(raw)


def forget_dead_processes(path: Path) -> int:
    """Drop the live-gauge files of processes no longer running (a kill -9 leaves
    them behind); counters and histograms stay, they sum over the machine's life."""
    removed = 0
    for f in path.glob("gauge_live*_*.db"):
        pid = f.stem.rsplit("_", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        f.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Metrics:
    """Counters and gauges kept by this process, every series labelled `process`."""

    def __init__(self, process: str) -> None:
        self.process = process
        self.multiproc = multiproc_dir()
        if self.multiproc is not None:
            self.multiproc.mkdir(mode=0o700, parents=True, exist_ok=True)
            forget_dead_processes(self.multiproc)
        self.registry = CollectorRegistry(auto_describe=True)
        reg, p = self.registry, ("process",)
        self._clients = Gauge(
            "rw_clients_connected",
            "Open signaling connections, per role.",
            ("role", *p),
            registry=reg,
            multiprocess_mode=LIVE,
        )
        self._errors = Counter(
            "rw_signaling_errors", "Error messages sent, per code.", ("code", *p), registry=reg
        )
        self._http = Counter(
            "rw_http_requests",
            "HTTP requests, per route and status.",
            ("route", "status", *p),
            registry=reg,
        )
        self._wait = Histogram(
            "rw_queue_wait_seconds",
            "Time from joining to being called.",
            ("item", *p),
            buckets=WAIT_BUCKETS,
            registry=reg,
        )
        self._logins = Counter(
            "rw_logins", "Sign-in attempts, per outcome.", ("outcome", *p), registry=reg
        )
        self._sessions = Gauge(
            "rw_sessions",
            "Video sessions of this process, per state.",
            ("state", *p),
            registry=reg,
            multiprocess_mode=LIVE,
        )
        stream_labels = ("kind", "direction", *p)
        self._streams = Gauge(
            "rw_streams",
            "Live media streams, per kind and direction.",
            stream_labels,
            registry=reg,
            multiprocess_mode=LIVE,
        )
        self._stream_gauges = {
            field: Gauge(name, text, stream_labels, registry=reg, multiprocess_mode=LIVE)
            for field, name, text in STREAM_GAUGES
        }
        self._stream_counters = {
            field: Counter(name, text, stream_labels, registry=reg)
            for field, name, text in STREAM_COUNTERS
        }
        self._rec_seconds = Counter(
            "rw_recording_write_seconds", "Time spent remuxing into WebM.", p, registry=reg
        )
        self._rec_packets = Counter(
            "rw_recording_packets", "Encoded frames written to recordings.", p, registry=reg
        )
        self._cpu = Counter(
            "rw_process_cpu_seconds",
            "CPU time of this server process (all its threads): its rate is cores in use.",
            p,
            registry=reg,
        )
        self._cpu_seen = time.process_time()
        self._stream_seen: dict[tuple[str, tuple[str, ...]], float] = {}
        self._recorded = (0.0, 0)
        self._sample_lock = asyncio.Lock()
        for state in State:
            self._sessions.labels(state.value, process).set(0)
        for kind in KINDS:
            for direction in DIRECTIONS:
                self._streams.labels(kind, direction, process).set(0)

    # -- events, counted where they happen ------------------------------------
    def ws_opened(self, role: str) -> None:
        self._clients.labels(role, self.process).inc()

    def ws_closed(self, role: str) -> None:
        self._clients.labels(role, self.process).dec()

    def ws_error(self, code: str) -> None:
        self._errors.labels(str(code), self.process).inc()

    def http(self, route: str, status: int) -> None:
        self._http.labels(route, str(status), self.process).inc()

    def observe_wait(self, item: str, seconds: float) -> None:
        self._wait.labels(item, self.process).observe(seconds)

    def login(self, outcome: str) -> None:
        self._logins.labels(outcome, self.process).inc()

    # -- this process's state, sampled ----------------------------------------
    async def sample(
        self,
        sessions: Callable[[], dict[str, int]],
        streams: Callable[[], Awaitable[list[dict[str, Any]]]],
        recording: Callable[[], tuple[float, int]],
    ) -> None:
        """Write the sessions per state, the live streams and the recorder's totals
        into the instruments (one sample at a time: stream deltas must not count twice)."""
        async with self._sample_lock:
            per_state = sessions()
            for state in State:
                self._sessions.labels(state.value, self.process).set(per_state.get(state, 0))
            self._sample_streams(await streams())
            seconds, packets = recording()
            self._rec_seconds.labels(self.process).inc(max(0.0, seconds - self._recorded[0]))
            self._rec_packets.labels(self.process).inc(max(0, packets - self._recorded[1]))
            self._recorded = (seconds, packets)
            cpu = time.process_time()
            self._cpu.labels(self.process).inc(max(0.0, cpu - self._cpu_seen))
            self._cpu_seen = cpu

    def _sample_streams(self, streams: list[dict[str, Any]]) -> None:
        gauges: dict[tuple[str, StreamKey], float] = defaultdict(float)
        live: dict[StreamKey, int] = defaultdict(int)
        seen: dict[tuple[str, tuple[str, ...]], float] = {}
        for s in streams:
            key: StreamKey = (str(s.get("kind")), str(s.get("direction")))
            ident = tuple(str(s.get(k)) for k in ("session", "participant", "kind", "direction"))
            live[key] += 1
            for field, _, _ in STREAM_GAUGES:
                value = s.get(field)
                if value is None:
                    continue
                slot = (field, key)
                if field == "jitter":
                    gauges[slot] = max(gauges[slot], float(value))
                else:
                    gauges[slot] += float(value)
            for field, counter in self._stream_counters.items():
                value = s.get(field)
                if value is None:
                    continue
                last = self._stream_seen.get((field, ident), 0.0)
                counter.labels(*key, self.process).inc(max(0.0, float(value) - last))
                seen[(field, ident)] = float(value)
        self._stream_seen = seen  # streams gone since the last sample are forgotten
        keys = {(k, d) for k in KINDS for d in DIRECTIONS} | set(live)
        for key in keys:
            self._streams.labels(*key, self.process).set(live.get(key, 0))
            for field, gauge in self._stream_gauges.items():
                gauge.labels(*key, self.process).set(gauges.get((field, key), 0.0))

    async def run_sampler(self, sample: Callable[[], Awaitable[None]]) -> None:
        """Multiprocess mode: keep this process's files fresh for the others' scrapes."""
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            try:
                await sample()
            except Exception:
                log.exception("metrics sample failed")

    def own(self) -> Collector:
        """What this process contributes to a scrape: every process's files in
        multiprocess mode, else its own instruments."""
        if self.multiproc is None:
            return _Registered(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        forget_dead_processes(self.multiproc)
        return MultiProcessCollector(None, path=str(self.multiproc))


class _Registered(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Any:
        return self._registry.collect()
