"""Real pages in headless Chromium: kiosk, desk, login, admin, through the real server."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages, kiosk_join, shot

pytestmark = pytest.mark.browser

MEDIA_TIMEOUT_MS = 20_000

# Samples the inbound RTP counters of the page's one peer connection (window.rw.pc)
# into window.rwInbound every 200 ms, so wait_for_function can test them synchronously.
SAMPLER_JS = """() => {
  if (window.rwSampler) return;
  window.rwInbound = {video: null, audio: null};
  window.rwSampler = setInterval(async () => {
    const pc = window.rw && window.rw.pc;
    if (!pc) return;
    const out = {video: null, audio: null};
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp") out[s.kind] = {
        frames: s.framesDecoded || 0,
        packets: s.packetsReceived || 0,
        samples: s.totalSamplesReceived || 0,
      };
    });
    window.rwInbound = out;
  }, 200);
}"""
VIDEO_ABOVE_JS = "(n) => (window.rwInbound.video?.frames || 0) > n"
AUDIO_ABOVE_JS = "(n) => (window.rwInbound.audio?.packets || 0) > n"
# Function strings only: a bare expression makes Playwright eval(), which the CSP forbids.
# The codec of the inbound video, from getStats.
INBOUND_CODEC_JS = """async () => {
  const report = await window.rw.pc.getStats();
  let codecId = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") codecId = s.codecId;
  });
  return codecId && report.get(codecId) ? report.get(codecId).mimeType : null;
}"""
REMOTE_VIDEO_SIZED_JS = "() => document.querySelector('#remote-video').videoWidth > 0"

DENY_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


async def expect_receiving(page: Page, who: str) -> None:
    """Video frames and audio packets from the other side keep arriving on the page's pc."""
    await page.evaluate(SAMPLER_JS)
    wait = {"timeout": MEDIA_TIMEOUT_MS, "polling": 100}
    await page.wait_for_function(VIDEO_ABOVE_JS, arg=0, **wait)
    await page.wait_for_function(AUDIO_ABOVE_JS, arg=0, **wait)
    first = await page.evaluate("window.rwInbound")
    await page.wait_for_function(VIDEO_ABOVE_JS, arg=first["video"]["frames"] + 10, **wait)
    await page.wait_for_function(AUDIO_ABOVE_JS, arg=first["audio"]["packets"] + 10, **wait)
    await page.wait_for_function(
        "() => document.querySelector('#remote-video').videoWidth > 0", **wait
    )
    last = await page.evaluate("window.rwInbound")
    assert last["video"]["frames"] > first["video"]["frames"], (who, first, last)


async def test_foundation_queue_and_pairing(pages: Pages) -> None:
    srv = pages.server
    k1 = await pages.kiosk("kiosk-1")
    # The device token leaves the address bar and stays in local storage.
    assert "token=" not in k1.url
    stored = await k1.evaluate("localStorage.getItem('rw_kiosk_token')")
    assert stored == srv.kiosk_tokens["kiosk-1"]
    await shot(k1, "kiosk-1-items")
    await kiosk_join(k1, shots="kiosk-1")
    await expect(k1.locator("#place")).to_have_text("1")
    await expect(k1.locator("#ahead")).to_have_text("前面没有人了，下一位就是您")
    # No reviewer online yet: no made-up estimate, the service hours instead.
    estimate = k1.locator("#estimate")
    await expect(estimate).to_contain_text("没有审批人员在线")
    await expect(estimate).to_contain_text("服务时间：周一至周五 9:00-12:00, 13:30-17:00")
    await expect(estimate).not_to_contain_text("分钟")
    await expect(k1.locator("#ticket-number")).to_have_text("您的号码：A001")
    await expect(k1.locator("#recording-banner")).to_be_visible()
    await expect(k1.locator("#recording-banner")).to_contain_text("本次办理全程录音录像")

    k2 = await pages.kiosk("kiosk-2")
    await kiosk_join(k2)
    await expect(k2.locator("#place")).to_have_text("2")
    await expect(k2.locator("#ahead")).to_have_text("前面还有 1 人")
    await expect(k2.locator("#ticket-number")).to_have_text("您的号码：A002")
    await shot(k2, "kiosk-2-waiting")

    desk = await pages.desk("reviewer")
    # A reviewer is online now: the estimate is pushed to the waiting kiosks.
    await expect(estimate).to_contain_text("分钟")
    row = desk.locator('tr[data-queue="SCJG-001@county"]')
    await expect(row.locator('[data-col="waiting"]')).to_have_text("2")
    await expect(row.locator('[data-col="priority"]')).to_have_text("0")
    await expect(desk.locator("#total-waiting")).to_have_text("共 2 人等候")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await shot(desk, "desk-queues")
    await desk.click("#call-next")

    await expect(desk.locator("#call-view")).to_be_visible()
    await expect(desk.locator("#call-item")).to_have_text("个体工商户设立登记")
    await expect(desk.locator("#call-place")).to_contain_text("城关镇")
    # The kiosk is the window, not the applicant, who is not identified yet.
    await expect(desk.locator("#call-window-label")).to_have_text("窗口")
    await expect(desk.locator("#call-window")).to_have_text("kiosk 1")
    await expect(desk.locator("#call-applicant")).to_have_text("尚未识别")
    await expect(desk.locator("#call-number")).to_have_text("A001")
    await expect(k1.locator('section[data-screen="call"]')).to_be_visible()
    await expect(k1.locator("#recording-banner")).to_be_visible()
    # The second kiosk moves up to the head of the line.
    await expect(k2.locator("#place")).to_have_text("1")
    await expect(k2.locator("#ahead")).to_have_text("前面没有人了，下一位就是您")
    await expect(desk.locator("#waiting-others")).to_have_text("另有 1 人在等候")

    # A reload keeps the place: the token comes from local storage.
    await k2.reload()
    await expect(k2.locator('section[data-screen="waiting"]')).to_be_visible()
    await expect(k2.locator("#place")).to_have_text("1")
    assert "token=" not in k2.url
    await expect(k2.locator("[data-chosen-item]").first).to_contain_text("个体工商户设立登记")

    # Leaving takes a confirmation, then the kiosk is back at the start.
    await k2.click("#leave")
    await k2.click("#leave-yes")
    await expect(k2.locator('section[data-screen="items"]')).to_be_visible()
    await expect(desk.locator("#waiting-others")).to_have_text("另有 0 人在等候")


