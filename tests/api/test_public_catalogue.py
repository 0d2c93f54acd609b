"""The public catalogue (事项清单公开): open without sign-in, JSON as in the config
file (read here straight from the TOML), nothing internal, linked from the landing page."""

from __future__ import annotations

import tomllib

from server import CONFIG_DIR
from tests.conftest import RunningServer

INTERNAL = {
    "ticket_prefix",
    "queue",
    "token",
    "token_sha256",
    "users",
    "kiosks",
    "priority_classes",
}


def _config() -> dict:
    with open(CONFIG_DIR / "catalogue.toml", "rb") as fh:
        return tomllib.load(fh)


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_the_json_lists_the_configured_items_and_nothing_internal(
    running: RunningServer,
) -> None:
    anon, _ = await running.http()
    async with anon.get("/api/public/catalogue") as resp:
        assert resp.status == 200
        body = await resp.json()
    raw = _config()
    assert [i["code"] for i in body["items"]] == [i["code"] for i in raw["items"]]
    for got, want in zip(body["items"], raw["items"], strict=True):
        assert got["names"] == {"zh": want["zh"], "en": want["en"]}
        assert got["department"] == want["department"]
        assert got["decided_at"] == want["level"]
        assert got["modes"] == want["modes"]
        assert got["materials"] == want["materials"]
        assert got["time_limit_days"] == want["time_limit_days"]
    assert [p["code"] for p in body["places"]] == [p["code"] for p in raw["places"]]
    assert not INTERNAL & _keys(body)


async def test_where_each_item_can_be_handed_in(running: RunningServer) -> None:
    anon, _ = await running.http()
    async with anon.get("/api/public/catalogue") as resp:
        items = {i["code"]: i for i in (await resp.json())["items"]}
    assert items["SCJG-001"]["where"] == ["township", "county"]  # county item, remote modes
    assert items["RSJ-002"]["where"] == ["township", "county", "city"]  # city item, remote
    levels = {p["code"]: p["level"] for p in (await _places(running))}
    assert levels == {
        "JZ-CITY": "city",
        "QH-COUNTY": "county",
        "QH-CG": "township",
        "QH-LL": "township",
        "QH-LL-DC": "township",
        "QH-LL-XC": "township",
        "QH-CG-NC": "township",
    }


async def _places(running: RunningServer) -> list[dict]:
    anon, _ = await running.http()
    async with anon.get("/api/public/catalogue") as resp:
        return (await resp.json())["places"]


async def test_the_page_is_public_and_linked_from_the_landing_page(
    running: RunningServer,
) -> None:
    anon, _ = await running.http()
    async with anon.get("/", headers={"Accept": "text/html"}) as resp:
        assert 'href="/catalogue"' in await resp.text()
    async with anon.get("/catalogue", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        html = await resp.text()
    for item in _config()["items"]:
        assert f'data-item="{item["code"]}"' in html and item["zh"] in html
        assert all(m in html for m in item["materials"])
    assert "食品安全管理制度" in html and "10 个工作日" in html
    assert "kiosk" not in html.lower().replace("/static/", "")
