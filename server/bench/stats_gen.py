"""Realistic cases for the statistics benchmark, written by bulk insert.

Cases spread over a year of received dates: working days much busier than
weekends and holidays (the work calendar), Monday the busiest; hours peaking
mid-morning and mid-afternoon in the catalogue's time zone; a few popular
items; most cases received at township centres and village points (the point
of the remote window); modes from each item's own; outcomes mostly approved,
some rejected and withdrawn, recent cases still open; handling times mostly
inside the time limit, a share overdue. Besides the `cases` rows: for most
video cases the session's `recordings` row with its queue wait (mostly a few
minutes, a long tail at the peaks), started just before the case was
received; and a weekly spot-check draw (`spot_draws`) taking about 5% of the
decided cases (`spot_checks`), most reviewed, a few failed on a checklist point.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from server.catalogue import Catalogue
from server.register.calendar import WorkCalendar
from server.register.db import Register
from server.register.models import CaseRow, RecordingRow, SpotCheckRow, SpotDrawRow
from server.register.spot_checks import CHECKLIST

BATCH = 5000
# Received per hour of the day (08:00-18:00 local, a few outside), and per weekday.
HOUR_WEIGHTS = {8: 4, 9: 12, 10: 14, 11: 10, 12: 3, 13: 4, 14: 10, 15: 11, 16: 8, 17: 3}
WEEKDAY_WEIGHTS = (14, 11, 10, 10, 11, 2, 1)  # Monday .. Sunday
OVERDUE_SHARE = 0.07
OPEN_STATES = ("received", "in_review", "in_review", "more_materials_requested")
SESSION_SHARE = 0.8  # video cases with an indexed session
SPOT_SHARE = 0.05


def _place_weights(catalogue: Catalogue) -> list[tuple[str, float]]:
    by_kind = {"township_centre": 5.0, "village_point": 3.0, "county_hall": 2.0, "city_hall": 1.0}
    return [(p.code, by_kind.get(p.kind, 1.0)) for p in catalogue.places.values()]


class CaseGenerator:
    def __init__(
        self, catalogue: Catalogue, calendar: WorkCalendar, today: date, seed: int = 7
    ) -> None:
        self.catalogue = catalogue
        self.calendar = calendar
        self.today = today
        self.rng = random.Random(seed)
        self.zone = ZoneInfo(catalogue.timezone)
        self.items = list(catalogue.items.values())
        # A few popular items: weights 1/rank, shuffled once by the seed.
        order = list(range(len(self.items)))
        self.rng.shuffle(order)
        self.item_weights = [1.0 / (1 + order[i]) for i in range(len(self.items))]
        self.places = _place_weights(catalogue)
        self.days = [today - timedelta(days=n) for n in range(365)]
        self.day_weights = [
            WEEKDAY_WEIGHTS[d.weekday()] * (1.0 if calendar.is_working_day(d) else 0.15)
            for d in self.days
        ]
        self.seq: Counter[tuple[str, int]] = Counter()
        self.sessions = 0
        self.draws: dict[str, int] = {}  # ISO week -> spot_draws.id

    def session(self, case: dict[str, Any]) -> dict[str, Any] | None:
        """The indexed session of a video case (most have one), with its queue wait."""
        rng = self.rng
        if case["mode"] != "video" or rng.random() >= SESSION_SHARE:
            return None
        self.sessions += 1
        sid = f"bench-{self.sessions:08d}"
        local_hour = case["received_at"].astimezone(self.zone).hour
        peak = HOUR_WEIGHTS.get(local_hour, 1) >= 10
        wait = rng.lognormvariate(5.3 if peak else 4.8, 0.8)  # median ~200 s / ~120 s
        started = case["received_at"] - timedelta(minutes=rng.uniform(3, 20))
        return {
            "session_id": sid,
            "folder": f"{started:%Y/%m/%d}/{sid}",
            "day": started.date(),
            "item": case["item"],
            "place": case["place"],
            "kiosk": None,
            "started_at": started,
            "ended_at": started + timedelta(minutes=rng.uniform(5, 25)),
            "outcome": "completed",
            "queue_wait_s": round(wait, 1),
            "signature": "ok",
            "summary": {"id": sid, "queue_wait_s": round(wait, 1)},
            "indexed_at": started,
        }

    def spot_check(
        self, case: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """A decided case drawn for its week's spot check (about 5%), and the week's
        draw when this is its first check."""
        rng = self.rng
        if case["decided_at"] is None or case["state"] == "withdrawn" or rng.random() >= SPOT_SHARE:
            return None, None
        year, week, _ = case["decided_at"].astimezone(self.zone).isocalendar()
        label = f"{year}-W{week:02d}"
        draw = None
        if label not in self.draws:
            self.draws[label] = len(self.draws) + 1
            draw = {
                "id": self.draws[label],
                "week": label,
                "seed": str(rng.randrange(2**53)),
                "share": SPOT_SHARE,
                "min_per_department": 1,
                "population": {},
                "drawn_by": "bench",
                "drawn_at": case["decided_at"] + timedelta(days=7),
            }
        reviewed = case["decided_at"].date() < self.today - timedelta(days=7) or rng.random() < 0.3
        checklist = {p: rng.random() > 0.04 for p in CHECKLIST} if reviewed else {}
        check = {
            "draw_id": self.draws[label],
            "number": case["number"],
            "department": case["department"],
            "state": "reviewed" if reviewed else "pending",
            "checklist": checklist,
            "verdict": ("pass" if all(checklist.values()) else "fail") if reviewed else None,
            "note": "",
            "reviewed_by": "bench" if reviewed else None,
            "reviewed_at": case["decided_at"] + timedelta(days=8) if reviewed else None,
        }
        return check, draw

    @lru_cache(maxsize=8192)  # noqa: B019 (one generator per run)
    def _deadline(self, start: date, days: int) -> date:
        return self.calendar.add_working_days(start, days)

    def _local(self, day: date) -> datetime:
        rng = self.rng
        hour = rng.choices(list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values()))[0]
        if rng.random() < 0.01:
            hour = rng.randrange(24)
        at = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), self.zone)
        return at.astimezone(UTC)

    def _place(self, item_level: str) -> str:
        codes, weights = zip(*self.places, strict=True)
        place = self.rng.choices(codes, weights)[0]
        if item_level == "county" and self.catalogue.places[place].kind == "city_hall":
            place = self.rng.choices(codes, weights)[0]  # county matters rarely at the city
        return place

    def case(self) -> dict[str, Any]:
        rng = self.rng
        item = rng.choices(self.items, self.item_weights)[0]
        day = rng.choices(self.days, self.day_weights)[0]
        received_at = self._local(day)
        deadline = self._deadline(day, item.time_limit_days)
        place = self._place(item.level)
        county = place.split("-", 1)[0]
        self.seq[(county, day.year)] += 1
        seq = self.seq[(county, day.year)]
        state, decided_at = self._outcome(received_at, deadline, item.time_limit_days)
        return {
            "number": f"{county}-{day.year}-{seq:06d}",
            "county": county,
            "year": day.year,
            "seq": seq,
            "item": item.code,
            "department": item.department.zh,
            "level": item.level,
            "place": place,
            "mode": rng.choice(item.modes),
            "state": state,
            "applicant_name": "测试申请人",
            "applicant_id_last4": f"{rng.randrange(10000):04d}",
            "received_by": "bench",
            "received_at": received_at,
            "received_on": day,
            "deadline": deadline,
            "updated_at": decided_at or received_at,
            "decided_by": "bench" if decided_at else None,
            "decided_at": decided_at,
        }

    def _outcome(
        self, received_at: datetime, deadline: date, limit: int
    ) -> tuple[str, datetime | None]:
        rng = self.rng
        age = (self.today - received_at.date()).days
        if age < limit * 2 and rng.random() < 0.6:
            return rng.choice(OPEN_STATES), None
        if rng.random() < 0.05:
            return "withdrawn", None
        overdue = rng.random() < OVERDUE_SHARE
        span = (limit + rng.randint(1, 10)) if overdue else rng.uniform(0.1, limit)
        decided_at = received_at + timedelta(days=span * 7 / 5, minutes=rng.randrange(600))
        if decided_at.date() > self.today:
            return "in_review", None
        if rng.random() < 0.1:
            return "rejected", decided_at
        return "approved", decided_at

    def rows(self, n: int) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for _ in range(n):
            batch.append(self.case())
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def generate(register: Register, gen: CaseGenerator, n: int) -> None:
    """Insert n cases with their sessions and spot checks (executemany in batches),
    then refresh the planner's statistics."""
    for batch in gen.rows(n):
        sessions = [r for r in map(gen.session, batch) if r]
        drawn = [gen.spot_check(c) for c in batch]
        draws = [d for _, d in drawn if d]
        checks = [c for c, _ in drawn if c]
        with register.write() as s:
            s.execute(insert(CaseRow), batch)
            for table, rows in (
                (RecordingRow, sessions),
                (SpotDrawRow, draws),
                (SpotCheckRow, checks),
            ):
                if rows:
                    s.execute(insert(table), rows)
    if register.sqlite:
        with register.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:  # what autovacuum does on a live register: planner statistics, visibility map
        with register.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("cases", "recordings", "spot_checks"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
