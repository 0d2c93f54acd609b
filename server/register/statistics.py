"""Statistics of the case register (后台数据匹配分析): SQL aggregates, never a
walk over the rows in Python.

A period is a range of received dates (`received_on`, the catalogue's calendar
day, both ends included) with optional filters (place, department, item,
mode). What is counted:

- received, finished (approved + rejected + withdrawn), each final state, open;
- within / over the time limit: a decision (approved or rejected) on or before
  its deadline day (the decision's day in the catalogue's time zone) or after
  it; open cases past their deadline are counted apart (`open_overdue`);
  withdrawn cases are neither;
- handling time, received -> decided, of the decisions: median and p90 with
  linear interpolation between the two nearest ranks (PostgreSQL's
  percentile_cont), computed by ordered OFFSET queries so SQLite and
  PostgreSQL give the same figures;
- cases received per hour of the day (the catalogue's wall clock);
- per item: received at township centres and village points versus county and
  city halls, and the level that decides the item: an item decided at county
  or city level with demand at township level is a candidate to devolve.

The applicants' ratings (好差评) are counted by the day they were given, under
the same filters. Queue waiting time (joined -> called) is the video
sessions' (`recordings.queue_wait_s`, read from each session's chain when it
is indexed): median and p90 over the sessions started in the period (local
days), place and item filters, department through its items; the mode is
video by definition (another mode: none). Spot checks (随机抽查) are counted by
their case's decision day, under the filters through the case.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from server.catalogue import MODES, Catalogue
from server.register import ratings
from server.register.case_types import OPEN, CaseError, CaseState
from server.register.db import Register
from server.register.local_time import LocalClock, seconds_between
from server.register.models import CaseRow, RecordingRow, SpotCheckRow
from server.register.rating_terms import LEVELS
from server.register.spot_checks import CHECKLIST

MAX_SPAN_DAYS = 3660
TOWNSHIP_KINDS = ("township_centre", "village_point")
# The five levels of 好差评 by their Chinese names, best first.
RATING_LEVELS = tuple(zh for _, zh, _ in LEVELS.values())
VIDEO = "video"
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}  # p as num/den
_DECIDED = (CaseState.APPROVED.value, CaseState.REJECTED.value)
_FINAL = (*_DECIDED, CaseState.WITHDRAWN.value)
_OPEN = tuple(s.value for s in OPEN)


@dataclass(frozen=True)
class StatsFilter:
    date_from: date
    date_to: date
    place: str | None = None
    department: str | None = None
    item: str | None = None
    mode: str | None = None

    def check(self, catalogue: Catalogue) -> StatsFilter:
        """Refuse what cannot match: unknown codes, a reversed or huge period."""
        if self.date_from > self.date_to:
            raise CaseError("from", "invalid", "the period starts after it ends")
        if (self.date_to - self.date_from).days > MAX_SPAN_DAYS:
            raise CaseError("to", "invalid", f"a period of at most {MAX_SPAN_DAYS} days")
        if self.place and self.place not in catalogue.places:
            raise CaseError("place", "unknown", f"unknown place {self.place!r}")
        if self.item and self.item not in catalogue.items:
            raise CaseError("item", "unknown", f"unknown service item {self.item!r}")
        departments = {i.department.zh for i in catalogue.items.values()}
        if self.department and self.department not in departments:
            raise CaseError("department", "unknown", f"unknown department {self.department!r}")
        if self.mode and self.mode not in MODES:
            raise CaseError("mode", "invalid", f"expected one of {', '.join(MODES)}")
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "place": self.place,
            "department": self.department,
            "item": self.item,
            "mode": self.mode,
        }


def default_period(today: date, days: int = 30) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


@dataclass
class StatsQueries:
    """The statistics of one register, read with the catalogue's clock and places."""

    register: Register
    catalogue: Catalogue
    timings: dict[str, float] = field(default_factory=dict)

    def _clock(self, f: StatsFilter, today: date) -> LocalClock:
        return LocalClock(
            self.catalogue.timezone, self.register.sqlite, f.date_from, max(f.date_to, today)
        )

    def _where(self, f: StatsFilter) -> list[ColumnElement[bool]]:
        conds = [CaseRow.received_on >= f.date_from, CaseRow.received_on <= f.date_to]
        for col, value in (
            (CaseRow.place, f.place),
            (CaseRow.department, f.department),
            (CaseRow.item, f.item),
            (CaseRow.mode, f.mode),
        ):
            if value:
                conds.append(col == value)
        return conds

    def _township_places(self) -> list[str]:
        return [p.code for p in self.catalogue.places.values() if p.kind in TOWNSHIP_KINDS] or [""]

    def _counts(self, clock: LocalClock, today: date) -> list[Any]:
        """The outcome aggregates (shared by the summary and the per-item table)."""
        decided = CaseRow.state.in_(_DECIDED)
        on_day = clock.day(CaseRow.decided_at)
        return [
            func.count().label("received"),
            func.count().filter(CaseRow.state.in_(_FINAL)).label("finished"),
            func.count().filter(CaseRow.state == CaseState.APPROVED.value).label("approved"),
            func.count().filter(CaseRow.state == CaseState.REJECTED.value).label("rejected"),
            func.count().filter(CaseRow.state == CaseState.WITHDRAWN.value).label("withdrawn"),
            func.count().filter(CaseRow.state.in_(_OPEN)).label("open"),
            func.count().filter(and_(decided, on_day <= CaseRow.deadline)).label("within_limit"),
            func.count().filter(and_(decided, on_day > CaseRow.deadline)).label("over_limit"),
            func.count()
            .filter(and_(CaseRow.state.in_(_OPEN), CaseRow.deadline < today))
            .label("open_overdue"),
        ]

    def summary(self, s: Session, f: StatsFilter, today: date) -> dict[str, int]:
        query = select(*self._counts(self._clock(f, today), today)).where(*self._where(f))
        row = s.execute(query).one()
        return {k: int(v or 0) for k, v in row._mapping.items()}

    def handling_time(self, s: Session, f: StatsFilter) -> dict[str, float | int | None]:
        """Seconds from receipt to decision: count, median, p90 (None without decisions)."""
        duration = seconds_between(self.register.sqlite, CaseRow.received_at, CaseRow.decided_at)
        where = [*self._where(f), CaseRow.state.in_(_DECIDED), CaseRow.decided_at.is_not(None)]
        return percentiles(s, select(duration.label("d")).where(*where), PERCENTILES)

    def busiest_hours(self, s: Session, f: StatsFilter, today: date) -> list[int]:
        """Cases received in each hour of the day, 0 to 23 (wall clock)."""
        hour = self._clock(f, today).hour(CaseRow.received_at).label("h")
        query = select(hour, func.count()).where(*self._where(f)).group_by(hour)
        counts = [0] * 24
        for h, n in s.execute(query):
            counts[int(h)] = int(n)
        return counts

    def by_item(self, s: Session, f: StatsFilter, today: date) -> list[dict[str, Any]]:
        """Per item: outcomes, and where its cases were received against where it is
        decided; most township demand first."""
        township = CaseRow.place.in_(self._township_places())
        halls = {
            kind: [p.code for p in self.catalogue.places.values() if p.kind == kind] or [""]
            for kind in ("county_hall", "city_hall")
        }
        query = (
            select(
                CaseRow.item,
                *self._counts(self._clock(f, today), today),
                func.count().filter(township).label("at_township"),
                func.count().filter(CaseRow.place.in_(halls["county_hall"])).label("at_county"),
                func.count().filter(CaseRow.place.in_(halls["city_hall"])).label("at_city"),
            )
            .where(*self._where(f))
            .group_by(CaseRow.item)
        )
        rows = []
        for row in s.execute(query):
            values = dict(row._mapping)
            item = self.catalogue.items.get(values["item"])
            values = {k: (v if k == "item" else int(v or 0)) for k, v in values.items()}
            values["level"] = item.level if item else None
            values["devolve_candidate"] = bool(item and values["at_township"] > 0)
            rows.append(values)
        rows.sort(key=lambda r: (-r["at_township"], -r["received"], r["item"]))
        return rows

    def _local_days(self, f: StatsFilter) -> tuple[datetime, datetime]:
        """The period's local days as UTC bounds [since, until), as the register stores
        times (an index range; SQLite compares them as text)."""
        zone = ZoneInfo(self.catalogue.timezone)
        since = datetime.combine(f.date_from, dt_time.min, zone).astimezone(UTC)
        until = datetime.combine(f.date_to + timedelta(days=1), dt_time.min, zone)
        return since, until.astimezone(UTC)

    def wait_times(self, s: Session, f: StatsFilter) -> dict[str, Any]:
        """Queue waits (seconds) of the signed video sessions started in the period:
        count (`sessions`), median, p90 (None without sessions)."""
        since, until = self._local_days(f)
        where = [
            RecordingRow.started_at >= since,
            RecordingRow.started_at < until,
            RecordingRow.signature == "ok",
            RecordingRow.queue_wait_s.is_not(None),
        ]
        if f.mode and f.mode != VIDEO:
            where.append(false())
        if f.place:
            where.append(RecordingRow.place == f.place)
        if f.item:
            where.append(RecordingRow.item == f.item)
        if f.department:
            codes = [c for c, i in self.catalogue.items.items() if i.department.zh == f.department]
            where.append(RecordingRow.item.in_(codes or [""]))
        found = percentiles(
            s, select(RecordingRow.queue_wait_s.label("d")).where(*where), PERCENTILES
        )
        return {
            "available": True,
            "sessions": found["decided"],
            "median": found["median"],
            "p90": found["p90"],
        }

    def spot_checks(self, s: Session, f: StatsFilter) -> dict[str, Any]:
        """Spot checks of the cases decided in the period (local days): drawn,
        reviewed, pending, passed, failed, and each checklist point's yes / no
        among the reviewed. One aggregate over spot_checks joined to its cases."""
        since, until = self._local_days(f)
        reviewed = SpotCheckRow.state == "reviewed"
        cols = [
            func.count().label("drawn"),
            func.count().filter(reviewed).label("reviewed"),
            func.count().filter(SpotCheckRow.state == "pending").label("pending"),
            func.count().filter(SpotCheckRow.verdict == "pass").label("passed"),
            func.count().filter(SpotCheckRow.verdict == "fail").label("failed"),
        ]
        for point in CHECKLIST:
            answer = SpotCheckRow.checklist[point].as_boolean()
            cols.append(func.count().filter(and_(reviewed, answer.is_(True))).label(point))
            cols.append(func.count().filter(and_(reviewed, answer.is_(False))).label(f"{point}_no"))
        where = [CaseRow.decided_at >= since, CaseRow.decided_at < until]
        for col, value in (
            (CaseRow.place, f.place),
            (CaseRow.department, f.department),
            (CaseRow.item, f.item),
            (CaseRow.mode, f.mode),
        ):
            if value:
                where.append(col == value)
        query = select(*cols).join(CaseRow, CaseRow.number == SpotCheckRow.number).where(*where)
        row = {k: int(v or 0) for k, v in s.execute(query).one()._mapping.items()}
        points = {p: {"yes": row.pop(p), "no": row.pop(f"{p}_no")} for p in CHECKLIST}
        return {**row, "points": points}

    def report(self, f: StatsFilter, today: date) -> dict[str, Any]:
        """Everything the statistics page shows, with the seconds each part took."""
        self.timings = {}
        with self.register.read() as s:
            parts: dict[str, Callable[[], Any]] = {
                "summary": lambda: self.summary(s, f, today),
                "handling_time": lambda: self.handling_time(s, f),
                "hours": lambda: self.busiest_hours(s, f, today),
                "items": lambda: self.by_item(s, f, today),
                "ratings": lambda: rating_distribution(s, f, self.catalogue.timezone),
                "wait_time": lambda: self.wait_times(s, f),
                "spot_checks": lambda: self.spot_checks(s, f),
            }
            out: dict[str, Any] = {"filter": f.to_json(), "today": today.isoformat()}
            for name, run in parts.items():
                started = time.perf_counter()
                out[name] = run()
                self.timings[name] = time.perf_counter() - started
        out["timezone"] = self.catalogue.timezone
        return out


