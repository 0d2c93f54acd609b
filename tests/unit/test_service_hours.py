"""Service hours as the catalogue writes them, and the catalogue's ticket prefixes."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.catalogue import load_catalogue, parse_catalogue
from server.config import ConfigError
from server.service_hours import parse_hours
from tests.unit.test_config import CATALOGUE_ITEM as ITEM

# 2026-12-07 is a Monday.
MON, SAT, SUN = 7, 12, 13


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute)


def test_weekday_hours_with_a_lunch_break() -> None:
    hours = parse_hours("t", "周一至周五 9:00-12:00, 13:30-17:00; 周六 9:00-12:00")
    assert hours.en == "Mon–Fri 9:00-12:00, 13:30-17:00; Sat 9:00-12:00"
    assert hours.to_json() == {"zh": hours.text, "en": hours.en}
    assert hours.open_at(at(MON, 9)) and hours.open_at(at(MON, 11, 59))
    assert not hours.open_at(at(MON, 12)) and not hours.open_at(at(MON, 13, 29))
    assert hours.open_at(at(MON, 13, 30)) and not hours.open_at(at(MON, 17))
    assert not hours.open_at(at(MON, 8, 59))
    assert hours.open_at(at(SAT, 10)) and not hours.open_at(at(SAT, 14))
    assert not hours.open_at(at(SUN, 10))


def test_lists_every_day_and_sunday() -> None:
    every = parse_hours("t", "每天 0:00-24:00")
    assert all(every.open_at(at(d, 23, 59)) for d in range(MON, MON + 7))
    listed = parse_hours("t", "周一、周三、周日 14:00-17:00")
    assert listed.en == "Mon, Wed, Sun 14:00-17:00"
    assert listed.open_at(at(SUN, 15)) and not listed.open_at(at(MON + 1, 15))
    assert parse_hours("t", "周天 8:00-9:00").open_at(at(SUN, 8))


@pytest.mark.parametrize(
    "text",
    ["", "周一至周五", "周八 9:00-10:00", "周五至周一 9:00-10:00", "每天 9:00", "每天 12:00-9:00"],
)
def test_unreadable_hours_name_the_field(text: str) -> None:
    with pytest.raises(ConfigError, match=r"items\.hours"):
        parse_hours("items.hours", text)


def test_catalogue_hours_item_then_place_then_default() -> None:
    cat = parse_catalogue(
        {
            "hours": "周一至周五 9:00-17:00",
            "places": [{"code": "T", "kind": "township_centre", "zh": "镇", "en": "Town"},
                       {"code": "P", "kind": "village_point", "zh": "点", "en": "Point",
                        "township": "T", "hours": "每天 8:00-20:00"}],
            "items": [ITEM, {**ITEM, "code": "X-2", "hours": "周六 9:00-12:00"}],
        }
    )  # fmt: skip
    one, two = cat.items["X-1"], cat.items["X-2"]
    assert cat.hours_for(two, "P").text == "周六 9:00-12:00"
    assert cat.hours_for(one, "P").text == "每天 8:00-20:00"
    assert cat.hours_for(one, "elsewhere").text == "周一至周五 9:00-17:00"
    assert parse_catalogue({"items": [ITEM]}).hours_for(one, None) is None


def test_ticket_prefixes_unique_and_filled_in() -> None:
    cat = parse_catalogue({"items": [{**ITEM, "ticket_prefix": "A"}, {**ITEM, "code": "X-2"}]})
    assert [i.ticket_prefix for i in cat.items.values()] == ["A", "B"]
    with pytest.raises(ConfigError, match="already used by X-1"):
        twice = [{**ITEM, "ticket_prefix": "A"}, {**ITEM, "code": "X-2", "ticket_prefix": "A"}]
        parse_catalogue({"items": twice})
    with pytest.raises(ConfigError, match="ticket_prefix"):
        parse_catalogue({"items": [{**ITEM, "ticket_prefix": "a1"}]})
    with pytest.raises(ConfigError, match="timezone"):
        parse_catalogue({"items": [ITEM], "timezone": "Mars/Olympus"})
    demo = load_catalogue()
    prefixes = [i.ticket_prefix for i in demo.items.values()]
    assert len(set(prefixes)) == len(prefixes) and demo.hours is not None
