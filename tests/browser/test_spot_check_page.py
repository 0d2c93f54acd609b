"""The supervisor's spot-check page (随机抽查): draw a week with a seed, review the
drawn case with the checklist, redraw from the recorded seed; and the public
rating page (好差评) of a decided case, in English too."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server import appkeys as K
from tests.api.test_ratings import _decided_case, _rate_code
from tests.browser.conftest import Pages, shot

pytestmark = pytest.mark.browser


async def test_draw_review_and_redraw_on_the_page(pages: Pages) -> None:
    running = pages.server
    number = await _decided_case(running)
    week = running.app[K.CASES].today().strftime("%G-W%V")
    page = await pages.sign_in("/spot-checks", "supervisor")
    await expect(page.locator("#sc-status")).to_have_text("还没有抽查记录。")
    await page.fill("#d-week", week)
    await page.fill("#d-seed", "12345")
    await page.click("#d-draw")
    draw = page.locator(f'.sc-draw[data-week="{week}"]')
    await expect(draw.locator("h2")).to_contain_text("种子 12345")
    row = draw.locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("td").first).to_have_text(number)
    await row.locator('input[data-key="materials_complete"]').check()
    await row.locator('input[data-key="decision_justified"]').check()
    await row.locator("select").select_option("fail")
    await row.locator(".sc-submit").click()
    await expect(draw.locator('tbody tr[data-state="reviewed"]')).to_contain_text("不合格")
    await page.click("#d-redraw")
    await expect(page.locator("#sc-status")).to_have_text("重抽结果与记录一致（种子 12345）。")
    await shot(page, "spot-checks")

    rate = await pages.open("/rate/" + await _rate_code(running, number))
    await rate.locator(".rate-level.level-4").click()
    await rate.click("[data-lang-switch]")
    await expect(rate.locator("#rate-submit")).to_have_text("Send")
    await rate.click("#rate-submit")
    await expect(rate.locator("#rate-done")).to_contain_text("This case has been rated: Satisfied")
