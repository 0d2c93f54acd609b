"""Each role lands on its own page with a nav of only the pages it may open;
the admin page edits accounts and revokes kiosks, with errors in plain zh-CN."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages, shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ROLES = {
    # username: (home, pages in the nav, a page it may not open)
    "reviewer": ("/desk", ["/desk", "/cases"], "/admin"),
    "supervisor": (
        "/cases",
        ["/supervision", "/cases", "/followups", "/spot-checks", "/stats"],
        "/desk",
    ),
    "admin": ("/admin", ["/supervision", "/admin", "/stats"], "/cases"),
    "agent": ("/village", ["/agent", "/village"], "/desk"),  # a village point's agent
    "township": ("/points", ["/points"], "/agent"),
    "secadmin": ("/security", ["/security"], "/admin"),
    "auditadmin": ("/audit", ["/audit"], "/security"),
}


async def sign_in(pages: Pages, username: str, path: str = "/login") -> Page:
    page = await pages.open(path)
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    return page


async def test_each_role_lands_on_its_page_with_its_nav(pages: Pages) -> None:
    base = pages.server.url
    for username, (home, nav, closed) in ROLES.items():
        page = await sign_in(pages, username)
        await page.wait_for_url(base + home)
        links = page.locator(".rolenav a")
        assert [await a.get_attribute("href") for a in await links.all()] == nav, username
        await expect(page.locator(f'.rolenav a[href="{home}"]')).to_have_attribute(
            "aria-current", "page"
        )
        await shot(page, f"role-{username}")
        # A page the role may not open: a page in words with the way home.
        await page.goto(base + closed)
        await expect(page.locator("#forbidden h1")).to_have_text("无权打开此页面")
        await page.click("#go-home")
        await page.wait_for_url(base + home)
    agent = pages.contexts[list(ROLES).index("agent")].pages[0]
    await agent.goto(base + "/agent")
    await expect(agent.locator("#new-case h2")).to_have_text("新建办件")
    await expect(agent.locator("#agent-place")).to_have_text("柳林镇东村便民代办点（东村超市）")


async def test_an_offsite_next_lands_on_the_role_home(pages: Pages) -> None:
    for target in ("/%5Cevil.example", "/%09/evil.example", "//evil.example"):
        page = await sign_in(pages, "reviewer", f"/login?next={target}")
        await page.wait_for_url(pages.server.url + "/desk")
    # A same-origin page the role may open is kept.
    page = await sign_in(pages, "reviewer", "/login?next=/cases")
    await page.wait_for_url(pages.server.url + "/cases")


async def test_admin_edits_disables_and_revokes(pages: Pages) -> None:
    page = await sign_in(pages, "admin")
    await page.wait_for_url("**/admin")
    row = page.locator('#users-rows tr[data-username="reviewer2"]')
    await expect(row.locator('[data-action="disable"]')).to_be_visible()
    own = page.locator('#users-rows tr[data-username="admin"]')
    await expect(own.locator('[data-action="edit"]')).to_be_visible()
    await expect(own.locator('[data-action="disable"]')).to_have_count(0)  # not oneself
    await row.locator('[data-action="edit"]').click()
    panel = page.locator("#edit-panel")
    await expect(panel).to_be_visible()
    # A reviewer without items: the API's code, in words.
    for box in await panel.locator('#edit-items input[type="checkbox"]').all():
        await box.uncheck()
    await page.click("#edit-submit")
    result = page.locator("#edit-result")
    await expect(result).to_have_text("操作未完成：审批人员至少要负责一个事项。")
    await page.click("[data-lang-switch]")
    await expect(result).to_have_text("Not done: A reviewer must serve at least one service.")
    await page.click("[data-lang-switch]")
    await page.check('#edit-items input[value="SCJG-001"]')
    await page.fill("#edit-display", "县级审批员 刘洋")
    await page.click("#edit-submit")
    await expect(result).to_have_text("已保存对账户 reviewer2 的修改。")
    await expect(row).to_contain_text("县级审批员 刘洋")
    await page.fill("#reset-new", "short")
    await page.click("#reset-submit")
    await expect(result).to_have_text(
        "操作未完成：密码太短（长度要求见安全策略，默认至少 12 位）。"
    )
    await page.fill("#reset-new", "A-brand-new-pw9")
    await page.click("#reset-submit")
    await expect(result).to_have_text("已重置 reviewer2 的密码。")

    await row.locator('[data-action="disable"]').click()
    await expect(row).to_contain_text("已停用")
    await expect(row.locator('[data-action="enable"]')).to_be_visible()

    kiosk = page.locator("#kiosks-rows tr").first
    revoke = kiosk.locator('[data-action="revoke"]')
    await revoke.click()
    await expect(revoke).to_have_text("确认吊销？")
    await revoke.click()
    await expect(page.locator("#kiosks-result")).to_contain_text("已吊销终端")
    await expect(page.locator("#kiosks-rows tr").first).to_contain_text("已吊销")
    await shot(page, "admin-edit")

    # The bad add from issue 12: a message in zh-CN, not developer English.
    await page.fill("#new-username", "tab\there")
    await page.fill("#new-password", "Another-pass-1")
    await page.select_option("#new-role", "supervisor")
    await page.click("#add-submit")
    add_result = page.locator("#add-result")
    await expect(add_result).to_have_text(re.compile("^操作未完成：用户名须为 1 到 64 个字符"))
