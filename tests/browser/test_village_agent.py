"""乡村随身办 on a phone: a village agent starts a video session for an elderly
applicant, a reviewer takes the call and decides the case, the points appear on
the month's ledger, the township admin confirms the month (signed) and a
correction appears as a new entry in the next month. Real Chromium contexts,
fake cameras, a real server."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages, shot
from tests.contract.case_helpers import id_number

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MEDIA_TIMEOUT_MS = 30_000
ELDER_ID = id_number("41132619480815002")  # born 1948

# The reviewer decides through the case API with the desk page's own session.
DECIDE_JS = """async ([number]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const post = (path, body) => fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify(body),
  }).then((r) => r.status);
  const base = `/api/register/cases/${number}/transition`;
  return [await post(base, {to: "in_review"}),
          await post(base, {to: "rejected", reason: "申请人不符合参保条件"})];
}"""


async def _touch_targets_fit(page: Page, selector: str) -> None:
    """Every control is at least 44 px high and inside the phone's width."""
    boxes = await page.locator(selector).evaluate_all(
        "(els) => els.filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect())"
        ".map((r) => [r.height, r.right])"
    )
    assert boxes, selector
    for height, right in boxes:
        assert height >= 44 and right <= PHONE["width"] + 1, (selector, height, right)


async def test_a_village_agent_session_earns_points_confirmed_and_corrected(
    pages: Pages,
) -> None:
    agent = await pages.sign_in("/village", "agent", viewport=PHONE)
    await agent.wait_for_selector("body[data-ready]", state="attached")
    await expect(agent.locator("#vs-form")).to_be_visible()
    await _touch_targets_fit(agent, ".v-tab, #vs-form input, #vs-form select, #vs-start")
    await agent.select_option("#vs-item", "SCJG-001")
    await agent.fill("#vs-name", "王大爷")
    await agent.fill("#vs-id", ELDER_ID)
    await agent.click("#vs-start")
    await expect(agent.locator("#vs-live")).to_be_visible()
    number = (await agent.locator("#vs-case").inner_text()).strip()
    assert number.startswith("QH-")
    await expect(agent.locator("#vs-applicant")).to_contain_text("*" * 12 + ELDER_ID[-4:])
    await expect(agent.locator("#vs-status")).to_contain_text("下一位")
    await shot(agent, "village-waiting")

    desk = await pages.desk("reviewer")
    await expect(desk.locator("#call-next")).to_be_enabled()
    await desk.click("#call-next")
    await expect(desk.locator("#call-view")).to_be_visible()
    # The case the agent received is linked to the call: the desk shows it.
    await expect(desk.locator("#case-number")).to_contain_text(number)
    await expect(agent.locator("#v-message")).to_contain_text(number)
    await expect(agent.locator("#vs-status")).to_have_text("视频办理中", timeout=MEDIA_TIMEOUT_MS)
    await shot(agent, "village-call")
    assert await desk.evaluate(DECIDE_JS, [number]) == [200, 200]

    # The agent's points this month: base 1 + assisted 2 + video 1 + elderly 2.
    await agent.click('.v-tab[data-tab="points"]')
    entry = agent.locator("#pt-list li[data-kind='case']")
    await expect(entry).to_contain_text(number)
    await expect(entry).to_contain_text("+6")
    await expect(agent.locator("#pt-total")).to_have_text("6")
    await shot(agent, "village-points")

    # The township admin confirms the month, on a phone too.
    admin = await pages.sign_in("/points", "township", viewport=PHONE)
    await admin.wait_for_selector("body[data-ready]", state="attached")
    row = admin.locator(f"#pt-rows tr[data-kind='case']:has-text('{number}')")
    await expect(row).to_be_visible()
    await expect(admin.locator("#pt-total")).to_have_text("6")
    await admin.click("#pt-confirm")
    await expect(admin.locator("#pt-message")).to_contain_text("已确认并签名")
    await expect(admin.locator("#pt-verified")).to_have_text("签名有效")
    await expect(admin.locator("#pt-confirm")).to_be_hidden()
    await _touch_targets_fit(admin, "#pt-csv, #pt-pdf, #gr-submit")
    await shot(admin, "points-confirmed")
    entry_id = await row.get_attribute("data-entry")
    confirmed_month = await admin.locator("#pt-month").input_value()

    # A correction: a new entry in the next open month, naming the corrected one.
    await row.locator(".pt-fix").click()
    await admin.fill("#fx-points", "-1")
    await admin.fill("#fx-reason", "视频加分重复计算，扣减一分")
    await admin.click("#fx-submit")
    await expect(admin.locator("#pt-message")).to_contain_text("已登记更正")
    # The month list is read again: the correction's month is now in it.
    await expect(admin.locator("#pt-month option")).to_have_count(2)
    months = await admin.locator("#pt-month option").evaluate_all("(os) => os.map((o) => o.value)")
    later = [m for m in months if m > confirmed_month]
    assert len(later) == 1, months
    await admin.select_option("#pt-month", later[0])
    fix = admin.locator("#pt-rows tr[data-kind='correction']")
    await expect(fix).to_contain_text(f"更正 #{entry_id}")
    await expect(fix).to_contain_text("-1")
    # The confirmed month is unchanged and still verifies.
    await admin.select_option("#pt-month", confirmed_month)
    await expect(admin.locator("#pt-verified")).to_have_text("签名有效")
    await expect(admin.locator("#pt-rows tr")).to_have_count(1)
    await shot(admin, "points-corrected")


async def test_a_convenience_record_is_filed_on_a_phone(pages: Pages) -> None:
    agent = await pages.sign_in("/village", "agent", viewport=PHONE)
    await agent.wait_for_selector("body[data-ready]", state="attached")
    await agent.click('.v-tab[data-tab="records"]')
    await expect(agent.locator("#rec-list")).to_contain_text("还没有登记")
    await agent.click('.v-item[data-item="BM-QZDJ"]')
    form = agent.locator('.rec-form[data-item="BM-QZDJ"]')
    await expect(form).to_be_visible()
    await _touch_targets_fit(agent, '.rec-form[data-item="BM-QZDJ"] input')
    await form.locator('[name="applicant_name"]').fill("李大姐")
    await form.locator('[name="applicant_id"]').fill(ELDER_ID)
    await form.locator('[name="f.wanted"]').fill("保洁")
    await form.locator('[name="f.phone"]').fill("13800000000")
    await form.locator('button[type="submit"]').click()
    # A required field left empty: refused in plain words, nothing filed.
    await expect(agent.locator("#v-message")).to_have_text("请填写“可到岗日期”")
    await form.locator('[name="f.available"]').fill("2026-12-20")
    await form.locator('[name="applicant_id"]').fill(ELDER_ID[:-1] + "0")  # wrong check digit
    await form.locator('button[type="submit"]').click()
    await expect(agent.locator("#v-message")).to_contain_text("身份证号码不正确")
    await form.locator('[name="applicant_id"]').fill(ELDER_ID)
    await form.locator('button[type="submit"]').click()
    await expect(agent.locator("#v-message")).to_contain_text("已登记：求职登记，积分 +4")
    record = agent.locator("#rec-list li[data-record]")
    await expect(record).to_have_count(1)
    await expect(record).to_contain_text("*" * 12 + ELDER_ID[-4:])
    assert ELDER_ID not in await agent.content()
    await agent.click('.v-tab[data-tab="points"]')
    await expect(agent.locator("#pt-list li[data-kind='record']")).to_contain_text("+4")
    await shot(agent, "village-record")
