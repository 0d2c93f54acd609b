"""视频会商 in real pages: the reviewer invites a colleague by account, the
colleague's desk rings and accepts, both desks and the kiosk decode each other
(three real Chromium contexts through the server); the colleague leaves."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages, kiosk_join

pytestmark = pytest.mark.browser

MEDIA_TIMEOUT_MS = 30_000

# Inbound video streams of the page's pc that decoded more than n frames.
VIDEOS_DECODING_JS = """async (n) => {
  const pc = window.rw && window.rw.pc;
  if (!pc) return 0;
  let count = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video" && (s.framesDecoded || 0) > n) count += 1;
  });
  return count;
}"""
TILE_PLAYING_JS = """(id) => {
  const tile = document.querySelector(`.party-tile[data-participant="${id}"] video`);
  return !!tile && tile.videoWidth > 0 && !tile.paused;
}"""


async def test_reviewer_invites_a_colleague_who_joins_and_leaves(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    colleague = await pages.desk("reviewer2")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(desk.locator("#call-view")).to_be_visible()
    await expect(desk.locator("#call-status")).to_have_text("已接通", timeout=MEDIA_TIMEOUT_MS)

    # A mistyped account is told in plain words; nothing rings.
    await desk.fill("#party-account", "nobody")
    await desk.click("#party-invite-btn")
    await expect(desk.locator("#party-status")).to_contain_text("nobody")
    await desk.fill("#party-account", "reviewer2")
    await desk.click("#party-invite-btn")
    await expect(desk.locator("#party-status")).to_contain_text("正在呼叫")
    ring = colleague.locator("#party-ring")
    await expect(ring).to_be_visible()
    await expect(ring).to_contain_text("视频会商")
    await colleague.click("#party-accept")
    await expect(colleague.locator("#call-view")).to_be_visible()
    await expect(colleague.locator("#end-call")).to_have_text("退出会商")
    await expect(colleague.locator("#party-invite")).to_be_hidden()
    await expect(desk.locator("#party-status")).to_contain_text("已接受")

    # Everyone decodes both others: the kiosk and the desk renegotiated on their pcs.
    wait = {"timeout": MEDIA_TIMEOUT_MS, "polling": 250}
    for page in (kiosk, desk, colleague):
        await page.wait_for_function(f"async () => ({VIDEOS_DECODING_JS})(20) >= 2", **wait)
    await desk.wait_for_function(TILE_PLAYING_JS, arg="reviewer:reviewer2", **wait)
    await colleague.wait_for_function(TILE_PLAYING_JS, arg="reviewer:reviewer", **wait)
    await kiosk.wait_for_function(TILE_PLAYING_JS, arg="reviewer:reviewer2", **wait)
    tile = desk.locator('.party-tile[data-participant="reviewer:reviewer2"]')
    await expect(tile).to_contain_text("会商同事")

    # The colleague leaves: back at its queues; the desk's tile goes, the call goes on.
    await colleague.click("#end-call")
    await expect(colleague.locator("#queue-view")).to_be_visible()
    await expect(desk.locator(".party-tile")).to_have_count(0)
    await expect(kiosk.locator(".party-tile")).to_have_count(0)
    await expect(desk.locator("#call-view")).to_be_visible()
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
