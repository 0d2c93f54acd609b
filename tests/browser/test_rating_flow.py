"""好差评 in the browser: a session ends, the kiosk rates 不满意 with a reason, a
follow-up appears for the supervisor on /followups, who responds and closes it;
the statistics page counts the rating and its CSV holds the same numbers."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages, kiosk_join, shot
from tests.browser.test_pages import expect_receiving
from tests.browser.test_stats_page import assert_csv_matches_table

pytestmark = pytest.mark.browser


async def test_a_bad_kiosk_rating_is_followed_up_and_closed(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect_receiving(kiosk, "kiosk")
    await expect(kiosk.locator("#call-status")).to_have_text("已接通")
    await desk.click("#end-call")

    # The rating screen: five big buttons; reasons only for the bottom two levels.
    rating = kiosk.locator('section[data-screen="rating"]')
    await expect(rating).to_be_visible()
    await expect(rating.locator(".rating-level")).to_have_count(5)
    await expect(rating.locator(".rating-level").first).to_have_text("非常满意")
    await expect(rating.locator("[data-reason]")).to_have_count(0)
    await rating.locator('[data-level="2"]').click()
    await expect(rating.locator('[data-level="2"]')).to_have_attribute("aria-pressed", "true")
    await expect(rating.locator("[data-reason]").first).to_be_visible()
    await rating.locator('[data-reason="slow"]').click()
    await expect(rating.locator('[data-reason="slow"]')).to_have_attribute("aria-pressed", "true")
    await shot(kiosk, "kiosk-rating")
    await rating.locator("#rating-send").click()
    await expect(kiosk.locator('section[data-screen="ended"]')).to_be_visible()

    # The supervisor's follow-up: respond, then check and close.
    sup = await pages.sign_in("/followups", "supervisor")
    card = sup.locator("article.fu")
    await expect(card).to_have_count(1)
    await expect(card).to_have_attribute("data-state", "open")
    await expect(card.locator(".fu-level")).to_have_text("评价：不满意")
    await expect(card).to_contain_text("办理速度慢")
    await expect(card).to_contain_text("县市场监督管理局")
    await shot(sup, "followups-open")
    await card.locator(".fu-response-input").fill("已约谈审批人员，优化办理流程")
    await card.locator(".fu-respond").click()
    await expect(card).to_have_attribute("data-state", "responded")
    await expect(card.locator(".fu-response")).to_contain_text("已约谈审批人员")
    await card.locator(".fu-verdict").select_option("resolved")
    await card.locator(".fu-note").fill("复核属实")
    await card.locator(".fu-close").click()
    await expect(card).to_have_attribute("data-state", "closed")
    await expect(card.locator(".fu-verdict-text")).to_contain_text("已整改到位")
    await shot(sup, "followups-closed")

    # The statistics page counts the rating; its CSV holds the same numbers.
    await sup.goto(f"{pages.server.url}/stats")
    table = sup.locator('table[data-table="ratings"]')
    await expect(table.locator("tbody tr").nth(3).locator("td")).to_have_text(["不满意", "1"])
    await expect(table.locator("tbody tr").nth(5).locator("td")).to_have_text(["满意率", "0.0"])
    await assert_csv_matches_table(sup, "ratings")
