"""The password policy's rules one by one, and the audit viewer's ID masking."""

from __future__ import annotations

import pytest

from server.audit_api import mask_ids
from server.config import PasswordConfig
from server.password_policy import char_classes, policy_problem

POLICY = PasswordConfig()


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("abcD", 2), ("abcD1", 3), ("abcD1-", 4), ("中文密码", 1), ("Ab 1", 4)],
)
def test_character_classes(password: str, classes: int) -> None:
    assert char_classes(password) == classes


@pytest.mark.parametrize(
    ("password", "username", "code"),
    [
        ("Aa1-aaaaaaa", "wang", "too_short"),  # 11
        ("Aa1-aaaaaaaa", "wang", None),  # 12
        ("aaaaaaaaaaaa1", "wang", "classes"),
        ("AAAAaaaa1111", "wang", None),
        ("My-WANG-pass-1", "wang", "username"),
        ("x" * 1025, "wang", "too_long"),
    ],
)
def test_policy_rules(password: str, username: str, code: str | None) -> None:
    problem = policy_problem(password, username, POLICY)
    assert (problem[0] if problem else None) == code


def test_a_looser_policy_from_config() -> None:
    loose = PasswordConfig(min_length=8, min_classes=1, history=0)
    assert policy_problem("abcdefgh", "x", loose) is None


def test_id_numbers_are_masked_wherever_they_are() -> None:
    event = {"data": {"note": "证件 11010119900307777X 已核", "list": ["110101199003077777"]}}
    masked = mask_ids(event)
    assert masked["data"]["note"] == "证件 **************777X 已核"
    assert masked["data"]["list"] == ["**************7777"]
    assert mask_ids({"n": 12345678901234567890}) == {"n": 12345678901234567890}
