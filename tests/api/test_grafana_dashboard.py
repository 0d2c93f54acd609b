"""deploy/grafana/remote-window.json queries only metrics a real server exposes, so
the dashboard cannot rot when a metric is renamed or dropped."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from server import PROJECT_ROOT
from tests.conftest import RunningServer

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "remote-window.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _queries(node: Any) -> list[str]:
    """Every PromQL text in the dashboard: panel targets and variable queries."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_queries(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_queries(value))
    return found


def _exposed(text: str) -> set[str]:
    """Every series name the exposition can carry, from its families' types (a
    labelled family without samples yet still declares its name)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
        names.update(s.name for s in family.samples)
    return names


async def test_every_metric_the_dashboard_queries_is_exposed(running: RunningServer) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = _queries(dashboard)
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(queries) >= len(panels) >= 10
    assert all(p.get("targets") for p in panels), "a panel without a query"
    used = {name for q in queries for name in re.findall(r"\brw_[a-z0-9_]+\b", q)}
    await running.pair()  # a call: the wait histogram has an observation
    anon, _ = await running.http()
    async with anon.get("/metrics") as resp:
        assert resp.status == 200
        exposed = _exposed(await resp.text())
    assert used - exposed == set(), "the dashboard queries metrics /metrics does not have"
    wanted = {
        "rw_queue_waiting",
        "rw_queue_longest_wait_seconds",
        "rw_sessions",
        "rw_streams",
        "rw_process_cpu_seconds_total",
        "rw_cases_overdue",
        "rw_cases_due_soon",
        "rw_followups_open",
    }
    assert wanted <= used, wanted - used
    # Per-process panels can be narrowed to processes; the variable lists them.
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert "rw_sessions" in variables["process"]["definition"]
    assert any('process=~"$process"' in q for q in queries)