def percentiles(
    s: Session, values: Select[Any], wanted: dict[str, tuple[int, int]]
) -> dict[str, float | int | None]:
    """Quantiles of the query's one column `d`, each p = num/den, linear between the
    two nearest ranks (as percentile_cont). One sort: the rows are numbered in
    order and only those at the wanted ranks come back, with the row count."""
    sub = values.subquery()
    ranked = select(
        sub.c.d,
        func.row_number().over(order_by=sub.c.d).label("rn"),
        func.count().over().label("n"),
    ).subquery()
    # 1-based ranks floor((n - 1) * p) + 1 and the next; integer division on both backends.
    lows = [(ranked.c.n - 1) * num // den + 1 for num, den in wanted.values()]
    ranks = [r for low in lows for r in (low, low + 1)]
    query = select(ranked.c.rn, ranked.c.d, ranked.c.n).where(ranked.c.rn.in_(ranks))
    rows = s.execute(query).all()
    got = {int(rn): float(d) for rn, d, _ in rows}
    n = int(rows[0].n) if rows else 0
    out: dict[str, float | int | None] = {"decided": n}
    for name, (num, den) in wanted.items():
        if n == 0:
            out[name] = None
            continue
        low = (n - 1) * num // den + 1
        frac = (n - 1) * num / den - (low - 1)
        a = got[low]
        b = got.get(low + 1, a)
        out[name] = round(a + (b - a) * frac, 3)  # julianday arithmetic: exact to ~10 us
    return out


def rating_distribution(s: Session, f: StatsFilter, timezone: str) -> dict[str, Any]:
    """The ratings (好差评) given in the period (its local days), per level, with the
    satisfaction rate: the ratings service's one GROUP BY under the same filter."""
    zone = ZoneInfo(timezone)
    # in UTC, as the register stores times (SQLite compares them as text)
    since = datetime.combine(f.date_from, dt_time.min, zone).astimezone(UTC)
    until = datetime.combine(f.date_to + timedelta(days=1), dt_time.min, zone).astimezone(UTC)
    found = ratings.rating_distribution(
        s,
        ratings.RatingFilter(
            since=since,
            until=until,
            department=f.department,
            item=f.item,
            place=f.place,
            mode=f.mode,
        ),
    )
    by_level = {entry["level"]: entry["count"] for entry in found["levels"]}
    return {
        "available": True,
        "levels": {
            name: by_level.get(level, 0) for name, level in zip(RATING_LEVELS, LEVELS, strict=True)
        },
        "total": found["total"],
        "satisfaction_rate": found["satisfaction_rate"],
    }
