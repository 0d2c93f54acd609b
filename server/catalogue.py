"""Service catalogue (事项清单): service items, places and priority classes."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server import CONFIG_DIR
from server.config import ConfigError
from server.service_hours import ServiceHours, parse_hours

Level = Literal["county", "city"]
LEVELS: tuple[str, ...] = ("county", "city")
MODES: dict[str, tuple[str, str]] = {
    "video": ("远程视频窗口", "Virtual remote window"),
    "forward": ("收审分离", "Receive and forward"),
    "assisted": ("帮办代办", "Assisted filing"),
    "inspection": ("云踏勘", "Remote site inspection"),
}
PLACE_KINDS = ("city_hall", "county_hall", "township_centre", "village_point")
NORMAL_CLASS = "normal"
DEFAULT_TIMEZONE = "Asia/Shanghai"
_PREFIX = re.compile(r"^[A-Z]{1,2}$")


@dataclass(frozen=True)
class Names:
    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class ServiceItem:
    code: str
    names: Names
    department: Names
    level: str
    modes: tuple[str, ...]
    materials: tuple[str, ...]
    time_limit_days: int
    ticket_prefix: str = ""  # 叫号 letter(s): tickets of this item are A001, A002...
    hours: ServiceHours | None = None
    # 云踏勘: the points a site inspection checks (e.g. 后厨, 仓储, 洗手设施).
    inspection_points: tuple[str, ...] = ()

    @property
    def queue_key(self) -> str:
        """One queue per service item and level."""
        return f"{self.code}@{self.level}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "names": self.names.to_json(),
            "department": self.department.to_json(),
            "level": self.level,
            "modes": list(self.modes),
            "materials": list(self.materials),
            "time_limit_days": self.time_limit_days,
            "queue": self.queue_key,
            "ticket_prefix": self.ticket_prefix,
            "hours": self.hours.to_json() if self.hours else None,
            "inspection_points": list(self.inspection_points),
        }


@dataclass(frozen=True)
class Place:
    code: str
    kind: str
    names: Names
    hours: ServiceHours | None = None
    township: str | None = None  # a village point's township (乡村随身办, its points ledger)

    def to_json(self) -> dict[str, Any]:
        body = {
            "code": self.code,
            "kind": self.kind,
            "names": self.names.to_json(),
            "hours": self.hours.to_json() if self.hours else None,
        }
        if self.township:
            body["township"] = self.township
        return body


@dataclass(frozen=True)
class FormField:
    """One field of a convenience item's small form."""

    name: str
    names: Names
    kind: str  # text | number | date | choice
    required: bool = True
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "names": self.names.to_json(),
            "kind": self.kind,
            "required": self.required,
            "options": list(self.options),
        }


@dataclass(frozen=True)
class ConvenienceItem:
    """A village convenience item (便民事项: 社保缴纳, 医保卡激活, 求职登记…): no case,
    a record the village agent fills (server/register/convenience.py)."""

    code: str
    names: Names
    fields: tuple[FormField, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "names": self.names.to_json(),
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(frozen=True)
class Catalogue:
    items: dict[str, ServiceItem]
    places: dict[str, Place]
    priority_classes: dict[str, Names]
    hours: ServiceHours | None = None  # where neither the item nor the place says
    timezone: str = DEFAULT_TIMEZONE
    convenience: dict[str, ConvenienceItem] = field(default_factory=dict)
    _zone: ZoneInfo = field(default=ZoneInfo(DEFAULT_TIMEZONE), repr=False, compare=False)

    def item(self, code: str) -> ServiceItem:
        return self.items[code]

    def queue_keys(self, codes: list[str] | tuple[str, ...] | None = None) -> list[str]:
        chosen = self.items.values() if codes is None else (self.items[c] for c in codes)
        return [i.queue_key for i in chosen]

    def item_for_queue(self, queue_key: str) -> ServiceItem:
        return self.items[queue_key.split("@", 1)[0]]

    def is_priority(self, priority_class: str) -> bool:
        return priority_class in self.priority_classes

    def local_time(self, timestamp: float) -> datetime:
        """A Unix time as the wall clock of the catalogue's time zone."""
        return datetime.fromtimestamp(timestamp, self._zone)

    def hours_for(self, item: ServiceItem, place: str | None) -> ServiceHours | None:
        """The item's service hours, else the place's, else the catalogue's."""
        if item.hours is not None:
            return item.hours
        where = self.places.get(place or "")
        if where is not None and where.hours is not None:
            return where.hours
        return self.hours

    def village_points(self, township: str) -> list[Place]:
        """The village service points under a township."""
        return [p for p in self.places.values() if p.township == township]

    def to_json(self) -> dict[str, Any]:
        return {
            "convenience": [c.to_json() for c in self.convenience.values()],
            "items": [i.to_json() for i in self.items.values()],
            "places": [p.to_json() for p in self.places.values()],
            "priority_classes": {k: v.to_json() for k, v in self.priority_classes.items()},
            "modes": {k: {"zh": zh, "en": en} for k, (zh, en) in MODES.items()},
            "hours": self.hours.to_json() if self.hours else None,
        }


def _names(where: str, raw: Any) -> Names:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("zh"), str)
        or not isinstance(raw.get("en"), str)
    ):
        raise ConfigError(f"{where}: expected zh and en names")
    return Names(zh=raw["zh"], en=raw["en"])


def _require(where: str, raw: dict[str, Any], key: str, tp: type) -> Any:
    value = raw.get(key)
    if not isinstance(value, tp) or (isinstance(value, bool) and tp is not bool):
        raise ConfigError(f"{where}.{key}: expected {tp.__name__}, got {value!r}")
    return value


