"""The document viewer (doc_viewer.js) across a language switch: a reviewer has
typed the reason into the open 标记不清晰 form, switches to English, and finds
the form's words in English and the typed reason still there; marking then
stores exactly that reason."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server import appkeys as K
from server.register.case_types import Actor
from tests.api.test_case_api import BASE, _post, _signed_in
from tests.browser.conftest import Pages
from tests.browser.test_async_case import HOUSEHOLD, material, received_with_pages

pytestmark = pytest.mark.browser

TYPED = "户口簿反光，看不清户主姓名"


async def test_a_language_switch_keeps_the_reason_being_typed(pages: Pages) -> None:
    number = await received_with_pages(pages)
    reviewer_http = await _signed_in(pages.server, "reviewer")
    review = {"to": "in_review"}
    assert (await _post(reviewer_http, f"{BASE}/{number}/transition", review))[0] == 200

    page = await pages.sign_in(f"/case/{number}", "reviewer")
    await material(page, HOUSEHOLD).locator("a.page-link").click()
    viewer = page.locator(".dv-overlay")
    await viewer.locator('[data-act="mark"]').click()
    form = viewer.locator("form.dv-mark")
    reason = form.locator("textarea")
    await expect(reason).to_be_focused()
    await reason.fill(TYPED)
    await expect(form.locator("label")).to_contain_text("不清晰的原因")
    await expect(reason).to_have_attribute("placeholder", "例如：反光，看不清印章")

    # The overlay covers the top bar: the switch is reached from the keyboard.
    switch = page.locator("[data-lang-switch]")
    await switch.focus()
    await switch.press("Enter")
    await expect(viewer.locator('[data-act="mark"]')).to_have_text("Mark unreadable")
    await expect(form.locator("label")).to_contain_text("Why it is unreadable")
    await expect(reason).to_have_count(1)
    await expect(reason).to_have_value(TYPED)
    await expect(reason).to_have_attribute("placeholder", "e.g. glare, the seal cannot be read")
    await switch.press("Enter")  # and back: still there
    await expect(form.locator("label")).to_contain_text("不清晰的原因")
    await expect(reason).to_have_value(TYPED)

    await viewer.locator('[data-act="mark-confirm"]').click()
    await expect(viewer.locator(".dv-status")).to_have_text(f"已标记为不清晰：{TYPED}")
    docs = pages.server.app[K.DOCUMENTS].list(Actor("supervisor", "supervisor"), number)
    [marked] = [d for d in docs if d["material"] == HOUSEHOLD]
    assert (marked["state"], marked["reason"]) == ("unreadable", TYPED)
