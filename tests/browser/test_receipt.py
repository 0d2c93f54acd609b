"""The receipt (受理回执) in Chromium: the print button prints, printing leaves out the
top bar and the button and fits one A5 page, the QR code on screen decodes to the
verification page, and the page reads in English too; the public verification page."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdf
import pytest
from playwright.async_api import expect

from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.api.test_case_documents import MATERIALS, _upload
from tests.browser.conftest import Pages, shot
from tests.unit.doc_images import jpeg
from tests.unit.pdf_tools import decode_qr

pytestmark = pytest.mark.browser
PRINT_STUB = "window.__printed = 0; window.print = () => { window.__printed += 1; };"


async def test_the_receipt_prints_and_its_qr_code_opens_the_verification_page(
    pages: Pages,
) -> None:
    running = pages.server
    agent = await _signed_in(running, "agent")
    case = (await _post(agent, BASE, NEW))[1]
    number = case["number"]
    for material in (MATERIALS[0], MATERIALS[2]):
        assert (await _upload(agent, number, material, jpeg()))[0] == 201

    page = await pages.sign_in(f"/case/{number}/receipt", "agent", init_script=PRINT_STUB)
    await expect(page.locator("#r-number")).to_have_text(number)
    await expect(page).to_have_title("受理回执")
    await shot(page, "receipt-zh")
    png = await page.locator("#r-qr svg").screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert decode_qr(image) == case["verify_url"]
    # The second code: the rating page (好差评), also decodable from the screen.
    png = await page.locator("#r-rate-qr svg").screenshot()
    rate_url = decode_qr(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR))
    assert rate_url == await page.locator("#r-rate-url").text_content()
    assert rate_url.startswith(f"{running.url}/rate/{number}-")

    await page.click("#print")
    await page.wait_for_function("() => window.__printed === 1")
    await page.emulate_media(media="print")
    await expect(page.locator(".topbar")).to_be_hidden()
    await expect(page.locator("#print")).to_be_hidden()
    await expect(page.locator("#receipt")).to_be_visible()
    printed = pypdf.PdfReader(io.BytesIO(await page.pdf(prefer_css_page_size=True)))
    assert len(printed.pages) == 1
    width, height = (float(v) for v in printed.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)  # A5
    text = printed.pages[0].extract_text()
    assert number in text and "李四" in text and "打印回执" not in text and "退出登录" not in text
    await page.emulate_media(media="screen")

    await page.click("[data-lang-switch]")
    await expect(page.locator("#print")).to_have_text("Print the receipt")
    await expect(page.locator("#r-missing-note")).to_contain_text("Some materials are missing")
    await expect(page.locator("#r-item")).to_have_text(
        "Sole proprietorship registration (SCJG-001)"
    )
    await expect(page).to_have_title("Acknowledgement of receipt")
    await shot(page, "receipt-en")

    # The QR code's page, opened without signing in: no applicant, the state in words.
    public = await pages.open(case["verify_url"].removeprefix(running.url))
    await expect(public.locator("#v-number")).to_have_text(number)
    await expect(public.locator("#v-state")).to_have_text("受理中")
    await expect(public.locator("#v-sha256")).to_have_text("尚未出具批件")
    assert "李四" not in await public.content()
    await public.click("[data-lang-switch]")
    await expect(public.locator("#v-state")).to_have_text("Received, in progress")
    await shot(public, "verify-en")

    # The rating page of a case still open says when it can be rated.
    rate = await pages.open(rate_url.removeprefix(running.url))
    await expect(rate.locator("#rate-open")).to_contain_text("办件尚未办结")
