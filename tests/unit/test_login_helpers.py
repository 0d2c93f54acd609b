"""Pure helpers of sign-in: safe `next` targets, address buckets, audit labels."""

from __future__ import annotations

import pytest

from server.landing import safe_next
from server.login_audit import MAX_KEYS, RefusalAggregator, username_label
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


def test_refusals_are_counted_per_key_and_bounded() -> None:
    written: list[tuple[str, str | None, dict]] = []
    agg = RefusalAggregator(lambda t, a, d: written.append((t, a, d)), interval=60)
    for _ in range(3):
        agg.add("locked", "wangmin", "203.0.113.7")
    for n in range(MAX_KEYS + 5):
        agg.add("throttled", None, f"10.0.{n // 256}.{n % 256}")
    assert agg.flush() == MAX_KEYS + 1  # the overflow key takes the rest
    counts = {(d["reason"], d["address"]): d["count"] for _, _, d in written}
    assert counts[("locked", "203.0.113.7")] == 3
    assert counts[("overflow", None)] == 6
    assert sum(counts.values()) == 3 + MAX_KEYS + 5
    assert agg.flush() == 0  # counted once
