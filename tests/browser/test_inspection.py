"""云踏勘 end to end in real Chromium: a kiosk, the reviewer's desk and a phone
(mobile emulation, granted geolocation at a set position, a fake camera), then a
colleague as the fourth participant. The desk invites the inspector for the case
received in the call; the phone opens the link, accepts the recording notice and
joins; the desk decodes the phone's video and sees its positions; an evidence
still is taken at the phone's full camera size, stored with the set coordinates
and ticked on the checklist; a weak uplink switches the phone to audio with
stills; the session ends; the manifest has the inspector's lane, the replay shows
it, and `verify` passes on the whole archive."""

from __future__ import annotations

import asyncio
import json

import av
import pytest
from playwright.async_api import BrowserContext, Page, expect

from recording.verify import verify_path
from server import appkeys as K
from tests.browser.conftest import TIMEOUT_MS, Pages, kiosk_join, shot
from tests.browser.test_layout import MEASURE_JS, MIN_TARGET
from tests.contract.case_helpers import id_number

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

MEDIA_TIMEOUT_MS = 40_000
WAIT = {"timeout": MEDIA_TIMEOUT_MS, "polling": 250}
SITE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}
MOVED = {"latitude": 30.2750, "longitude": 120.1551, "accuracy": 6}
POINTS = ["经营场所外观", "门牌号码", "经营场所内部"]
PHONE = {  # a mid-size Android phone
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
    ),
}
UPLINK_JS = """async () => {
  const { sendQuality } = await import("/static/rw_quality.js");
  return await sendQuality(window.rw.pc, { prev: null });
}"""
# Frames the desk decoded from one participant's video (by the server's routes).
FRAMES_FROM_JS = """async (id) => {
  const route = window.rw.roster.routes.find((r) => r.from === id && r.track === "video");
  let frames = 0;
  (await window.rw.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.mid === route.mid) frames = s.framesDecoded || 0;
  });
  return frames;
}"""
TILE_PLAYING_JS = """(id) => {
  const tile = document.querySelector(`.party-tile[data-participant="${id}"] video`);
  return !!tile && tile.videoWidth > 0 && !tile.paused;
}"""


