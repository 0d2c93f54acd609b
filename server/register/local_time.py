"""UTC columns read as the catalogue's wall clock, inside SQL.

PostgreSQL knows time zones (`timezone(zone, ts)`). SQLite does not, so there
the column is shifted by the zone's UTC offset: one literal modifier when the
offset is the same over the whole span (Asia/Shanghai, no DST since 1991), else
a CASE over the offset changes inside the span. SQLite stores the register's
times as UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'), which compares as text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

Segment = tuple[datetime, int]  # from this UTC instant on, this offset in minutes


def _offset(zone: ZoneInfo, at: datetime) -> int:
    off = at.astimezone(zone).utcoffset() or timedelta()
    return int(off.total_seconds() // 60)


def offset_segments(zone: ZoneInfo, first: date, last: date) -> list[Segment]:
    """The zone's UTC offsets from the start of `first` to the end of `last`:
    [(since, minutes), ...], the first `since` at `first` 00:00 UTC (an hour grid:
    zones change offset on the hour)."""
    start = datetime.combine(first - timedelta(days=1), time(), UTC)
    end = datetime.combine(last + timedelta(days=2), time(), UTC)
    segments = [(start, _offset(zone, start))]
    day = start
    while day < end:
        nxt = day + timedelta(days=1)
        if _offset(zone, nxt) != segments[-1][1]:
            hour = day
            while _offset(zone, hour) == segments[-1][1]:
                hour += timedelta(hours=1)
            segments.append((hour, _offset(zone, hour)))
        day = nxt
    return segments


class LocalClock:
    """SQL expressions for a zone's wall clock over one span of dates."""

    def __init__(self, zone_name: str, sqlite: bool, first: date, last: date) -> None:
        self.zone_name = zone_name
        self.sqlite = sqlite
        self.segments = offset_segments(ZoneInfo(zone_name), first, last) if sqlite else []

    def _modifier(self, col: Any) -> ColumnElement[Any]:
        def text(minutes: int) -> str:
            return f"{minutes:+d} minutes"

        if len(self.segments) == 1:
            return literal(text(self.segments[0][1]))
        whens = [
            (col < literal(since.strftime("%Y-%m-%d %H:%M:%S")), literal(text(prev)))
            for (since, _), (_, prev) in zip(self.segments[1:], self.segments[:-1], strict=True)
        ]
        return case(*whens, else_=literal(text(self.segments[-1][1])))

    def hour(self, col: Any) -> ColumnElement[int]:
        """The hour of day, 0 to 23."""
        if self.sqlite:
            return cast(func.strftime("%H", col, self._modifier(col)), Integer)
        return cast(func.extract("hour", func.timezone(self.zone_name, col)), Integer)

    def day(self, col: Any) -> ColumnElement[Any]:
        """The calendar date (compares with Date columns on either backend)."""
        if self.sqlite:
            return func.date(col, self._modifier(col))
        return cast(func.timezone(self.zone_name, col), Date)


def seconds_between(sqlite: bool, start: Any, end: Any) -> ColumnElement[float]:
    """end - start in seconds, as a float."""
    if sqlite:
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)
