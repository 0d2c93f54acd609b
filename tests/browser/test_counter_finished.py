"""The counter's finished cases and the agent's withdrawal: the agent withdraws an
open case from its case page (a reason is required, a second press confirms), and
已办结 on /agent lists the place's approved, rejected and withdrawn cases, the
latest first, 20 to a page, while 我的办件 keeps only the open ones."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server import appkeys as K
from server.register.case_types import Actor
from tests.api.test_case_api import BASE, _post, _signed_in
from tests.browser.conftest import Pages, shot
from tests.browser.test_async_case import received_with_pages

pytestmark = pytest.mark.browser

WHY = "申请人本人来电，不再办理。"
SUPERVISOR = Actor("supervisor", "supervisor")


async def test_the_agent_withdraws_and_finds_finished_cases_latest_first(pages: Pages) -> None:
    agent_http = await _signed_in(pages.server, "agent")
    reviewer_http = await _signed_in(pages.server, "reviewer")
    rejected = await received_with_pages(pages)
    approved = await received_with_pages(pages)
    refusal = {"to": "rejected", "reason": "不符合参保条件"}
    assert (await _post(reviewer_http, f"{BASE}/{rejected}/transition", refusal))[0] == 200
    review = {"to": "in_review"}
    assert (await _post(reviewer_http, f"{BASE}/{approved}/transition", review))[0] == 200
    status, body = await _post(reviewer_http, f"{BASE}/{approved}/approval", {"reasons": "同意"})
    assert status == 200 and body["state"] == "approved", body
    withdrawn = []
    for _ in range(19):
        number = await received_with_pages(pages)
        path = f"{BASE}/{number}/transition"
        assert (await _post(agent_http, path, {"to": "withdrawn", "reason": "不办了"}))[0] == 200
        withdrawn.append(number)
    still_open = await received_with_pages(pages)
    target = await received_with_pages(pages)

    # The agent withdraws `target` from its case page.
    page = await pages.sign_in(f"/case/{target}", "agent")
    panel = page.locator("#withdraw-panel")
    await expect(panel).to_be_visible()
    await page.click("#do-withdraw")
    await expect(page.locator("#case-message")).to_contain_text("请写明撤回原因")
    await page.fill("#withdraw-reason", WHY)
    await page.click("#do-withdraw")
    await expect(page.locator("#withdraw-confirm")).to_contain_text("不能恢复")
    await expect(page.locator("#do-withdraw")).to_have_text("确认撤回")
    assert pages.server.app[K.CASES].get(SUPERVISOR, target).state == "received"
    await page.click("#do-withdraw")
    await expect(page.locator("#case-message")).to_have_text("办件已撤回。")
    await expect(page.locator("#case-state")).to_have_text("已撤回")
    await expect(panel).to_be_hidden()
    await expect(page.locator("#capture-panel")).to_be_hidden()
    await expect(page.locator("#history-rows")).to_contain_text(WHY)
    case = pages.server.app[K.CASES].get(SUPERVISOR, target)
    assert case.state == "withdrawn" and case.history[-1]["reason"] == WHY
    assert case.history[-1]["actor"] == "agent:agent"
    await shot(page, "counter-case-withdrawn")

    # A closed case offers no withdrawal, and the reviewer's page never does.
    await page.goto(f"{pages.server.url}/case/{rejected}")
    await expect(page.locator("#case-state")).to_have_text("不予批准")
    await expect(panel).to_be_hidden()
    reviewer = await pages.sign_in(f"/case/{still_open}", "reviewer")
    await expect(reviewer.locator("#decision-panel")).to_be_visible()
    await expect(reviewer.locator("#withdraw-panel")).to_have_count(0)

    # 已办结: the latest first, 20 to a page; 我的办件 keeps only the open case.
    await page.goto(f"{pages.server.url}/agent")
    rows = page.locator("#done-rows tr")
    await expect(rows).to_have_count(20)
    newest_first = [target, *reversed(withdrawn), approved, rejected]
    assert [await r.get_attribute("data-case") for r in await rows.all()] == newest_first[:20]
    await expect(page.locator("#done-range")).to_have_text("第 1–20 件，共 22 件")
    await expect(page.locator("#done-prev")).to_be_disabled()
    await expect(rows.first.locator(".state-badge")).to_have_text("已撤回")
    await expect(page.locator(f'#my-rows tr[data-case="{still_open}"]')).to_be_visible()
    await expect(page.locator("#my-rows tr")).to_have_count(1)
    await page.click("#done-next")
    await expect(rows).to_have_count(2)
    assert [await r.get_attribute("data-case") for r in await rows.all()] == newest_first[20:]
    await expect(rows.nth(0).locator(".state-badge")).to_have_text("已批准")
    await expect(rows.nth(1).locator(".state-badge")).to_have_text("不予批准")
    await expect(page.locator("#done-range")).to_have_text("第 21–22 件，共 22 件")
    await expect(page.locator("#done-next")).to_be_disabled()
    await shot(page, "counter-finished-page-2")
    await page.click("[data-lang-switch]")
    await expect(page.locator("#done-range")).to_have_text("21–22 of 22")
    await expect(rows.nth(0).locator(".state-badge")).to_have_text("Approved")
    await page.click("#done-prev")
    await expect(rows).to_have_count(20)
    await expect(page.locator("#done-range")).to_have_text("1–20 of 22")
