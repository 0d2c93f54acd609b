"""Prometheus text exposition for /metrics (no client library needed).

/metrics may be scraped without signing in, so no label names a session, a
participant or an account: media streams are summed per kind and direction
(per-stream figures are at the admin API, GET /api/admin/media-stats).
Stream counters stay monotonic across streams that come and go: each scrape
adds what every live stream forwarded since the previous scrape.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

WAIT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
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


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _labels(**labels: Any) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_label(str(v))}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, **labels: Any) -> list[str]:
        out = []
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            cumulative += count
            out.append(f"{name}_bucket{_labels(**labels, le=f'{bound:g}')} {cumulative}")
        out.append(f"{name}_bucket{_labels(**labels, le='+Inf')} {self.n}")
        out.append(f"{name}_sum{_labels(**labels)} {self.total:g}")
        out.append(f"{name}_count{_labels(**labels)} {self.n}")
        return out


class Metrics:
    """Counters kept by this process; gauges are computed at scrape time."""

    def __init__(self) -> None:
        self.ws_connected: dict[str, int] = defaultdict(int)
        self.ws_errors: dict[str, int] = defaultdict(int)
        self.http_requests: dict[tuple[str, int], int] = defaultdict(int)
        self.wait_seconds: dict[str, Histogram] = {}
        self.logins: dict[str, int] = defaultdict(int)
        # Stream counters: totals per (kind, direction), last value seen per stream.
        self._stream_totals: dict[tuple[str, StreamKey], float] = defaultdict(float)
        self._stream_seen: dict[tuple[str, tuple[str, ...]], float] = {}

    def ws_opened(self, role: str) -> None:
        self.ws_connected[role] += 1

    def ws_closed(self, role: str) -> None:
        self.ws_connected[role] -= 1

    def ws_error(self, code: str) -> None:
        self.ws_errors[str(code)] += 1

    def http(self, route: str, status: int) -> None:
        self.http_requests[(route, status)] += 1

    def observe_wait(self, item: str, seconds: float) -> None:
        self.wait_seconds.setdefault(item, Histogram(WAIT_BUCKETS)).observe(seconds)

    def render(
        self,
        waiting: dict[str, int],
        sessions: dict[str, int],
        streams: list[dict[str, Any]],
        recording: tuple[float, int] = (0.0, 0),
    ) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        family("rw_queue_waiting", "gauge", "Applicants waiting, per service item.")
        for item, n in sorted(waiting.items()):
            lines.append(f"rw_queue_waiting{_labels(item=item)} {n}")
        family("rw_queue_wait_seconds", "histogram", "Time from joining to being called.")
        for item, hist in sorted(self.wait_seconds.items()):
            lines.extend(hist.lines("rw_queue_wait_seconds", item=item))
        family("rw_clients_connected", "gauge", "Open signaling connections, per role.")
        for role, n in sorted(self.ws_connected.items()):
            lines.append(f"rw_clients_connected{_labels(role=role)} {n}")
        family("rw_signaling_errors_total", "counter", "Error messages sent, per code.")
        for code, n in sorted(self.ws_errors.items()):
            lines.append(f"rw_signaling_errors_total{_labels(code=code)} {n}")
        family("rw_http_requests_total", "counter", "HTTP requests, per route and status.")
        for (route, status), n in sorted(self.http_requests.items()):
            lines.append(f"rw_http_requests_total{_labels(route=route, status=status)} {n}")
        family("rw_sessions", "gauge", "Video sessions of this process, per state.")
        for state, n in sorted(sessions.items()):
            lines.append(f"rw_sessions{_labels(state=state)} {n}")
        self._stream_lines(streams, family, lines)
        family("rw_recording_write_seconds_total", "counter", "Time spent remuxing into WebM.")
        lines.append(f"rw_recording_write_seconds_total {recording[0]:.6f}")
        family("rw_recording_packets_total", "counter", "Encoded frames written to recordings.")
        lines.append(f"rw_recording_packets_total {recording[1]}")
        return "\n".join(lines) + "\n"

    def _stream_lines(self, streams: list[dict[str, Any]], family: Any, lines: list[str]) -> None:
        """Stream figures per (kind, direction): gauges over the live streams, counters
        accumulated across scrapes (a stream's growth since it was last seen)."""
        gauges: dict[tuple[str, StreamKey], float] = {}
        live: dict[StreamKey, int] = defaultdict(int)
        seen: dict[tuple[str, tuple[str, ...]], float] = {}
        for s in streams:
            key: StreamKey = (str(s.get("kind")), str(s.get("direction")))
            ident = tuple(str(s.get(k)) for k in ("session", "participant", "kind", "direction"))
            live[key] += 1
            for name, _, _ in STREAM_GAUGES:
                value = s.get(name)
                if value is None:
                    continue
                slot = (name, key)
                if name == "jitter":
                    gauges[slot] = max(gauges.get(slot, 0.0), float(value))
                else:
                    gauges[slot] = gauges.get(slot, 0.0) + float(value)
            for name, _, _ in STREAM_COUNTERS:
                value = s.get(name)
                if value is None:
                    continue
                last = self._stream_seen.get((name, ident), 0.0)
                self._stream_totals[(name, key)] += max(0.0, float(value) - last)
                seen[(name, ident)] = float(value)
        self._stream_seen = seen  # streams gone since the last scrape are forgotten
        family("rw_streams", "gauge", "Live media streams, per kind and direction.")
        for (kind, direction), n in sorted(live.items()):
            lines.append(f"rw_streams{_labels(kind=kind, direction=direction)} {n}")
        for name, metric, help_text in STREAM_GAUGES:
            family(metric, "gauge", help_text)
            for (gname, (kind, direction)), value in sorted(gauges.items()):
                if gname == name:
                    lines.append(f"{metric}{_labels(kind=kind, direction=direction)} {value:g}")
        for name, metric, help_text in STREAM_COUNTERS:
            family(metric, "counter", help_text)
            for (cname, (kind, direction)), value in sorted(self._stream_totals.items()):
                if cname == name:
                    lines.append(f"{metric}{_labels(kind=kind, direction=direction)} {value:g}")


def followup_lines(counts: dict[str, int]) -> str:
    """Follow-ups (整改) of bad ratings not yet closed, and those past their deadline."""
    return (
        "# HELP rw_followups_open Follow-ups of bad ratings not yet closed.\n"
        "# TYPE rw_followups_open gauge\n"
        f"rw_followups_open {counts['open']}\n"
        "# HELP rw_followups_overdue Follow-ups not yet closed and past their deadline.\n"
        "# TYPE rw_followups_overdue gauge\n"
        f"rw_followups_overdue {counts['overdue']}\n"
    )