async def phone_context(pages: Pages) -> BrowserContext:
    context = await pages.browser.new_context(
        **PHONE,
        locale="zh-CN",
        geolocation=SITE,
        permissions=["geolocation", "camera", "microphone"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    pages.contexts.append(context)
    return context


async def open_phone(pages: Pages, context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    page.on("pageerror", lambda exc: pages.problems.append(f"phone pageerror: {exc}"))
    await page.goto(url)
    return page


async def test_an_inspector_joins_by_link_and_takes_evidence(pages: Pages) -> None:
    srv = pages.server
    kiosk = await pages.kiosk("kiosk-1")
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    colleague = await pages.desk("reviewer2")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(desk.locator("#call-status")).to_have_text("已接通", timeout=MEDIA_TIMEOUT_MS)

    # A case received in the call: the inspection box appears with its checklist.
    await desk.fill("#case-applicant-name", "王五")
    await desk.fill("#case-applicant-id", id_number("33010219600101003"))
    await desk.click("#case-create-btn")
    await expect(desk.locator("#case-linked")).to_be_visible()
    number = await desk.locator("#case-number").get_attribute("data-case")
    box = desk.locator("#inspect-box")
    await expect(box).to_be_visible()
    await expect(box.locator("#inspect-checklist > li")).to_have_count(3)

    # The invitation: QR code, short link, SMS text.
    await desk.fill("#inspect-name", "李四")
    await desk.click("#inspect-invite-btn")
    await expect(box.locator("#inspect-qr svg")).to_be_visible()
    link = await box.locator("#inspect-link").get_attribute("href")
    assert link and "/inspect/rwi_" in link
    assert link in await box.locator("#inspect-sms").input_value()
    await expect(box.locator("#inspect-expires")).to_contain_text("30 分钟")
    await shot(desk, "desk-inspect-invitation")

    # The phone opens the link, accepts the notice, joins with camera and position.
    context = await phone_context(pages)
    phone = await open_phone(pages, context, link)
    await expect(phone.locator('section[data-screen="notice"]')).to_be_visible()
    await expect(phone.locator("#inspect-case")).to_contain_text(number)
    await expect(phone.locator("#recording-banner")).to_contain_text("录音录像")
    assert await phone.evaluate(MEASURE_JS, MIN_TARGET) == [], "the notice fits the phone"
    # English is there too.
    await phone.click("[data-lang-switch]")
    await expect(phone.locator("#inspect-accept")).to_have_text("I understand: start")
    await phone.click("[data-lang-switch]")
    await expect(phone.locator("#inspect-accept")).to_have_text("我已知晓，同意并开始")
    await phone.click("#inspect-accept")
    await expect(phone.locator('section[data-screen="call"]')).to_be_visible()
    await expect(phone.locator("#inspect-status")).to_contain_text(
        "已接通", timeout=MEDIA_TIMEOUT_MS
    )
    inspection_id = srv.app[K.INSPECTIONS].cases_open(number)[0].id
    holder = f"inspector:{inspection_id}"
    await desk.wait_for_function(TILE_PLAYING_JS, arg=holder, **WAIT)
    tile = desk.locator(f'.party-tile[data-participant="{holder}"]')
    await expect(tile).to_contain_text("踏勘人员")
    await expect(tile).to_contain_text("李四")

    # Positions: the set one, then a move north with bearing and distance.
    fix = desk.locator("#inspect-fix")
    await expect(fix).to_contain_text("30.274100, 120.155100 ±12 m")
    await context.set_geolocation(MOVED)
    await expect(fix).to_contain_text("30.275000, 120.155100 ±6 m", timeout=MEDIA_TIMEOUT_MS)
    await expect(fix).to_contain_text("N 0° 100 m")
    await expect(desk.locator("#inspect-track circle")).to_have_count(1)

    assert await phone.evaluate(MEASURE_JS, MIN_TARGET) == [], "the call fits the phone"
    # The uplink as the page reads it from getStats (the figures themselves depend on
    # the machine's load: only that they are read is checked here).
    uplink = await phone.evaluate(UPLINK_JS)
    assert isinstance(uplink["available"], int | float) and "weak" in uplink, uplink
    await phone.wait_for_function("() => window.rwInspect.quality !== null", **WAIT)

    # Front and rear: the switch swaps the sent track; the desk keeps decoding.
    before = await desk.evaluate(FRAMES_FROM_JS, holder)
    await phone.click("#inspect-switch")
    await phone.wait_for_function("() => document.body.dataset.facing === 'user'")
    await desk.wait_for_function(
        f"async ([id, n]) => (await ({FRAMES_FROM_JS})(id)) > n + 20", arg=[holder, before], **WAIT
    )

    # The second link on another phone is refused while the first is in.
    other = await phone_context(pages)
    intruder = await open_phone(pages, other, link)
    await expect(intruder.locator('section[data-screen="refused"]')).to_be_visible()
    await expect(intruder.locator("#inspect-refused")).to_contain_text("另一部手机")

    # An evidence still, asked by the reviewer for a checklist point.
    await desk.select_option("#inspect-point-select", POINTS[1])
    await desk.click("#inspect-capture-btn")
    thumb = desk.locator('#inspect-evidence li[data-n="1"] img')
    await expect(thumb).to_have_count(1)
    await desk.wait_for_function(
        "() => { const i = document.querySelector('#inspect-evidence li[data-n=\"1\"] img');"
        " return !!i && i.complete && i.naturalWidth > 0; }",
        **WAIT,
    )
    await expect(phone.locator("#inspect-evidence-status")).to_contain_text("照片 1")
    size = await phone.evaluate(
        "() => { const s = window.rw.local.stream.getVideoTracks()[0].getSettings();"
        " return [s.width, s.height]; }"
    )
    http, _ = await srv.http("reviewer")
    async with http.get(f"/api/register/cases/{number}/evidence") as resp:
        listing = await resp.json()
    [record] = listing["evidence"]
    assert record["gps"]["lat"] == MOVED["latitude"] and record["gps"]["accuracy"] == 6
    assert record["point"] == POINTS[1] and record["inspector"]["name"] == "李四"
    async with http.get(f"/api/register/cases/{number}/evidence/1?copy=original") as resp:
        original = await resp.read()
    frame = await asyncio.to_thread(_decode_jpeg, original)
    assert [frame.width, frame.height] == size, "the still has the camera's full size"

    # Ticked on the checklist with that still.
    point = desk.locator(f'#inspect-checklist > li[data-point="{POINTS[1]}"]')
    await point.locator("button[data-tick]").click()
    await expect(point).to_have_attribute("data-state", "checked")
    await expect(point).to_contain_text("照片 1")
    await shot(desk, "desk-inspect-evidence")
    box_problems = [p for p in await desk.evaluate(MEASURE_JS, MIN_TARGET) if "inspect" in p]
    assert box_problems == [], "the desk's inspection box fits"
    await shot(phone, "phone-inspect-call")

    # A weak uplink: the phone goes audio-only and sends a still by itself.
    await phone.evaluate("window.rwInspect.offerWeak()")
    await expect(phone.locator("#inspect-weak")).to_be_visible()
    await phone.click("#inspect-weak-accept")
    await expect(phone.locator("#inspect-mode")).to_contain_text("仅语音")
    await expect(desk.locator('#inspect-evidence li[data-n="2"]')).to_have_count(1, timeout=20_000)
    async with http.get(f"/api/register/cases/{number}/evidence") as resp:
        assert (await resp.json())["evidence"][1]["by"] == "periodic"

    # A colleague joins as the fourth participant.
    await desk.fill("#party-account", "reviewer2")
    await desk.click("#party-invite-btn")
    await expect(colleague.locator("#party-ring")).to_be_visible()
    await colleague.click("#party-accept")
    await expect(colleague.locator("#call-view")).to_be_visible()
    await colleague.wait_for_function(TILE_PLAYING_JS, arg="reviewer:reviewer", **WAIT)

    # The session ends: the phone is told; the archive has four lanes and verifies.
    session_id = await desk.evaluate("window.rw.session.session_id")
    await desk.click("#end-call")
    await expect(phone.locator('section[data-screen="ended"]')).to_be_visible()
    recorder = srv.app[K.RECORDER]
    async with asyncio.timeout(30):
        await recorder.wait_finalized(session_id)
    [manifest_path] = recorder.root.glob(f"*/*/*/{session_id}/manifest.json")
    manifest = json.loads(manifest_path.read_bytes())
    parties = {p["party"] for p in manifest["participants"]}
    assert {"applicant", "reviewer", "inspector", "colleague"} <= parties, manifest["participants"]
    lanes = {s["participant"] for s in manifest["segments"] if s.get("kind") == "video"}
    assert any(inspection_id in lane for lane in lanes), lanes
    results = verify_path(recorder.root, recorder.signer.public_key)
    assert [r.problem for r in results if r.problem] == []
    assert any(r.kind == "case" for r in results)
    # The link is dead now.
    again = await open_phone(pages, context, link)
    await expect(again.locator("#inspect-refused")).to_contain_text("结束")

    # The case page shows the stills and the checklist after the call.
    await desk.goto(f"{srv.url}/case/{number}")
    panel = desk.locator("#inspection-panel")
    await expect(panel).to_be_visible()
    await expect(panel.locator("#inspection-evidence > li")).to_have_count(2)
    ticked = panel.locator(f'#inspection-points > li[data-point="{POINTS[1]}"]')
    await expect(ticked).to_have_attribute("data-state", "checked")
    await expect(panel.locator('#inspection-points > li[data-state="open"]')).to_have_count(2)
    await expect(desk.locator('#history-rows tr[data-type="inspection"]')).to_contain_text(
        f"踏勘要点“{POINTS[1]}”已核查（照片 1）"
    )
    await expect(desk.locator('#history-rows tr[data-type="evidence"]')).to_have_count(2)

    replay = await pages.sign_in(f"/cases/{session_id}", "supervisor")
    await expect(replay.locator("#replay-body")).to_be_visible()
    await expect(
        replay.locator("figure.player .player-role").filter(has_text="踏勘人员")
    ).to_have_count(1)


def _decode_jpeg(data: bytes) -> av.VideoFrame:
    ctx = av.CodecContext.create("mjpeg", "r")
    frames = ctx.decode(av.Packet(data)) or ctx.decode(None)
    return frames[0]
