"""Prometheus text exposition for /metrics (no client library needed)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

WAIT_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)


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
        stream_families = (
            ("bitrate_bps", "gauge", "rw_stream_bitrate_bps", "Bitrate of a media stream."),
            ("packets_lost", "gauge", "rw_stream_packets_lost", "Packets lost (RTCP)."),
            ("jitter", "gauge", "rw_stream_jitter", "Interarrival jitter (RTP clock units)."),
            ("frames_forwarded", "counter", "rw_stream_frames_total", "Frames forwarded."),
            ("keyframe_requests", "counter", "rw_stream_keyframe_requests_total", "PLI/FIR."),
        )
        for key, kind, name, help_text in stream_families:
            family(name, kind, help_text)
            for s in streams:
                if s.get(key) is None:
                    continue
                labels = _labels(
                    session=s["session"],
                    participant=s["participant"],
                    kind=s["kind"],
                    direction=s["direction"],
                )
                lines.append(f"{name}{labels} {s[key]:g}")
        family("rw_recording_write_seconds_total", "counter", "Time spent remuxing into WebM.")
        lines.append(f"rw_recording_write_seconds_total {recording[0]:.6f}")
        family("rw_recording_packets_total", "counter", "Encoded frames written to recordings.")
        lines.append(f"rw_recording_packets_total {recording[1]}")
        return "\n".join(lines) + "\n"
