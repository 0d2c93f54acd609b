"""The replay page of a four-party session (kiosk, reviewer, two colleagues):
four lanes, each labelled with its part, all played in sync by one clock."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages
from tests.browser.test_replay import IN_SYNC_JS, WAIT
from tests.interop.party_session import record_party_session

pytestmark = pytest.mark.browser

LATEST_START_JS = """() => Math.max(
  ...window.rwReplay.data().lanes.map((lane) => lane.segments[0]?.offset_s || 0)
)"""
ALL_PLAYED_JS = """(t) => {
  const videos = [...document.querySelectorAll('video.player-video')];
  return videos.length === 4 && videos.every((v) => v.currentTime > t && v.videoWidth > 0);
}"""


async def test_four_lanes_replay_in_sync(pages: Pages) -> None:
    folder = await record_party_session(pages.server, frames=75)
    page = await pages.sign_in(f"/cases/{folder.name}", "supervisor")
    await expect(page.locator("#replay-body")).to_be_visible()
    await expect(page.locator("video.player-video")).to_have_count(4)
    await expect(page.locator("figure.player .player-role")).to_have_text(
        ["申请人（自助终端）", "审批人员", "会商同事", "会商同事"]
    )
    await expect(page.locator(".tl-row[data-participant]")).to_have_count(4)
    # A lane plays only once the clock reaches its start: a colleague who joined late
    # (a loaded machine makes the joins slow) plays that much later in real time.
    latest = await page.evaluate(LATEST_START_JS)
    await page.click("#play")
    played = {**WAIT, "timeout": WAIT["timeout"] + int(latest * 1000)}
    await page.wait_for_function(ALL_PLAYED_JS, arg=0.5, **played)
    await page.wait_for_function(IN_SYNC_JS, arg=0.4, **WAIT)
