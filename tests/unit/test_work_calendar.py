"""Working days: weekends, the 2026 public holidays and 调休 make-up days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from server.config import ConfigError
from server.register.calendar import WorkCalendar, load_calendar, parse_calendar


def test_the_shipped_2026_calendar() -> None:
    cal = load_calendar()
    assert not cal.is_working_day(date(2026, 2, 16))  # 春节
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert cal.is_working_day(date(2026, 1, 4))  # Sunday, 调休上班
    assert not cal.is_working_day(date(2026, 10, 3)) and not cal.is_working_day(date(2026, 3, 1))
    # Friday 13 Feb + 1 working day: Saturday 14 Feb (make-up day); + 2: Tuesday 24 Feb.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 13), 0) == date(2026, 2, 13)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert cal.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0


def test_a_year_not_in_the_calendar_counts_monday_to_friday() -> None:
    cal = WorkCalendar()
    assert cal.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)  # Fri -> Mon


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"2026": {"holidays": ["2026-13-01"]}}, "expected YYYY-MM-DD"),
        ({"2026": {"holidays": ["2025-12-31"]}}, "not in 2026"),
        ({"2026": {"holidays": ["2026-05-01"], "workdays": ["2026-05-01"]}}, "both"),
        ({"2026": {"holidays": ["2026-05-05..2026-05-01"]}}, "runs forward"),
        ({"2026": {"holiday": []}}, "unknown keys"),
        ({"next": {}}, "year section"),
    ],
)
def test_bad_calendars_name_the_problem(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_calendar(raw)


def test_a_configured_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "h.toml"
    path.write_text('[2027]\nholidays = ["2027-01-01"]\n', encoding="utf-8")
    assert not load_calendar(path).is_working_day(date(2027, 1, 1))
    with pytest.raises(ConfigError, match="cannot read"):
        load_calendar(tmp_path / "missing.toml")
