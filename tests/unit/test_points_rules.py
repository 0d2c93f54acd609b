"""The points rules (积分): age from the ID number, what each case or record earns,
and a rules file that says something wrong is refused naming the key."""

from __future__ import annotations

from datetime import date

import pytest

from server.config import ConfigError
from server.register.points_rules import age_on, load_rules, parse_rules
from server.register.points_types import next_month


def test_age_counts_whole_years_from_the_birth_date() -> None:
    assert age_on("110105196012310021", date(2026, 12, 30)) == 65
    assert age_on("110105196012310021", date(2026, 12, 31)) == 66
    assert age_on("110105196002290021", date(2026, 2, 28)) == 65  # born on 29 February
    assert age_on("110105199913400021", date(2026, 1, 1)) is None  # month 13


def test_the_shipped_rules() -> None:
    rules = load_rules()
    points, detail = rules.for_case("SCJG-001", "assisted", video=True, age=70, disabled=True)
    assert points == 1 + 2 + 0 + 1 + 2 + 2
    assert detail["parts"] == {
        "base": 1,
        "mode": 2,
        "item": 0,
        "video": 1,
        "elderly": 2,
        "disabled": 2,
    }
    assert rules.for_case("MZ-001", "forward", video=False, age=64, disabled=False)[0] == 1 + 1 + 2
    assert rules.for_record("BM-QZDJ", age=None, disabled=False)[0] == 2
    assert not rules.earns("withdrawn") and rules.earns("approved") and rules.earns("rejected")


def test_the_age_threshold_is_configurable() -> None:
    rules = parse_rules({"elderly_age": 60, "elderly_bonus": 5, "modes": {"assisted": 2}})
    assert rules.for_case("X", "assisted", video=False, age=60, disabled=False)[0] == 1 + 2 + 5
    assert rules.for_case("X", "assisted", video=False, age=59, disabled=False)[0] == 1 + 2


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"elderly_age": -1}, "elderly_age"),
        ({"elderly_bonus": "2"}, "elderly_bonus"),
        ({"modes": {"assisted": True}}, "modes"),
        ({"items": []}, "items"),
        ({"earn_on": ["withdrawn"]}, "earn_on"),
    ],
)
def test_a_wrong_rule_is_refused_naming_its_key(raw: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        parse_rules(raw)


def test_months_roll_over_the_year() -> None:
    assert next_month("2026-12") == "2027-01" and next_month("2026-09") == "2026-10"
