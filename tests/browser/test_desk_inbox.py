"""The desk's inbox (待办): open cases by deadline, flagged and counted, and a
new case showing up from its `case.updated` push, without reloading or polling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.browser.conftest import Pages, shot
from tests.contract.case_helpers import Clock

pytestmark = pytest.mark.browser


async def test_the_inbox_lists_flags_and_follows_pushes(pages: Pages) -> None:
    running = pages.server
    clock = Clock()  # Wed 30 Sep 2026
    running.app[K.CASES]._clock = clock
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    _, late = await _post(reviewer, BASE, {**NEW, "item": "RSJ-001", "mode": "video"})
    _, soon = await _post(agent, BASE, NEW)  # SCJG-001: due Sat 10 Oct (调休)
    clock.now = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)  # Fri 9 Oct

    page = await pages.desk("reviewer")
    box = page.locator("#inbox")
    rows = box.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_attribute("data-case", late["number"])
    await expect(rows.nth(0)).to_have_attribute("data-flag", "overdue")
    await expect(rows.nth(0)).to_contain_text("已超期")
    await expect(rows.nth(1)).to_have_attribute("data-flag", "due_soon")
    await expect(rows.nth(1)).to_contain_text("即将到期")
    await expect(rows.nth(1)).to_contain_text("个体工商户设立登记")
    await expect(rows.nth(1)).to_contain_text(NEW["applicant_name"])
    link = rows.nth(1).locator("a")
    assert await link.get_attribute("href") == f"/case/{soon['number']}"
    await expect(box.locator('[data-count="overdue"]')).to_have_attribute("data-n", "1")
    await expect(box.locator('[data-count="due_soon"]')).to_have_attribute("data-n", "1")
    await shot(page, "desk-inbox")
    loads = await page.evaluate("window.rwInbox.state.loads")

    # A case received now (3 working days left) arrives by push, last in the list.
    _, fresh = await _post(agent, BASE, NEW)
    await expect(rows).to_have_count(3)
    await expect(rows.nth(2)).to_have_attribute("data-case", fresh["number"])
    assert not await rows.nth(2).get_attribute("data-flag")
    await expect(box.locator('[data-count="open"]')).to_have_attribute("data-n", "3")
    assert await page.evaluate("window.rwInbox.state.updates") >= 1
    assert await page.evaluate("window.rwInbox.state.loads") > loads

    # English is one click away.
    await page.click("[data-lang-switch]")
    await expect(rows.nth(0)).to_contain_text("Overdue")
    await expect(box.locator("h2")).to_have_text("Open cases")
