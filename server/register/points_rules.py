"""The points rules (积分) of 乡村随身办, read from config/points.toml.

A decided case at a village point earns `case_base` + its mode's points + its
item's points (+ `video_session_bonus` when the agent took it through a video
session), plus the bonuses: an elderly applicant (age on the decision day, from
the birth date in the ID number, at least `elderly_age`) and a person with
disability (ticked by the agent). A withdrawn case, or any state not in
`earn_on`, earns nothing. A convenience record earns its item's points plus the
same bonuses. `award` returns the total and its parts, kept on the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from server import CONFIG_DIR
from server.config import ConfigError


@dataclass(frozen=True)
class PointsRules:
    earn_on: tuple[str, ...] = ("approved", "rejected")
    case_base: int = 1
    item_default: int = 0
    video_session_bonus: int = 1
    elderly_age: int = 65
    elderly_bonus: int = 2
    disabled_bonus: int = 2
    modes: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    convenience: dict[str, int] = field(default_factory=dict)
    convenience_default: int = 1

    def earns(self, state: str) -> bool:
        return state in self.earn_on and state != "withdrawn"

    def _bonuses(self, parts: dict[str, int], age: int | None, disabled: bool) -> None:
        if age is not None and age >= self.elderly_age and self.elderly_bonus:
            parts["elderly"] = self.elderly_bonus
        if disabled and self.disabled_bonus:
            parts["disabled"] = self.disabled_bonus

    def for_case(
        self, item: str, mode: str, *, video: bool, age: int | None, disabled: bool
    ) -> tuple[int, dict[str, Any]]:
        """(points, parts) of one decided case."""
        parts = {"base": self.case_base, "mode": self.modes.get(mode, 0)}
        parts["item"] = self.items.get(item, self.item_default)
        if video and self.video_session_bonus:
            parts["video"] = self.video_session_bonus
        self._bonuses(parts, age, disabled)
        return sum(parts.values()), {"parts": parts, "age": age, "rule_item": item, "mode": mode}

    def for_record(self, item: str, *, age: int | None, disabled: bool) -> tuple[int, dict]:
        parts = {"item": self.convenience.get(item, self.convenience_default)}
        self._bonuses(parts, age, disabled)
        return sum(parts.values()), {"parts": parts, "age": age, "rule_item": item}


def age_on(id_number: str, day: date) -> int | None:
    """Whole years from the birth date in a GB 11643 ID number (characters 7-14) to `day`."""
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return years if years >= 0 else None


def _int(where: str, raw: dict[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}.{key}: expected a whole number of 0 or more, got {value!r}")
    return value


def _table(where: str, raw: dict[str, Any], key: str) -> dict[str, int]:
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}.{key}: expected a table of code = points")
    return {str(k): _int(f"{where}.{key}", table, k, 0) for k in table}


def parse_rules(raw: dict[str, Any], where: str = "points") -> PointsRules:
    earn_on = raw.get("earn_on", ["approved", "rejected"])
    allowed = {"approved", "rejected"}
    if not isinstance(earn_on, list) or not set(earn_on) <= allowed:
        raise ConfigError(f"{where}.earn_on: expected some of approved, rejected")
    return PointsRules(
        earn_on=tuple(earn_on),
        case_base=_int(where, raw, "case_base", 1),
        item_default=_int(where, raw, "item_default", 0),
        video_session_bonus=_int(where, raw, "video_session_bonus", 1),
        elderly_age=_int(where, raw, "elderly_age", 65),
        elderly_bonus=_int(where, raw, "elderly_bonus", 2),
        disabled_bonus=_int(where, raw, "disabled_bonus", 2),
        modes=_table(where, raw, "modes"),
        items=_table(where, raw, "items"),
        convenience=_table(where, raw, "convenience"),
        convenience_default=_int(where, raw, "convenience_default", 1),
    )


def load_rules(path: str | Path | None = None) -> PointsRules:
    path = Path(path) if path else CONFIG_DIR / "points.toml"
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"points.rules: cannot read {path}: {exc}") from None
    return parse_rules(raw, str(path))
