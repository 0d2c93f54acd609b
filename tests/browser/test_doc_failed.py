"""A still the kiosk cannot take is told to the desk at once: a kiosk with no
document camera chosen gets `doc.take`, answers `doc.failed` (no_camera), and the
reviewer's desk says so in plain words (not the 20 s "no photo arrived"), with the
capture button usable again; the words follow a language switch."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages, kiosk_join, shot
from tests.contract.case_helpers import id_number

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

MATERIAL = "经营场所使用证明"


async def test_a_kiosk_without_a_document_camera_is_told_on_the_desk(pages: Pages) -> None:
    kiosk = await pages.kiosk("kiosk-1")
    assert await kiosk.evaluate("localStorage.getItem('rw_doc_camera')") is None
    await kiosk_join(kiosk)
    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(kiosk.locator('section[data-screen="call"]')).to_be_visible()
    await desk.wait_for_function(
        "() => document.querySelector('#remote-video').videoWidth > 0",
        timeout=30_000,
        polling=200,
    )

    await desk.fill("#case-applicant-name", "王五")
    await desk.fill("#case-applicant-id", id_number("33010219600101003"))
    await desk.click("#case-create-btn")
    await expect(desk.locator("#case-linked")).to_be_visible()
    await desk.select_option("#capture-material", MATERIAL)
    await desk.click("#capture-btn")

    status = desk.locator("#capture-status")
    # Not the timeout's "没有收到照片": the kiosk's reason, told as it happened.
    await expect(status).to_contain_text(f"「{MATERIAL}」没有拍成：窗口没有可用的高拍仪")
    await expect(status).to_have_class("capture-status warn")
    await expect(desk.locator("#capture-btn")).to_be_enabled()
    await expect(kiosk.locator("#doc-message")).to_be_visible()
    await shot(desk, "desk-doc-failed")
    await desk.click("[data-lang-switch]")
    await expect(status).to_contain_text(f"“{MATERIAL}” was not captured")
