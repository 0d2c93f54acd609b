"""The replay page in headless Chromium: a real recorded session, signed in as a
supervisor through the login page, played back in sync with its audit timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from recording.audit import read_events
from tests.api.test_archive_routes import record_session
from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/shots/replay.png")
WAIT = {"timeout": 20_000, "polling": 100}

# Function strings only: a bare expression makes Playwright eval(), which the CSP forbids.
BOTH_PLAYED_JS = """(t) => {
  const videos = [...document.querySelectorAll('video.player-video')];
  return videos.length === 2 && videos.every((v) => v.currentTime > t && v.videoWidth > 0);
}"""
# Every player that has a segment at the clock's position shows that moment of it.
IN_SYNC_JS = """(tolerance) => {
  const r = window.rwReplay;
  const t = r.position();
  return r.data().lanes.every((lane, i) => {
    const v = document.querySelectorAll('video.player-video')[i];
    const seg = lane.segments.find((s) => t >= s.offset_s && t < s.end_s);
    if (!seg) return true;
    if (!v.currentSrc.endsWith(seg.video.file) || v.seeking) return false;
    const expected = Math.min(t - seg.offset_s, v.duration);
    return Math.abs(v.currentTime - expected) < tolerance;
  });
}"""


async def _open_replay(pages: Pages, session_id: str) -> Page:
    """Sign in on the case list, follow the case's link to its replay page."""
    page = await pages.sign_in("/cases", "supervisor")
    link = page.locator(f'tr[data-session="{session_id}"] a.case-link')
    await expect(link).to_have_text("回放")
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOT.with_name("cases.png")), full_page=True)
    await link.click()
    await page.wait_for_url(f"**/cases/{session_id}")
    await expect(page.locator("#replay-body")).to_be_visible()
    await expect(page.locator("video.player-video")).to_have_count(2)
    return page


async def test_replay_plays_both_parties_in_sync_with_the_timeline(pages: Pages) -> None:
    folder = await record_session(pages.server, frames=105)  # about 3.5 s
    page = await _open_replay(pages, folder.name)
    await expect(page.locator("#integrity")).to_contain_text("签名有效")
    events = page.locator("#events")
    await expect(events.locator('li[data-type="session.created"]')).to_be_visible()
    await expect(events.locator('li[data-type="participant.joined"]')).to_have_count(2)
    await expect(page.locator('.tl-event[data-type="participant.joined"]')).to_have_count(2)
    await expect(page.locator("#access li[data-type='access.viewed']")).to_have_count(1)

    # One control plays both recordings, each following the one clock.
    await page.click("#play")
    await page.wait_for_function(BOTH_PLAYED_JS, arg=0.5, **WAIT)
    await page.wait_for_function(IN_SYNC_JS, arg=0.4, **WAIT)
    await page.screenshot(path=str(SHOT), full_page=True)

    # Clicking an event seeks there; paused, so the clock stays put.
    await page.click("#play")
    await page.wait_for_function("() => !window.rwReplay.playing()", **WAIT)
    left = events.locator('li[data-type="participant.left"]').first
    offset = float(await left.get_attribute("data-offset") or "nan")
    assert offset > 1.5
    await left.click()
    await page.wait_for_function("(t) => window.rwReplay.position() === t", arg=offset, **WAIT)
    await expect(left).to_have_class(re.compile(r"\bcurrent\b"))
    await page.wait_for_function(IN_SYNC_JS, arg=0.1, **WAIT)
    # Back to the start: before anyone joined, the players say so.
    await events.locator('li[data-type="session.created"]').click()
    await page.wait_for_function("() => window.rwReplay.position() < 0.1", **WAIT)
    await expect(page.locator("figure.player.absent")).to_have_count(2)
    await expect(page.locator(".player-overlay").first).to_have_text("尚未接入")

    # Viewing and fetching the media were audit events of the case.
    types = [e["type"] for e in read_events(folder / "events.jsonl")]
    assert types.count("access.viewed") == 1
    assert types.count("access.downloaded") >= 2
    # English is one click away.
    await page.click("[data-lang-switch]")
    await expect(page.locator("#play")).to_have_text("Play")
    await expect(events.locator('li[data-type="session.created"] .ev-type')).to_have_text(
        "Called; session created"
    )


async def test_replay_switches_to_the_next_segment_after_a_rejoin(pages: Pages) -> None:
    folder = await record_session(pages.server, frames=60, rejoin=True)
    page = await _open_replay(pages, folder.name)
    kiosk = page.locator('figure.player[data-role="kiosk"]')
    await expect(page.locator('.tl-row[data-participant^="kiosk"] .tl-seg')).to_have_count(2)
    await expect(page.locator('.tl-row[data-participant^="kiosk"] .tl-gap')).to_have_count(1)
    await expect(page.locator('.tl-row[data-participant^="reviewer"] .tl-gap')).to_have_count(0)
    await page.click("#play")
    await page.wait_for_function(
        """() => {
      const v = document.querySelector('figure.player[data-role="kiosk"] video');
      return v.currentSrc.endsWith('-video-1.webm') && v.currentTime > 0.3;
    }""",
        **WAIT,
    )
    await page.wait_for_function(
        """() => {
      const v = document.querySelector('figure.player[data-role="kiosk"] video');
      return v.currentSrc.endsWith('-video-2.webm') && v.currentTime > 0.3 && !v.paused;
    }""",
        **WAIT,
    )
    await expect(kiosk.locator(".player-seg")).to_have_text("第 2 段")
    await page.wait_for_function(IN_SYNC_JS, arg=0.4, **WAIT)
    await page.screenshot(path=str(SHOT.with_name("replay-rejoin.png")), full_page=True)
