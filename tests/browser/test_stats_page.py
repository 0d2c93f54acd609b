"""The statistics page in Chromium: a supervisor signs in, the page shows the
hand-worked figures and its server-drawn SVG charts, reads in English, the
filter narrows it, and the CSV link downloads the numbers the page shows."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from server import appkeys as K
from server.stats_tables import BOM
from tests.browser.conftest import Pages, shot
from tests.contract import stats_cases as hand

pytestmark = pytest.mark.browser
PERIOD = "from=2026-10-01&to=2026-10-31"


async def test_the_stats_page_draws_its_charts_and_its_csv_downloads(pages: Pages) -> None:
    hand.insert_cases(pages.server.app[K.CASES].register)
    page = await pages.sign_in("/stats", "supervisor")
    # ("**/stats" also matches the login page's ?next=/stats: wait for the page itself.)
    await expect(page.locator("#stats-filter")).to_be_visible()
    await page.goto(f"{pages.server.url}/stats?{PERIOD}")
    await expect(page.locator('[data-kpi="received"] strong')).to_have_text("7")
    await expect(page.locator("svg.chart")).to_have_count(3)
    hours = page.locator('svg[data-chart="hours"] rect.bar')
    await expect(hours).to_have_count(24)
    assert await hours.nth(9).get_attribute("data-value") == "3"
    box = await page.locator('svg[data-chart="hours"]').bounding_box()
    assert box is not None and box["width"] > 600  # drawn, at a readable size
    tall = await page.locator('svg[data-chart="hours"] rect[data-hour="9"]').bounding_box()
    low = await page.locator('svg[data-chart="hours"] rect[data-hour="8"]').bounding_box()
    assert tall is not None and low is not None and tall["height"] > 2 * low["height"] > 0
    await expect(page.locator('nav.rolenav a[data-nav="/stats"]')).to_have_attribute(
        "aria-current", "page"
    )
    await shot(page, "stats-zh")

    await assert_csv_matches_table(page, "items")

    await page.click("[data-lang-switch]")
    await expect(page.locator("h1")).to_have_text("Statistics")
    await expect(page.locator('svg[data-chart="hours"] title')).to_have_text(
        "Cases received per hour"
    )
    await expect(page.locator('table[data-table="items"] th').first).to_have_text("Item code")
    await shot(page, "stats-en")

    await page.select_option("#f-item", "RSJ-001")
    await page.click("#f-apply")
    await page.wait_for_url("**item=RSJ-001**")
    await expect(page.locator('[data-kpi="received"] strong')).to_have_text("2")


async def assert_csv_matches_table(page: Page, name: str) -> None:
    """The table's CSV download (UTF-8 with a BOM) holds exactly the cells shown."""
    async with page.expect_download() as info:
        await page.click(f'[data-download="{name}-csv"]')
    download = await info.value
    raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert raw.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    shown = page.locator(f'table[data-table="{name}"] tbody tr')
    await expect(shown).to_have_count(len(rows) - 1)
    for n, row in enumerate(rows[1:]):
        cells = await shown.nth(n).locator("td").all_inner_texts()
        assert [c.strip() or "" for c in cells] == row