def parse_catalogue(raw: dict[str, Any], source: str = "catalogue") -> Catalogue:
    """Validate a catalogue document and build the typed catalogue."""
    items: dict[str, ServiceItem] = {}
    for n, it in enumerate(raw.get("items", [])):
        where = f"{source}: items[{n}]"
        code = _require(where, it, "code", str)
        if code in items or "@" in code:
            raise ConfigError(f"{where}.code: duplicate or invalid code {code!r}")
        level = _require(where, it, "level", str)
        if level not in LEVELS:
            raise ConfigError(f"{where}.level: expected one of {', '.join(LEVELS)}, got {level!r}")
        modes = tuple(_require(where, it, "modes", list))
        bad = [m for m in modes if m not in MODES]
        if bad or not modes:
            raise ConfigError(f"{where}.modes: expected some of {', '.join(MODES)}, got {bad}")
        days = _require(where, it, "time_limit_days", int)
        prefix = it.get("ticket_prefix", "")
        if prefix and (not isinstance(prefix, str) or not _PREFIX.match(prefix)):
            raise ConfigError(f"{where}.ticket_prefix: expected one or two capital letters")
        items[code] = ServiceItem(
            code=code,
            names=_names(where, {"zh": it.get("zh"), "en": it.get("en")}),
            department=_names(f"{where}.department", it.get("department")),
            level=level,
            modes=modes,
            materials=tuple(str(m) for m in _require(where, it, "materials", list)),
            time_limit_days=days,
            ticket_prefix=prefix,
            hours=parse_hours(f"{where}.hours", it["hours"]) if "hours" in it else None,
            inspection_points=tuple(str(p) for p in it.get("inspection_points", [])),
        )
    places: dict[str, Place] = {}
    for n, pl in enumerate(raw.get("places", [])):
        where = f"{source}: places[{n}]"
        code = _require(where, pl, "code", str)
        kind = _require(where, pl, "kind", str)
        if kind not in PLACE_KINDS:
            raise ConfigError(f"{where}.kind: expected one of {', '.join(PLACE_KINDS)}")
        hours = parse_hours(f"{where}.hours", pl["hours"]) if "hours" in pl else None
        township = pl.get("township")
        if kind == "village_point" and not isinstance(township, str):
            raise ConfigError(f"{where}.township: a village point names its township's code")
        places[code] = Place(
            code=code, kind=kind, names=_names(where, pl), hours=hours, township=township
        )
    for code, place in places.items():
        if place.township and places.get(place.township, place).kind != "township_centre":
            raise ConfigError(f"{source}: places {code}: township {place.township!r} is unknown")
    classes = {
        k: _names(f"{source}: priority_classes.{k}", v)
        for k, v in raw.get("priority_classes", {}).items()
    }
    if NORMAL_CLASS in classes:
        raise ConfigError(f"{source}: priority_classes must not define {NORMAL_CLASS!r}")
    if not items:
        raise ConfigError(f"{source}: no service items")
    items = _with_prefixes(source, items)
    zone_name = raw.get("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{source}: timezone: unknown time zone {zone_name!r}") from None
    hours = parse_hours(f"{source}: hours", raw["hours"]) if "hours" in raw else None
    return Catalogue(
        items=items,
        places=places,
        priority_classes=classes,
        hours=hours,
        timezone=zone_name,
        _zone=zone,
        convenience=_convenience(source, raw.get("convenience", []), items),
    )


FIELD_KINDS = ("text", "number", "date", "choice")


def _convenience(source: str, raw: list[Any], items: dict[str, Any]) -> dict[str, ConvenienceItem]:
    """The village convenience items (`[[convenience]]`) with their form fields."""
    out: dict[str, ConvenienceItem] = {}
    for n, it in enumerate(raw):
        where = f"{source}: convenience[{n}]"
        code = _require(where, it, "code", str)
        if code in out or code in items:
            raise ConfigError(f"{where}.code: duplicate code {code!r}")
        fields = []
        for k, f in enumerate(_require(where, it, "fields", list)):
            fwhere = f"{where}.fields[{k}]"
            kind = f.get("kind", "text")
            if kind not in FIELD_KINDS:
                raise ConfigError(f"{fwhere}.kind: expected one of {', '.join(FIELD_KINDS)}")
            options = tuple(str(o) for o in f.get("options", []))
            if kind == "choice" and not options:
                raise ConfigError(f"{fwhere}.options: a choice needs options")
            fields.append(
                FormField(
                    name=_require(fwhere, f, "name", str),
                    names=_names(fwhere, f),
                    kind=kind,
                    required=bool(f.get("required", True)),
                    options=options,
                )
            )
        out[code] = ConvenienceItem(code=code, names=_names(where, it), fields=tuple(fields))
    return out


def _with_prefixes(source: str, items: dict[str, ServiceItem]) -> dict[str, ServiceItem]:
    """Every item gets its own ticket prefix: the one written, else the first free letter."""
    taken: dict[str, str] = {}
    for item in items.values():
        if item.ticket_prefix in taken:
            raise ConfigError(
                f"{source}: ticket_prefix {item.ticket_prefix!r} of {item.code} is already "
                f"used by {taken[item.ticket_prefix]}"
            )
        if item.ticket_prefix:
            taken[item.ticket_prefix] = item.code
    free = (c for c in string.ascii_uppercase if c not in taken)
    out = {}
    for code, item in items.items():
        if not item.ticket_prefix:
            letter = next(free, None)
            if letter is None:
                raise ConfigError(f"{source}: items[{code}]: no free ticket_prefix letter left")
            item = replace(item, ticket_prefix=letter)
        out[code] = item
    return out


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    path = Path(path) if path else CONFIG_DIR / "catalogue.toml"
    with open(path, "rb") as fh:
        return parse_catalogue(tomllib.load(fh), str(path))
