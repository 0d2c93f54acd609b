"""A kiosk never leaves the kiosk page: no links off it, and the browser's back
(a key, a mouse button, a swipe) keeps the kiosk where the applicant was."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser


async def test_kiosk_has_no_way_off_the_page(pages: Pages) -> None:
    # Someone opened the staff index first, then the kiosk: back would lead there.
    page = await pages.open("/")
    await page.goto(f"{pages.server.url}/kiosk?token={pages.server.kiosk_tokens['kiosk-1']}")
    await expect(page.locator('section[data-screen="items"]')).to_be_visible()
    assert await page.locator("a[href]").count() == 0

    await page.click('.item-btn[data-item="SCJG-001"]')
    priority = page.locator('section[data-screen="priority"]')
    await expect(priority).to_be_visible()

    # The name in the top bar goes nowhere.
    await page.click(".topbar .brand")
    await expect(priority).to_be_visible()
    assert page.url.startswith(f"{pages.server.url}/kiosk")

    # Back, twice (a second press must not get through either): still the same screen.
    for _ in range(2):
        await page.go_back()
        await expect(page.locator("body")).to_have_attribute("data-screen", "priority")
        assert page.url.startswith(f"{pages.server.url}/kiosk"), page.url
    await expect(page.locator("[data-chosen-item]").first).to_contain_text("个体工商户设立登记")

    # The kiosk still works from there: the applicant goes on to the notice.
    await page.click('[data-priority="normal"]')
    await expect(page.locator("#notice-box")).to_be_visible()
    await page.go_back()
    await expect(page.locator("#notice-box")).to_be_visible()
    assert page.url.startswith(f"{pages.server.url}/kiosk"), page.url
