"""How long the register part of the supervisors' dashboard takes (it runs at
most once per `supervision.push_coalesce_ms` while supervisors are connected).

    .venv/bin/python -m server.bench.supervision_bench --cases 100000

Generates the cases the way `remote-window bench-stats` does (SQLite temp file),
then prints the median and worst of the deadline tallies, the most urgent
cases and the follow-up counts together.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from server.bench.stats_bench import fresh_register
from server.bench.stats_gen import CaseGenerator, generate
from server.catalogue import load_catalogue
from server.config import RatingsConfig
from server.register.calendar import load_calendar
from server.register.cases import CaseService
from server.register.followups import FollowUpService
from server.register.sealing import IdSealer
from server.supervision_data import register_part


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    catalogue, calendar = load_catalogue(), load_calendar()
    with fresh_register(None) as reg, tempfile.TemporaryDirectory() as tmp:
        generate(reg, CaseGenerator(catalogue, calendar, date.today(), 7), args.cases)
        sealer = IdSealer.load_or_create(Path(tmp))
        cases = CaseService(reg, catalogue, calendar, sealer, lambda *_: None)
        followups = FollowUpService(cases, RatingsConfig())
        register_part(cases, followups, catalogue, 8)  # warm the caches once
        took = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            out = register_part(cases, followups, catalogue, 8)
            took.append((time.perf_counter() - started) * 1000)
    c = out["cases"]
    print(
        f"supervision snapshot, register part, {args.cases} cases on SQLite: "
        f"median {statistics.median(took):.1f} ms, worst {max(took):.1f} ms "
        f"({c['overdue']} overdue, {c['due_soon']} due soon)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
