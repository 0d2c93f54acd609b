"""The supervisors' live dashboard in Chromium: it follows a kiosk joining the
queue and a reviewer's call without a reload, in zh-CN and English; a live
spot check from it is shown on the kiosk and the desk as 监督人员在线."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages, kiosk_join, shot

pytestmark = pytest.mark.browser

COUNT_GUM_JS = """window.__gum_calls = 0;
const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (c) => { window.__gum_calls += 1; return gum(c); };"""


async def test_the_dashboard_updates_live_when_a_kiosk_joins(pages: Pages) -> None:
    # Counts getUserMedia calls: the spot check must never ask for a camera.
    page = await pages.sign_in("/supervision", "supervisor", init_script=COUNT_GUM_JS)
    await expect(page.locator("#sv-live")).to_contain_text("实时更新")
    await expect(page.locator("#t-waiting")).to_have_text("0")
    # Nobody reloads the page from here on: a marker would be gone after a reload.
    await page.evaluate("window.__same_page = true")

    kiosk = await pages.kiosk("kiosk-1")  # at 城关镇 (QH-CG)
    await kiosk_join(kiosk)
    await expect(page.locator("#t-waiting")).to_have_text("1")
    row = page.locator('#sv-queues tr[data-queue="SCJG-001@county"][data-place="QH-CG"]')
    await expect(row.locator("td.waiting")).to_have_text("1")
    await expect(row.locator("td.longest")).to_contain_text("秒")
    await expect(page.locator("#t-longest")).to_contain_text("秒")
    await shot(page, "supervision-waiting")

    desk = await pages.desk("reviewer")
    await expect(row.locator("td.reviewers")).to_have_text("1")
    await desk.click("#call-next")
    session = page.locator("#sv-sessions tr[data-session]")
    await expect(session).to_have_count(1)
    await expect(session.locator("td.reviewer")).to_have_text("reviewer")
    await expect(page.locator("#t-sessions")).to_have_text("1")
    await expect(page.locator("#t-waiting")).to_have_text("0")

    # Live spot check: the supervisor observes; the kiosk and the desk say so.
    await session.locator("button.observe-btn").click()
    await expect(session.locator("button.observe-btn")).to_have_text("结束旁听")
    await expect(page.locator("#sv-msg")).to_contain_text("记入审计")
    for side in (kiosk, desk):
        await expect(side.locator("#observer-notice")).to_have_text("监督人员在线")
    await shot(kiosk, "supervision-kiosk-observed")
    # The panel plays both participants' faces, received only (no camera asked).
    player = page.locator("#sv-player")
    await expect(player).to_be_visible()
    await expect(player.locator("figure.sv-video")).to_have_count(2, timeout=20_000)
    await page.wait_for_function(
        """() => [...document.querySelectorAll('#sv-player video')].every(
            (v) => v.videoWidth > 0 && !v.paused && v.currentTime > 0)""",
        timeout=20_000,
    )
    assert await page.evaluate("window.__gum_calls") == 0
    for side in (kiosk, desk):  # nobody gets a tile for the observer
        assert await side.locator(".party-tile").count() == 0
    await shot(page, "supervision-player")
    await page.click("#sv-player-stop")
    await expect(player).to_be_hidden()
    for side in (kiosk, desk):
        await expect(side.locator("#observer-notice")).to_be_hidden()
    await expect(session.locator("button.observe-btn")).to_have_text("旁听")

    await page.click("[data-lang-switch]")
    await expect(page.locator("#sv-live")).to_contain_text("Live")
    await expect(page.locator('[data-tile="waiting"] .sv-label')).to_have_text("Waiting")
    assert await page.evaluate("window.__same_page === true")
    await shot(page, "supervision-session")


async def test_an_admin_reads_the_dashboard_once(pages: Pages) -> None:
    page = await pages.sign_in("/supervision", "admin")
    await expect(page.locator("#sv-live")).to_contain_text("只读")
    await expect(page.locator("#t-waiting")).to_have_text("0")
