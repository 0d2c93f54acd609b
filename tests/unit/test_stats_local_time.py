"""The wall clock inside SQLite for a zone with summer time: offsets change on
the right hour, and hours and days read in SQL follow them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, literal, select

from server.register.local_time import LocalClock, offset_segments


def test_the_offsets_of_a_summer_time_zone() -> None:
    segments = offset_segments(ZoneInfo("Europe/Berlin"), date(2026, 3, 1), date(2026, 4, 30))
    assert [m for _, m in segments] == [60, 120]
    assert segments[1][0] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert [
        m
        for _, m in offset_segments(ZoneInfo("Asia/Shanghai"), date(2026, 1, 1), date(2026, 12, 31))
    ] == [480]


def test_sqlite_reads_hours_and_days_across_the_change() -> None:
    clock = LocalClock("Europe/Berlin", True, date(2026, 3, 1), date(2026, 4, 30))
    engine = create_engine("sqlite://")
    with engine.connect() as conn:

        def hour(utc_text: str) -> int:
            return conn.scalar(select(clock.hour(literal(utc_text))))

        def day(utc_text: str) -> str:
            return conn.scalar(select(clock.day(literal(utc_text))))

        assert hour("2026-03-29 00:30:00.000000") == 1  # CET, UTC+1
        assert hour("2026-03-29 01:30:00.000000") == 3  # CEST, UTC+2
        assert day("2026-03-28 22:30:00.000000") == "2026-03-28"  # 23:30 CET
        assert day("2026-04-10 22:30:00.000000") == "2026-04-11"  # 00:30 CEST
