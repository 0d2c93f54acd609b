"""收审分离 / 帮办代办 without video, in two browsers: the agent receives a case at
the counter and captures its materials (a fake document camera: a canvas stream
behind getUserMedia, and a scanned upload), the reviewer opens the case page,
starts the review and asks for more with a reason, the agent sees the reason,
adds a page and hands the case back, the reviewer sees the new page; then the
reviewer approves with a generated PDF and the agent prints it: the PDF opens,
holds the case number, its QR code decodes to the verification URL, and that
page shows the SHA-256 of the PDF's bytes."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from playwright.async_api import Page, expect

from server import appkeys as K
from server.register.case_types import Actor
from tests.api.test_archive_routes import record_session
from tests.api.test_case_api import BASE, _post, _signed_in
from tests.browser.conftest import Pages, shot
from tests.contract.case_helpers import id_number
from tests.unit.doc_images import decodes, jpeg
from tests.unit.pdf_tools import pdf_pages, pdf_qr, pdf_text

pytestmark = pytest.mark.browser

ITEM = "RSJ-001"  # 城乡居民基本养老保险参保登记: 居民身份证, 户口簿
ID_CARD, HOUSEHOLD = "居民身份证", "户口簿"
APPLICANT_ID = id_number("33010219500101001")
REASON = "户口簿只拍了首页，请补拍申请人本人那一页。"
DOC_W, DOC_H = 1600, 1200  # the fake document camera's full resolution
SIGNED_PDF = b"%PDF-1.4\n% the department's signed and sealed approval\n%%EOF\n"

# A document camera attached to the agent's PC: getUserMedia answers with a
# canvas stream at DOC_W x DOC_H (fine print on white), enumerateDevices lists it.
FAKE_DOC_CAMERA = """
(() => {
  const W = DOC_W, H = DOC_H;
  let canvas = null;
  function paint() {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#000";
    ctx.font = "24px sans-serif";
    for (let y = 40; y < H; y += 40) ctx.fillText("户口簿 第" + y / 40 + "行 " + Date.now(), 30, y);
  }
  navigator.mediaDevices.enumerateDevices = async () => [
    { deviceId: "doccam-1", groupId: "g1", kind: "videoinput", label: "Fake document camera" },
  ];
  navigator.mediaDevices.getUserMedia = async () => {
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.width = W;
      canvas.height = H;
      paint();
      setInterval(paint, 200);
    }
    return canvas.captureStream(10);
  };
})();
""".replace("DOC_W", str(DOC_W)).replace("DOC_H", str(DOC_H))


def material(page: Page, code: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#checklist li.material[data-material="{code}"]')


async def receive_case(pages: Pages, *, scan: bool = True) -> tuple[Page, str]:
    """The agent receives a case at the counter: one camera still and one scan
    (or, `scan=False`, only the still, submitted though a material is missing)."""
    agent = await pages.sign_in("/agent", "agent", init_script=FAKE_DOC_CAMERA)
    await agent.select_option("#nc-item", ITEM)
    await agent.select_option("#nc-mode", "assisted")
    await agent.fill("#nc-name", "王秀英")
    await agent.fill("#nc-id", "330102195001010011")  # a wrong check digit first
    await agent.click("#nc-submit")
    await expect(agent.locator("#agent-message")).to_contain_text("身份证号码不正确")
    await expect(agent.locator("#capture-step")).to_be_hidden()
    await agent.fill("#nc-id", APPLICANT_ID)
    await agent.click("#nc-submit")
    await expect(agent.locator("#capture-step")).to_be_visible()
    number = (await agent.locator("#cap-number").text_content() or "").strip()
    assert number.startswith("QH-")

    await agent.click("#cam-open")
    shoot = material(agent, ID_CARD).locator("button.shoot")
    await expect(shoot).to_be_enabled()
    await shoot.click()
    await expect(material(agent, ID_CARD).locator("li.page")).to_have_count(1)
    if scan:
        await upload_scan(agent, HOUSEHOLD)
        await expect(agent.locator("#cap-missing")).to_be_hidden()
        await shot(agent, "async-agent-captured")
    else:
        await expect(agent.locator("#cap-missing")).to_have_text(f"还缺：{HOUSEHOLD}")
        await agent.click("#nc-done")  # asked once whether to submit without it
        await expect(agent.locator("#cap-missing")).to_contain_text("再按一次提交")
        await expect(agent.locator("#capture-step")).to_be_visible()
    await agent.click("#nc-done")
    await expect(agent.locator("#capture-step")).to_be_hidden()
    await expect(agent.locator(f'#my-rows tr[data-case="{number}"]')).to_contain_text("待审核")
    return agent, number


async def upload_scan(page: Page, code: str) -> None:
    before = await material(page, code).locator("li.page").count()
    scan = {"name": "scan.jpg", "mimeType": "image/jpeg", "buffer": jpeg(320, 240)}
    await material(page, code).locator("input.scan-input").set_input_files(scan)
    await expect(material(page, code).locator("li.page")).to_have_count(before + 1)


async def received_with_pages(pages: Pages) -> str:
    """A case received by the agent over the API, a scan of each material stored."""
    agent = await _signed_in(pages.server, "agent")
    body = {
        "item": ITEM,
        "mode": "assisted",
        "applicant_name": "李四",
        "applicant_id": APPLICANT_ID,
    }
    number = (await _post(agent, BASE, body))[1]["number"]
    for code in (ID_CARD, HOUSEHOLD):
        async with agent[0].post(
            f"{BASE}/{number}/documents",
            params={"material": code, "source": "upload"},
            data=jpeg(320, 240),
            headers=agent[1],
        ) as resp:
            assert resp.status == 201, await resp.text()
    return number


def stored_pages(pages: Pages, number: str) -> list[dict]:
    return pages.server.app[K.DOCUMENTS].list(Actor("supervisor", "supervisor"), number)


def stored_size(pages: Pages, number: str, doc: dict) -> tuple[int, int] | None:
    folder = pages.server.app[K.RECORDER].root / "cases" / number
    return decodes((folder / doc["file"]).read_bytes())


async def test_agent_receives_reviewer_asks_for_more_agent_adds(pages: Pages) -> None:
    agent, number = await receive_case(pages)
    stored = stored_pages(pages, number)
    assert [(d["material"], d["page"], d["source"]) for d in stored] == [
        (ID_CARD, 1, "camera"),
        (HOUSEHOLD, 1, "upload"),
    ]
    # The camera still has the document camera's resolution, not the preview's.
    assert stored_size(pages, number, stored[0]) == (DOC_W, DOC_H)

    reviewer = await pages.sign_in(f"/case/{number}", "reviewer")
    await expect(reviewer.locator("#case-state")).to_have_text("已受理，待审核")
    await expect(reviewer.locator("[data-fact=applicant]")).to_have_text("王秀英")
    await expect(reviewer.locator("#id-number")).to_have_text("************" + APPLICANT_ID[-4:])
    await reviewer.click("#show-id")
    await expect(reviewer.locator("#id-number")).to_have_text(APPLICANT_ID)
    for code in (ID_CARD, HOUSEHOLD):
        await expect(material(reviewer, code).locator(".mat-state")).to_have_text("已收 1 页")
    await expect(material(reviewer, ID_CARD).locator("img.page-thumb")).to_have_js_property(
        "naturalWidth", DOC_W
    )
    await reviewer.click("#do-start")
    await expect(reviewer.locator("#case-state")).to_have_text("审核中")
    # The scan opened large (doc_viewer.js) and marked unreadable there.
    await material(reviewer, HOUSEHOLD).locator("a.page-link").click()
    viewer = reviewer.locator(".dv-overlay")
    await expect(viewer.locator("img.dv-image")).to_have_js_property("naturalWidth", 320)
    await viewer.locator('[data-act="rotate-right"]').click()
    await expect(viewer).to_have_attribute("data-rotate", "90")
    await viewer.locator('[data-act="mark"]').click()
    await viewer.locator("form.dv-mark textarea").fill("反光，看不清")
    await viewer.locator('[data-act="mark-confirm"]').click()
    await expect(viewer.locator(".dv-status")).to_have_text("已标记为不清晰：反光，看不清")
    await viewer.locator(".dv-close").click()
    await expect(material(reviewer, HOUSEHOLD).locator(".mat-state")).to_have_text(
        "不清晰，需重新提交"
    )
    await expect(material(reviewer, HOUSEHOLD).locator("li.page.unreadable")).to_have_count(1)
    await reviewer.click("#do-request")  # no reason: refused in plain words, nothing changed
    await expect(reviewer.locator("#case-message")).to_have_text("请填写理由，理由会告知申请人。")
    await expect(reviewer.locator("#case-state")).to_have_text("审核中")
    await reviewer.fill("#decision-reason", REASON)
    await reviewer.click("#do-request")
    await expect(reviewer.locator("#case-state")).to_have_text("需补正")
    await shot(reviewer, "async-reviewer-requested")

    # The agent's list, still open, flags the case with the reviewer's reason (pushed).
    row = agent.locator(f'#my-rows tr[data-case="{number}"]')
    await expect(row.locator(".flag")).to_have_text("需补正")
    await expect(row.locator(".asked")).to_have_text(REASON)
    await shot(agent, "async-agent-flagged")
    await row.locator("a.case-link").click()
    await agent.wait_for_url(f"**/case/{number}")
    await expect(agent.locator("#request-banner")).to_have_text(f"审批人员要求补正：{REASON}")
    await expect(agent.locator("#decision-panel")).to_have_count(0)  # no decisions here
    await expect(agent.locator("#show-id")).to_have_count(0)
    await agent.click("#cam-open")
    shoot = material(agent, HOUSEHOLD).locator("button.shoot")
    await expect(shoot).to_be_enabled()
    await shoot.click()
    await expect(material(agent, HOUSEHOLD).locator("li.page")).to_have_count(2)
    await agent.click("#do-resubmit")
    await expect(agent.locator("#case-state")).to_have_text("审核中")
    await expect(agent.locator("#request-banner")).to_be_hidden()

    # The reviewer sees the added page after the first, and the whole history.
    await reviewer.reload()
    await expect(reviewer.locator("#case-state")).to_have_text("审核中")
    pages_shown = material(reviewer, HOUSEHOLD).locator("li.page")
    await expect(pages_shown).to_have_count(2)
    assert [await p.get_attribute("data-page") for p in await pages_shown.all()] == ["1", "2"]
    history = reviewer.locator("#history-rows tr")
    await expect(history.filter(has_text=REASON)).to_have_count(1)
    types = [await r.get_attribute("data-type") for r in await history.all()]
    assert types == [
        "created",
        "document",
        "document",
        "state",
        "unreadable",
        "state",
        "document",
        "state",
    ]
    await shot(reviewer, "async-reviewer-resubmitted")


async def test_reviewer_approves_with_a_generated_pdf_and_the_agent_prints_it(
    pages: Pages,
) -> None:
    """Approval needs every material; the generated PDF holds the case number and a
    QR code of the verification page, which shows the SHA-256 of the PDF's bytes."""
    agent, number = await receive_case(pages, scan=False)
    reviewer = await pages.sign_in(f"/case/{number}", "reviewer")
    await expect(material(reviewer, HOUSEHOLD).locator(".mat-state")).to_have_text("缺少")
    await reviewer.click("#do-start")
    await expect(reviewer.locator("#case-state")).to_have_text("审核中")
    await reviewer.check('input[name="approval-source"][value="upload"]')
    await reviewer.click("#do-approve")  # no PDF chosen
    await expect(reviewer.locator("#case-message")).to_have_text("请先选择已签批的 PDF 文件。")
    await reviewer.check('input[name="approval-source"][value="generate"]')
    await reviewer.click("#do-approve")  # a material is missing: refused in plain words
    await expect(reviewer.locator("#case-message")).to_have_text(f"还缺材料，不能批准：{HOUSEHOLD}")
    await expect(reviewer.locator("#case-state")).to_have_text("审核中")

    # The agent adds the missing scan while the case is in review.
    await agent.goto(f"{pages.server.url}/case/{number}")
    await expect(agent.locator("#capture-panel")).to_be_visible()
    await expect(agent.locator("#do-resubmit")).to_be_hidden()
    await upload_scan(agent, HOUSEHOLD)

    await reviewer.reload()
    await expect(material(reviewer, HOUSEHOLD).locator(".mat-state")).to_have_text("已收 1 页")
    await reviewer.fill("#decision-reason", "材料齐全，准予登记。")
    await reviewer.click("#do-approve")
    await expect(reviewer.locator("#case-state")).to_have_text("已批准")
    await expect(reviewer.locator("#case-message")).to_have_text("已批准，批件已附上。")
    await expect(reviewer.locator("#approval-panel")).to_be_visible()
    await expect(reviewer.locator("#decision-panel")).to_be_hidden()
    shown_sha = (await reviewer.locator("#approval-sha").text_content() or "").strip()
    await shot(reviewer, "async-reviewer-approved")

    # The agent's case page, still open, shows the decision and the document (pushed).
    await expect(agent.locator("#case-state")).to_have_text("已批准")
    await expect(agent.locator("#approval-sha")).to_have_text(shown_sha)
    await expect(agent.locator("#capture-panel")).to_be_hidden()

    # The counter's list of approvals to print has it, with the PDF and the receipt.
    await agent.goto(f"{pages.server.url}/agent")
    row = agent.locator(f'#print-rows tr[data-case="{number}"]')
    await expect(row).to_be_visible()
    await expect(agent.locator(f'#my-rows tr[data-case="{number}"]')).to_have_count(0)
    await shot(agent, "async-agent-to-print")
    href = await row.locator("a.open-approval").get_attribute("href")
    receipt = await row.locator("a.open-receipt").get_attribute("href")
    assert receipt == f"/case/{number}/receipt"
    async with agent.expect_popup() as popup_info:
        await row.locator("a.open-approval").click()
    popup = await popup_info.value
    assert popup.url == pages.server.url + href
    response = await agent.context.request.get(pages.server.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = await response.body()
    await assert_printable_approval(pages, number, pdf, shown_sha)


async def assert_printable_approval(pages: Pages, number: str, pdf: bytes, shown: str) -> None:
    """The PDF opens and names the case; its QR code is the verification URL, whose
    public page shows the SHA-256 of exactly these bytes."""
    digest = hashlib.sha256(pdf).hexdigest()
    assert shown == digest  # the case page showed the same digest
    assert pdf_pages(pdf) >= 1 and number in pdf_text(pdf)
    url = pdf_qr(pdf)
    assert url.startswith(pages.server.url + "/verify/"), url
    public = await pages.open(url.removeprefix(pages.server.url))  # a fresh, anonymous context
    await expect(public.locator("#v-number")).to_have_text(number)
    await expect(public.locator("#v-sha256")).to_have_text(digest)
    await shot(public, "async-verify")


async def test_a_supervisor_reads_and_an_english_reviewer_uploads_the_approval(
    pages: Pages,
) -> None:
    number = await received_with_pages(pages)
    supervisor = await pages.sign_in(f"/case/{number}", "supervisor")
    await expect(supervisor.locator("#case-state")).to_have_text("已受理，待审核")
    await expect(material(supervisor, ID_CARD).locator("li.page")).to_have_count(1)
    await expect(supervisor.locator("#history-rows tr")).to_have_count(3)
    for absent in ("#decision-panel", "#capture-panel", "#show-id", "#receipt-link"):
        await expect(supervisor.locator(absent)).to_have_count(0)

    reviewer = await pages.sign_in(
        f"/case/{number}", "reviewer", init_script='localStorage.setItem("rw_lang", "en");'
    )
    await expect(reviewer.locator("#case-state")).to_have_text("Received, awaiting review")
    await reviewer.click("#do-start")
    await expect(reviewer.locator("#case-state")).to_have_text("In review")
    await reviewer.click("#do-reject")  # no reasons
    await expect(reviewer.locator("#case-message")).to_have_text(
        "Write the reasons; they go to the applicant."
    )
    await reviewer.check('input[name="approval-source"][value="upload"]')
    # A JPEG named .pdf: refused by its content, in plain words, nothing decided.
    fake = {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": jpeg(64, 48)}
    await reviewer.locator("#approval-file").set_input_files(fake)
    await reviewer.click("#do-approve")
    await expect(reviewer.locator("#case-message")).to_have_text(
        "The approval document must be a PDF (checked by its content, not its name)."
    )
    await expect(reviewer.locator("#case-state")).to_have_text("In review")
    await reviewer.locator("#approval-file").set_input_files(
        {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": SIGNED_PDF}
    )
    await reviewer.click("#do-approve")
    await expect(reviewer.locator("#case-state")).to_have_text("Approved")
    await expect(reviewer.locator("#approval-sha")).to_have_text(
        hashlib.sha256(SIGNED_PDF).hexdigest()
    )
    # Switching language re-words the page without a reload.
    await reviewer.click("[data-lang-switch]")
    await expect(reviewer.locator("#case-state")).to_have_text("已批准")
    await expect(reviewer.locator("#history-rows tr").last).to_contain_text("审核中 → 已批准")


async def test_the_recordings_list_links_the_case_page(pages: Pages) -> None:
    """A recorded video session linked to a register case: /cases links its case page."""
    number = await received_with_pages(pages)
    folder = await record_session(pages.server, frames=30)
    reviewer = Actor("reviewer", "reviewer", place="QH-COUNTY", items=("RSJ-001",))
    await asyncio.to_thread(pages.server.app[K.CASES].link_session, reviewer, number, folder.name)
    page = await pages.sign_in("/cases", "supervisor")
    link = page.locator(f'tr[data-session="{folder.name}"] a.case-file-link')
    await expect(link).to_have_text(f"办件 {number}")
    await link.click()
    await page.wait_for_url(f"**/case/{number}")
    await expect(page.locator("#case-state")).to_have_text("已受理，待审核")
    await expect(page.locator('#history-rows tr[data-type="session"]')).to_contain_text(folder.name)
