"""The bench-stats generator makes cases that look like a service's year, and the
command prints a time for every query on them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from server.bench.stats_gen import CaseGenerator, generate
from server.catalogue import load_catalogue
from server.register.calendar import load_calendar
from server.register.db import Register
from server.register.statistics import StatsFilter, StatsQueries

TODAY = date(2026, 12, 3)
CLI = [sys.executable, "-m", "server.cli"]


def test_the_generated_year_has_the_patterns(tmp_path: Path) -> None:
    reg = Register(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    reg.prepare()
    catalogue = load_catalogue()
    generate(reg, CaseGenerator(catalogue, load_calendar(), TODAY, seed=3), 3000)
    report = StatsQueries(reg, catalogue).report(
        StatsFilter(TODAY - timedelta(days=364), TODAY), TODAY
    )
    reg.close()
    s = report["summary"]
    assert s["received"] == 3000
    assert s["approved"] > s["rejected"] > 0 and s["withdrawn"] > 0 and s["open"] > 0
    assert 0 < s["over_limit"] < s["within_limit"]
    hours = report["hours"]
    assert max(range(24), key=hours.__getitem__) in (9, 10, 11, 14, 15)
    assert sum(hours[8:18]) > 0.95 * s["received"]
    township = sum(r["at_township"] for r in report["items"])
    assert township > s["received"] / 2  # most cases are received near home
    assert report["handling_time"]["median"] is not None
    wait = report["wait_time"]
    assert wait["sessions"] > 0 and 60 < wait["median"] < wait["p90"] < 3600
    spot = report["spot_checks"]
    assert 0.02 * s["finished"] < spot["drawn"] < 0.1 * s["finished"]
    assert 0 < spot["failed"] < spot["passed"] and spot["reviewed"] > spot["pending"]
    assert spot["passed"] + spot["failed"] == spot["reviewed"]


def test_the_command_prints_the_times(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [*CLI, "bench-stats", "--cases", "1500", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "bench-stats: 1500 cases," in done.stdout and "on sqlite" in done.stdout
    assert "page" in done.stdout and "wait_time" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["scenarios"]["year, all"]["received"] == 1500
    assert set(figures["scenarios"]["year, all"]) >= {"summary", "handling_time", "page_ms"}
    assert figures["sessions"] > 0 and figures["spot_checks"] > 0
    assert {"wait_time", "spot_checks"} <= set(figures["scenarios"]["year, all"])
