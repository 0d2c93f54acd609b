"""Pure helpers of sign-in: safe `next` targets, address buckets, audit labels."""

from __future__ import annotations

import pytest

from server.landing import safe_next
from server.login_audit import username_label
from server.login_limits import address_bucket


@pytest.mark.parametrize(
    "raw",
    [
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "//evil.example",
        "/%2F/evil.example",
        "/%252F/evil.example",
        "/%5Cevil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        None,
    ],
)
def test_offsite_targets_are_refused(raw: str | None) -> None:
    assert safe_next(raw) is None


@pytest.mark.parametrize("raw", ["/desk", "/cases/20261128-093015-8f2a01bc", "/cases?x=1"])
def test_own_paths_are_kept(raw: str) -> None:
    assert safe_next(raw) == raw


def test_address_buckets() -> None:
    assert address_bucket("203.0.113.7") == "203.0.113.7"
    assert address_bucket("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_bucket(None) == address_bucket("not an ip") == "unknown"


def test_unknown_usernames_are_keyed_hashes() -> None:
    typed = "110101199003077777"
    label = username_label("secret-one", typed, known=False)
    assert typed not in label and label.startswith("unknown:")
    assert label == username_label("secret-one", typed, known=False)
    assert label != username_label("secret-two", typed, known=False)
    assert username_label("secret-one", "wangmin", known=True) == "wangmin"
