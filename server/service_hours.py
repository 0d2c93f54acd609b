"""Service hours (服务时间) as the catalogue writes them, read well enough to say
whether a moment falls inside them.

The text is what people read, so it stays as written; the grammar is small:

    周一至周五 9:00-12:00, 13:30-17:00; 周六 9:00-12:00
    每天 8:30-17:30
    周一、周三、周五 14:00-17:00

Clauses are separated by ";" (or "；"); each is a set of days, then time
ranges separated by "," ("，" or "、"). Days: 周一..周六, 周日 (or 周天), ranges
written 周X至周Y (or 周X-周Y), lists with "、", or 每天 for every day.
Public holidays are not modelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.config import ConfigError

_DAY_CHARS = "一二三四五六日"  # Monday is 0, as datetime.weekday() counts
_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    ranges: tuple[tuple[int, int], ...]  # minutes since midnight, [start, end)


@dataclass(frozen=True)
class ServiceHours:
    text: str
    en: str
    windows: tuple[Window, ...]

    def open_at(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        day = moment.weekday()
        return any(
            day in w.days and any(start <= minute < end for start, end in w.ranges)
            for w in self.windows
        )

    def to_json(self) -> dict[str, Any]:
        return {"zh": self.text, "en": self.en}


def _day(where: str, token: str) -> int:
    token = token.strip()
    if len(token) == 2 and token[0] == "周":
        char = "日" if token[1] == "天" else token[1]
        if char in _DAY_CHARS:
            return _DAY_CHARS.index(char)
    raise ConfigError(f"{where}: cannot read the day {token!r} (write 周一..周日)")


def _days(where: str, text: str) -> frozenset[int]:
    if text == "每天":
        return frozenset(range(7))
    days: set[int] = set()
    for part in re.split(r"[、,，]", text):
        ends = re.split(r"至|-|–", part)
        if len(ends) == 1:
            days.add(_day(where, ends[0]))
        elif len(ends) == 2:
            first, last = _day(where, ends[0]), _day(where, ends[1])
            if last < first:
                raise ConfigError(f"{where}: day range {part!r} runs backwards")
            days.update(range(first, last + 1))
        else:
            raise ConfigError(f"{where}: cannot read the days {part!r}")
    return frozenset(days)


def _ranges(where: str, text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in re.split(r"[,，、]", text):
        match = _RANGE.match(part.strip())
        if not match:
            raise ConfigError(f"{where}: cannot read the time range {part.strip()!r} (9:00-12:00)")
        h1, m1, h2, m2 = map(int, match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= 24 * 60) or m1 > 59 or m2 > 59:
            raise ConfigError(f"{where}: the time range {part.strip()!r} is not a range of one day")
        out.append((start, end))
    return tuple(out)


def _en_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) == 7:
        return "Every day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_EN_DAYS[ordered[0]]}–{_EN_DAYS[ordered[-1]]}"
    return ", ".join(_EN_DAYS[d] for d in ordered)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def parse_hours(where: str, text: Any) -> ServiceHours:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: expected service hours like '周一至周五 9:00-12:00'")
    windows, english = [], []
    for clause in re.split(r"[;；]", text.strip()):
        clause = clause.strip()
        if not clause:
            continue
        days_text, _, ranges_text = clause.partition(" ")
        if not ranges_text.strip():
            raise ConfigError(f"{where}: {clause!r} needs days, a space, then time ranges")
        window = Window(_days(where, days_text), _ranges(where, ranges_text.strip()))
        windows.append(window)
        times = ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in window.ranges)
        english.append(f"{_en_days(window.days)} {times}")
    if not windows:
        raise ConfigError(f"{where}: no service hours")
    return ServiceHours(text=text.strip(), en="; ".join(english), windows=tuple(windows))
