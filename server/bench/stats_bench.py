"""`remote-window bench-stats`: generate cases in a fresh database and time the
statistics queries, each alone and the page's full set.

SQLite: a temporary file (removed afterwards). PostgreSQL: `--database-url`
names the server (any database on it, e.g. .../postgres); the bench creates
its own database `rw_bench_<random>` there and drops it at the end, so it never
writes into a live register. Each figure is the median of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from server.bench.stats_gen import CaseGenerator, generate
from server.catalogue import load_catalogue
from server.register.calendar import load_calendar
from server.register.db import Register
from server.register.models import CaseRow, RecordingRow, SpotCheckRow
from server.register.statistics import StatsFilter, StatsQueries
from server.stats_svg import hours_chart, outcome_chart, township_chart
from server.stats_tables import tables, to_csv

TARGET_S = 1.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--database-url", help="a PostgreSQL server (default: SQLite temp file)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", help="also write the figures to this file")


@contextmanager
def fresh_register(url: str | None) -> Iterator[Register]:
    if not url:
        with tempfile.TemporaryDirectory(prefix="rw-bench-stats-") as tmp:
            reg = Register(f"sqlite:///{Path(tmp) / 'register.sqlite3'}")
            try:
                reg.prepare()
                yield reg
            finally:
                reg.close()
        return
    server = make_url(url)
    if server.get_backend_name() != "postgresql":
        raise SystemExit("bench-stats: --database-url must name a PostgreSQL server")
    server = server.set(drivername="postgresql+psycopg")
    name = f"rw_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    reg = Register(server.set(database=name).render_as_string(hide_password=False))
    try:
        reg.prepare()
        yield reg
    finally:
        reg.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _time(run: Callable[[], Any], repeat: int) -> float:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def _page(queries: StatsQueries, flt: StatsFilter, today: date) -> None:
    """What GET /stats computes: the report, its tables, the three charts (and a CSV)."""
    report = queries.report(flt, today)
    built = tables(report, queries.catalogue)
    hours_chart(report["hours"])
    outcome_chart(report["summary"])
    township_chart(report["items"], queries.catalogue)
    to_csv(built["items"], "zh-CN")


def run_bench_stats(args: argparse.Namespace) -> int:
    catalogue, calendar = load_catalogue(), load_calendar()
    today = date.today()
    first_item = next(iter(catalogue.items))
    township = next(p.code for p in catalogue.places.values() if p.kind == "township_centre")
    scenarios = {
        "year, all": StatsFilter(today - timedelta(days=364), today),
        "30 days, all": StatsFilter(today - timedelta(days=29), today),
        f"year, item {first_item}": StatsFilter(
            today - timedelta(days=364), today, item=first_item
        ),
        f"year, place {township}": StatsFilter(today - timedelta(days=364), today, place=township),
    }
    out: dict[str, Any] = {"cases": args.cases, "repeat": args.repeat, "scenarios": {}}
    with fresh_register(args.database_url) as reg:
        backend = "sqlite" if reg.sqlite else "postgresql"
        out["backend"] = backend
        started = time.perf_counter()
        generate(reg, CaseGenerator(catalogue, calendar, today, args.seed), args.cases)
        out["generate_s"] = round(time.perf_counter() - started, 2)
        with reg.read() as s:
            rows = s.scalar(select(func.count()).select_from(CaseRow))
            out["sessions"] = s.scalar(select(func.count()).select_from(RecordingRow))
            out["spot_checks"] = s.scalar(select(func.count()).select_from(SpotCheckRow))
        print(
            f"bench-stats: {rows} cases, {out['sessions']} sessions, {out['spot_checks']} spot"
            f" checks on {backend}, generated in {out['generate_s']} s"
        )
        queries = StatsQueries(reg, catalogue)
        for label, flt in scenarios.items():
            queries.report(flt, today)  # warm the caches once
            samples: dict[str, list[float]] = {k: [] for k in queries.timings}
            for _ in range(args.repeat):
                queries.report(flt, today)
                for k, v in queries.timings.items():
                    samples[k].append(v)
            parts = {k: statistics.median(v) * 1000 for k, v in samples.items()}
            page = _time(lambda flt=flt: _page(queries, flt, today), args.repeat) * 1000
            received = queries.report(flt, today)["summary"]["received"]
            out["scenarios"][label] = {"received": received, "page_ms": page, **parts}
            cells = "  ".join(f"{k} {v:7.1f}" for k, v in parts.items())
            verdict = "ok" if page < TARGET_S * 1000 else "SLOW"
            print(f"  {label:<24} {received:>7} cases  {cells}  page {page:7.1f} ms  {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    slow = [k for k, v in out["scenarios"].items() if v["page_ms"] >= TARGET_S * 1000]
    return 1 if slow else 0