async def test_video_through_the_server(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    await expect(kiosk.locator("#place")).to_have_text("1")
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect(desk.locator("#call-view")).to_be_visible()

    await expect_receiving(kiosk, "kiosk")
    await expect_receiving(desk, "desk")
    await expect(kiosk.locator("#call-status")).to_have_text("已接通")
    await expect(desk.locator("#call-status")).to_have_text("已接通")
    # VP8 is offered first and is what arrives.
    for page in (kiosk, desk):
        assert await page.evaluate(INBOUND_CODEC_JS) == "video/VP8"
        sdp = await page.evaluate("window.rw.pc.localDescription.sdp")
        video = sdp[sdp.index("m=video") :]
        first_pt = video.split("\r\n", 1)[0].split()[3]
        assert f"a=rtpmap:{first_pt} VP8/90000" in video
    # The desk's quality indicator reads getStats.
    await expect(desk.locator("#quality")).not_to_have_attribute("data-level", "none")
    await expect(desk.locator("#quality-detail")).to_contain_text("帧/秒")
    await shot(kiosk, "kiosk-call")
    await shot(desk, "desk-call")

    # Mute and camera toggles reach the other side as media.state.
    await kiosk.click("#toggle-video")
    await expect(desk.locator("#peer-media-note")).to_have_text("对方的摄像头已关闭")
    await kiosk.click("#toggle-video")
    await expect(desk.locator("#peer-media-note")).to_be_hidden()

    # A reload in the call: a new peer connection and a new offer; media flows again
    # both ways (the server replaces the kiosk's old connection).
    first_pc = await kiosk.evaluate("window.rw.pc.localDescription.sdp")
    await desk.evaluate(SAMPLER_JS)
    before = await desk.evaluate("window.rwInbound.video.frames")
    await kiosk.reload()
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect_receiving(kiosk, "kiosk after reload")
    assert await kiosk.evaluate("window.rw.pc.localDescription.sdp") != first_pc
    await desk.wait_for_function(VIDEO_ABOVE_JS, arg=before + 30, timeout=MEDIA_TIMEOUT_MS)
    await expect(kiosk.locator("#call-status")).to_have_text("已接通")

    # The desk ends the call: the kiosk offers the rating (skipped here), then
    # thanks; the desk is back at its queues.
    await desk.click("#end-call")
    await expect(kiosk.locator('section[data-screen="rating"]')).to_be_visible()
    await kiosk.click("#rating-skip")
    await expect(kiosk.locator('section[data-screen="ended"]')).to_be_visible()
    await expect(kiosk.locator("#ended-title")).to_have_text("办理结束，谢谢您！")
    await expect(desk.locator("#queue-view")).to_be_visible()
    await expect(desk.locator("#desk-message")).to_contain_text("已办结")
    assert await kiosk.evaluate("window.rw.pc") is None
    await shot(kiosk, "kiosk-ended")

    # The reviewer is free for the next call.
    await kiosk.click("#again")
    await kiosk_join(kiosk)
    await expect(kiosk.locator("#place")).to_have_text("1")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect(desk.locator("#call-view")).to_be_visible()


async def test_camera_denied_is_told_in_plain_words(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1", init_script=DENY_MEDIA)
    await kiosk_join(kiosk)
    warning = kiosk.locator("#media-warning")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("摄像头和麦克风都没有打开")
    await expect(warning).to_contain_text("没有得到使用摄像头或麦克风的许可")
    # It still continues with what it has: in line, then in the call.
    await expect(kiosk.locator("#place")).to_have_text("1")
    await shot(kiosk, "kiosk-camera-denied")
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect(warning).to_be_visible()
    await expect(kiosk.locator("#toggle-video")).to_be_disabled()
    await expect(kiosk.locator("#toggle-audio")).to_be_disabled()
    # Neither camera nor microphone: the desk is told both, not only the camera.
    await expect(desk.locator("#peer-media-note")).to_have_text("对方的摄像头和麦克风都已关闭")


async def test_login_admin_and_language(pages: Pages) -> None:
    page = await pages.open("/")
    await expect(page.locator("h1")).to_have_text("远程虚拟窗口")
    await shot(page, "index")
    # Wrong password: a message, no navigation.
    await page.goto(pages.server.url + "/login?next=/admin")
    await page.fill("#username", "admin")
    await page.fill("#password", "wrong-password")
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_have_text("用户名或密码不正确。")
    await page.fill("#password", "test-pass-2026")
    await page.click("#login-submit")
    await page.wait_for_url("**/admin")
    await expect(page.locator('#users-rows tr[data-username="reviewer"]')).to_be_visible()
    await expect(page.locator("#kiosks-rows tr")).to_have_count(4)

    await page.fill("#new-username", "reviewer3")
    await page.fill("#new-password", "Another-pass-1")
    await page.select_option("#new-role", "reviewer")
    await page.check('#new-items input[value="RSJ-001"]')
    await page.click("#add-submit")
    await expect(page.locator("#add-result")).to_have_text("已添加账户 reviewer3。")
    new_row = page.locator('#users-rows tr[data-username="reviewer3"]')
    await expect(new_row).to_contain_text("城乡居民基本养老保险参保登记")
    await shot(page, "admin")

    # English, remembered across pages in local storage and the rw_lang cookie.
    await page.click("[data-lang-switch]")
    await expect(page.locator("h1")).to_have_text("Administration")
    await expect(new_row).to_contain_text("Residents' basic pension insurance enrolment")
    await page.goto(pages.server.url + "/kiosk")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator('section[data-screen="unregistered"] h1')).to_have_text(
        "This kiosk is not registered"
    )
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    assert cookies.get("rw_lang") == "en"
    await page.click("[data-lang-switch]")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


async def test_reviewer_tab_dies_mid_call_applicant_back_at_the_head(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    await expect(kiosk.locator("#place")).to_have_text("1")
    behind = await pages.kiosk("kiosk-2")
    await kiosk_join(behind)
    await expect(behind.locator("#place")).to_have_text("2")
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect_receiving(kiosk, "kiosk")
    await expect(kiosk.locator("#call-status")).to_have_text("已接通")

    await desk.close()  # the reviewer's tab dies: no session.end, no goodbye
    # Within 10 s the applicant is waiting again, first in line, and told why.
    waiting = kiosk.locator('section[data-screen="waiting"]')
    await expect(waiting).to_be_visible(timeout=10_000)
    await expect(kiosk.locator("#waiting-note")).to_have_text(
        "审批人员连接中断，正在为您重新排队，您仍排在最前面。", timeout=10_000
    )
    await expect(kiosk.locator("#place")).to_have_text("1", timeout=10_000)
    await expect(behind.locator("#place")).to_have_text("2")
    await shot(kiosk, "kiosk-requeued")
    # The next reviewer calls this applicant first.
    desk2 = await pages.desk("reviewer2")
    await expect(desk2.locator("#call-next")).to_be_enabled()
    await desk2.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect(kiosk.locator("#waiting-note")).to_be_hidden()


async def test_reviewer_reload_mid_call_keeps_the_call(pages: Pages) -> None:
    """The short grace for a lost reviewer still lets a page reload come back."""
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect_receiving(kiosk, "kiosk")
    # Record every screen the kiosk shows from now on.
    await kiosk.evaluate(
        """() => {
      window.rwScreens = [];
      new MutationObserver(() => window.rwScreens.push(document.body.dataset.screen))
        .observe(document.body, {attributes: true, attributeFilter: ["data-screen"]});
    }"""
    )
    await desk.reload()
    await expect(desk.locator("#call-view")).to_be_visible()
    await expect_receiving(desk, "desk after reload")
    await expect(desk.locator("#call-number")).to_have_text("A001")
    await expect(kiosk.locator("#call-status")).to_have_text("已接通")
    assert await kiosk.evaluate("window.rwScreens") == []
