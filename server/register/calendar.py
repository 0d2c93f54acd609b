"""Working days (工作日) for case deadlines: weekends, public holidays and the
weekend days made working days in exchange (调休), from a TOML calendar."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from server import CONFIG_DIR
from server.config import ConfigError

DEFAULT_CALENDAR = CONFIG_DIR / "holidays.toml"


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # 调休: weekend, but working

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself for 0: 即办)."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative when `end`
        is earlier (how many working days it is past)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def _dates(where: str, entries: Any) -> set[date]:
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: expected a list of dates")
    out: set[date] = set()
    for n, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise ConfigError(f"{where}[{n}]: expected a date string, got {entry!r}")
        first, _, last = entry.partition("..")
        try:
            a = date.fromisoformat(first.strip())
            b = date.fromisoformat(last.strip()) if last else a
        except ValueError:
            raise ConfigError(
                f"{where}[{n}]: expected YYYY-MM-DD or a range, got {entry!r}"
            ) from None
        if b < a or (b - a).days > 31:
            raise ConfigError(f"{where}[{n}]: a range runs forward, at most a month: {entry!r}")
        out.update(a + timedelta(days=i) for i in range((b - a).days + 1))
    return out


def parse_calendar(raw: dict[str, Any], source: str = "holidays") -> WorkCalendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year, section in raw.items():
        where = f"{source}: [{year}]"
        if not year.isdigit() or not isinstance(section, dict):
            raise ConfigError(f"{where}: expected a year section with holidays and workdays")
        unknown = set(section) - {"holidays", "workdays"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        off = _dates(f"{where}.holidays", section.get("holidays", []))
        on = _dates(f"{where}.workdays", section.get("workdays", []))
        stray = sorted(d for d in off | on if d.year != int(year))
        if stray:
            raise ConfigError(f"{where}: {stray[0]} is not in {year}")
        both = sorted(off & on)
        if both:
            raise ConfigError(f"{where}: {both[0]} is both a holiday and a working day")
        holidays |= off
        workdays |= on
    return WorkCalendar(frozenset(holidays), frozenset(workdays))


def load_calendar(path: str | Path | None = None) -> WorkCalendar:
    """The configured calendar (`cases.holidays`), else the shipped one."""
    path = Path(path) if path else DEFAULT_CALENDAR
    try:
        with open(path, "rb") as fh:
            return parse_calendar(tomllib.load(fh), str(path))
    except OSError as exc:
        raise ConfigError(f"cannot read holiday calendar {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
