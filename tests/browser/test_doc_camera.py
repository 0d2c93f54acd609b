"""The document camera (高拍仪) end to end in two Chromium contexts: the kiosk with two
fake cameras (an init script serving a canvas per deviceId), the desk seeing both
tracks, a case received in the call, three pages captured at the document camera's
full resolution and matching the source pixels, shown in order; a page marked
unreadable goes back to the kiosk; the recording holds the document camera."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import av
import pytest
from playwright.async_api import Page, expect

from server import appkeys as K
from tests.browser.conftest import Pages, kiosk_join, shot
from tests.contract.case_helpers import id_number

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FAKE_CAMERAS = (Path(__file__).parents[2] / "server" / "bench" / "fake_cameras.js").read_text()
MEDIA_TIMEOUT_MS = 30_000
DOC_SIZE = (1920, 1080)
MATERIALS = ["经营者身份证明", "经营场所使用证明", "个体工商户登记申请书"]
# Which material each page is captured for: two pages of the first, one of the second.
PAGES = {1: MATERIALS[0], 2: MATERIALS[0], 3: MATERIALS[1]}
# Mean absolute difference (0-255, luma) a JPEG of the page may have against its source.
JPEG_TOLERANCE = 3.0  # measured: about 0.6

# Frames decoded per inbound video (by mid) on the desk's pc.
INBOUND_VIDEO_JS = """async () => {
  const out = {};
  (await window.rw.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") out[s.mid] = {
      frames: s.framesDecoded || 0, width: s.frameWidth || 0, height: s.frameHeight || 0,
    };
  });
  return out;
}"""


def luma(data: bytes, codec: str) -> tuple[int, int, bytes]:
    """(width, height, 8-bit grey plane without padding) of one PNG or JPEG image."""
    ctx = av.CodecContext.create(codec, "r")
    frames = ctx.decode(av.Packet(data))
    if not frames:
        frames = ctx.decode(None)
    frame = frames[0].reformat(format="gray")
    plane = frame.planes[0]
    raw = bytes(plane)
    rows = [
        raw[y * plane.line_size : y * plane.line_size + frame.width] for y in range(frame.height)
    ]
    return frame.width, frame.height, b"".join(rows)


def mean_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    step = 3  # every third pixel: plenty for a mean, and quick in pure Python
    return sum(abs(x - y) for x, y in zip(a[::step], b[::step], strict=True)) / len(a[::step])


async def source_page(kiosk: Page, n: int) -> bytes:
    url = await kiosk.evaluate("(n) => window.__docCam.png(n)", n)
    return base64.b64decode(url.split(",", 1)[1])


async def choose_document_camera(kiosk: Page) -> None:
    """Staff open the settings on the start screen and pick the document camera."""
    await kiosk.click("#doccam-settings-open")
    dialog = kiosk.locator("#doccam-settings")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("高拍仪设置")
    await dialog.get_by_text("Document camera (fake)").click()
    await expect(kiosk.locator("#doccam-settings-preview")).to_be_visible()
    await kiosk.click("#doccam-settings-save")
    await expect(dialog).to_be_hidden()
    assert await kiosk.evaluate("localStorage.getItem('rw_doc_camera')") == "doc-cam"


async def test_document_camera_pages_reach_the_desk_at_full_resolution(pages: Pages) -> None:
    srv = pages.server
    kiosk = await pages.kiosk("kiosk-1", init_script=FAKE_CAMERAS)
    await choose_document_camera(kiosk)
    # Remembered: a reload keeps the choice.
    await kiosk.reload()
    await expect(kiosk.locator('section[data-screen="items"]')).to_be_visible()
    assert await kiosk.evaluate("window.rwDocCamera.deviceId") == "doc-cam"
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await expect(kiosk.locator("#doc-panel")).to_be_visible()

    # Both remote tracks on the desk: the face at 640x480, the document camera at its size.
    wait = {"timeout": MEDIA_TIMEOUT_MS, "polling": 200}
    await desk.wait_for_function(
        "() => document.querySelector('#remote-video').videoWidth === 640", **wait
    )
    await desk.wait_for_function(
        "([w, h]) => { const v = document.querySelector('#doc-video');"
        " return v.videoWidth === w && v.videoHeight === h; }",
        arg=list(DOC_SIZE),
        **wait,
    )
    await desk.wait_for_function(
        f"async () => Object.values(await ({INBOUND_VIDEO_JS})()).filter(v => v.frames > 5)"
        ".length === 2",
        **wait,
    )
    stats = await desk.evaluate(INBOUND_VIDEO_JS)
    sizes = sorted((v["width"], v["height"]) for v in stats.values())
    assert sizes == sorted([(640, 480), DOC_SIZE]), stats
    await expect(desk.locator("#doc-stage")).to_be_visible()

    # The reviewer receives the case for this session.
    await desk.fill("#case-applicant-name", "王五")
    await desk.fill("#case-applicant-id", "12345")
    await desk.click("#case-create-btn")
    await expect(desk.locator("#case-error")).to_contain_text("applicant_id")
    await desk.fill("#case-applicant-id", id_number("33010219600101003"))
    await desk.click("#case-create-btn")
    await expect(desk.locator("#case-linked")).to_be_visible()
    number = await desk.locator("#case-number").get_attribute("data-case")
    assert number and number.startswith("QH-")
    checklist = desk.locator("#doc-checklist > li")
    await expect(checklist).to_have_count(3)
    for material in MATERIALS:
        item = desk.locator(f'#doc-checklist > li[data-material="{material}"]')
        await expect(item).to_have_attribute("data-state", "missing")
    await expect(kiosk.locator("#doc-case")).to_contain_text(number)

    for n, material in PAGES.items():
        await kiosk.evaluate("(n) => window.__docCam.setPage(n)", n)
        await desk.select_option("#capture-material", material)
        await desk.click("#capture-btn")
        thumb = desk.locator(
            f'#doc-checklist > li[data-material="{material}"] li[data-page] img.doc-thumb'
        )
        await expect(thumb).to_have_count(sum(1 for m in list(PAGES.values())[:n] if m == material))
        await desk.wait_for_function(
            "(m) => [...document.querySelectorAll(`#doc-checklist > li[data-material='${m}']"
            " img.doc-thumb`)].every((i) => i.complete && i.naturalWidth > 0)",
            arg=material,
            **wait,
        )
        await expect(kiosk.locator("#doc-message")).to_contain_text("已拍好")
    await shot(desk, "desk-doccam-pages")
    await shot(kiosk, "kiosk-doccam-call")
    # Pages in order per material; captured where there is a page.
    first = desk.locator(f'#doc-checklist > li[data-material="{MATERIALS[0]}"] .doc-pages > li')
    assert [await li.get_attribute("data-page") for li in await first.all()] == ["1", "2"]
    for material, wanted in zip(MATERIALS, ["captured", "captured", "missing"], strict=True):
        item = desk.locator(f'#doc-checklist > li[data-material="{material}"]')
        await expect(item).to_have_attribute("data-state", wanted)
    assert len(await desk.evaluate("window.rwCaptureTimes")) == 3
    method = await kiosk.evaluate("window.rwDocCamera.lastMethod")

    # Each stored JPEG: the document camera's full resolution, the source's pixels.
    http, _ = await srv.http("reviewer")
    async with http.get(f"/api/register/cases/{number}/documents") as resp:
        docs = (await resp.json())["documents"]
    by_page = {(d["material"], d["page"]): d for d in docs}
    assert len(docs) == 3
    order = {MATERIALS[0]: 0, MATERIALS[1]: 0}
    sources = {n: luma(await source_page(kiosk, n), "png") for n in PAGES}
    for n, material in PAGES.items():
        order[material] += 1
        doc = by_page[(material, order[material])]
        assert doc["media_type"] == "image/jpeg" and doc["source"] == "camera"
        async with http.get(f"/api/register/cases/{number}/documents/{doc['id']}") as resp:
            stored = await resp.read()
        width, height, grey = await asyncio.to_thread(luma, stored, "mjpeg")
        assert (width, height) == DOC_SIZE, (n, width, height, method)
        sw, sh, source = sources[n]
        assert (sw, sh) == DOC_SIZE
        same = await asyncio.to_thread(mean_difference, grey, source)
        other = await asyncio.to_thread(mean_difference, grey, sources[n % 3 + 1][2])
        print(f"page {n} ({method}): mean |diff| {same:.2f} vs another page {other:.2f}")
        assert same < JPEG_TOLERANCE, (n, same, method)
        assert other > 4 * same, "the still shows this page, not another"

    # The viewer: zoom, rotate, mark page 2 unreadable; the kiosk is asked to recapture.
    await desk.click(
        f'#doc-checklist > li[data-material="{MATERIALS[0]}"] li[data-page="2"] button'
    )
    viewer = desk.locator(".dv-overlay")
    await expect(viewer).to_be_visible()
    await expect(viewer.locator(".dv-title")).to_contain_text(f"{MATERIALS[0]} 第 2 页")
    await viewer.locator('[data-act="zoom-in"]').click()
    await viewer.locator('[data-act="rotate-right"]').click()
    await expect(viewer).to_have_attribute("data-rotate", "90")
    await viewer.locator('[data-act="mark"]').click()
    await viewer.locator("textarea").fill("反光看不清")
    await viewer.locator('[data-act="mark-confirm"]').click()
    await expect(viewer.locator(".dv-status")).to_contain_text("已标记为不清晰")
    await viewer.locator(".dv-close").click()
    await expect(viewer).to_have_count(0)
    await expect(kiosk.locator("#doc-message")).to_contain_text("看不清")
    await expect(kiosk.locator("#doc-message")).to_contain_text("第 2 页")
    page2 = desk.locator(f'#doc-checklist > li[data-material="{MATERIALS[0]}"] li[data-page="2"]')
    await expect(page2).to_have_attribute("data-state", "unreadable")
    first_item = desk.locator(f'#doc-checklist > li[data-material="{MATERIALS[0]}"]')
    await expect(first_item).to_have_attribute("data-state", "captured")  # page 1 is readable
    # The only page of the second material: marked, the material is missing again.
    await desk.click(
        f'#doc-checklist > li[data-material="{MATERIALS[1]}"] li[data-page="1"] button'
    )
    await viewer.locator('[data-act="mark"]').click()
    await viewer.locator("textarea").fill("缺角")
    await viewer.locator('[data-act="mark-confirm"]').click()
    await expect(viewer.locator(".dv-status")).to_contain_text("已标记为不清晰")
    await desk.keyboard.press("Escape")
    second = desk.locator(f'#doc-checklist > li[data-material="{MATERIALS[1]}"]')
    await expect(second).to_have_attribute("data-state", "missing")

    # The applicant recaptures it from the kiosk itself.
    await kiosk.evaluate("(n) => window.__docCam.setPage(n)", 4)
    await kiosk.click(f'#doc-materials button[data-material="{MATERIALS[1]}"]')
    await expect(second).to_have_attribute("data-state", "captured")
    await expect(second.locator(".doc-pages > li")).to_have_count(2)

    # The recording holds the document camera as its own track.
    session_id = await desk.evaluate("window.rw.session.session_id")
    await desk.click("#end-call")
    await expect(desk.locator("#queue-view")).to_be_visible()
    recorder = srv.app[K.RECORDER]
    async with asyncio.timeout(20):
        await recorder.wait_finalized(session_id)
    [manifest_path] = recorder.root.glob(f"*/*/*/{session_id}/manifest.json")
    manifest = json.loads(manifest_path.read_bytes())
    doc_segments = [s for s in manifest["segments"] if s.get("track") == "video:1"]
    assert doc_segments and doc_segments[0]["participant"].startswith("kiosk-")
    assert doc_segments[0]["file"].endswith("-video1-1.webm") and doc_segments[0]["packets"] > 0
    with av.open(str(manifest_path.parent / doc_segments[0]["file"])) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == DOC_SIZE

    # The replay page shows the document camera as a lane of its own.
    replay = await pages.sign_in(f"/cases/{session_id}", "supervisor")
    await expect(replay.locator("#replay-body")).to_be_visible()
    await expect(replay.locator("video.player-video")).to_have_count(3)
    lane = replay.locator('figure.player[data-track="video:1"]')
    await expect(lane).to_have_attribute("data-role", "kiosk")
    await expect(lane.locator(".player-track")).to_have_text("高拍仪")


async def test_the_face_camera_is_never_the_chosen_document_camera(pages: Pages) -> None:
    """On a kiosk whose default camera is the document camera, the face track
    still comes from the other camera once staff chose the document camera."""
    script = "window.__docCamIsDefault = true;\n" + FAKE_CAMERAS
    kiosk = await pages.kiosk("kiosk-1", init_script=script)
    await choose_document_camera(kiosk)
    face = await kiosk.evaluate(
        "async () => { const m = await window.rw.acquireMedia();"
        " const s = m.stream.getVideoTracks()[0].getSettings();"
        " return [s.width, s.height]; }"
    )
    assert face == [640, 480]
