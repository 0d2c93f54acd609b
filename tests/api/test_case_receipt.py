"""The printable receipt (受理回执) on a real server: what it shows, its QR code, who sees it."""

from __future__ import annotations

import re

from server import appkeys as K
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.api.test_case_documents import MATERIALS, _upload
from tests.conftest import PASSWORD, RunningServer
from tests.unit.doc_images import jpeg
from tests.unit.pdf_tools import svg_qr

HTML = {"Accept": "text/html"}


async def _page(caller: tuple, path: str) -> tuple[int, str, str]:
    async with caller[0].get(path, headers=HTML, allow_redirects=False) as resp:
        return resp.status, resp.content_type, await resp.text()


def _by_id(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, element_id
    return found.group(1).strip()


async def test_the_receipt_shows_the_case_and_a_qr_code_of_its_verification_page(
    running: RunningServer,
) -> None:
    agent = await _signed_in(running, "agent")
    case = (await _post(agent, BASE, NEW))[1]
    number = case["number"]
    assert (await _upload(agent, number, MATERIALS[0], jpeg()))[0] == 201
    assert (await _upload(agent, number, MATERIALS[0], jpeg()))[0] == 201
    assert (await _upload(agent, number, MATERIALS[2], jpeg()))[0] == 201

    status, ctype, html = await _page(agent, f"/case/{number}/receipt")
    assert (status, ctype) == (200, "text/html")
    assert _by_id(html, "r-number") == number
    assert _by_id(html, "r-item") == "个体工商户设立登记（SCJG-001）"
    assert _by_id(html, "r-place") == "柳林镇东村便民代办点（东村超市）"
    assert _by_id(html, "r-applicant") == "李四"
    assert _by_id(html, "r-id") == "************" + NEW["applicant_id"][-4:]
    assert NEW["applicant_id"] not in html
    assert _by_id(html, "r-deadline").startswith(case["deadline"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", _by_id(html, "r-received"))
    assert _by_id(html, "r-state") == "受理中"
    rows = re.findall(r'data-material="([^"]+)" data-captured="(yes|no)"', html)
    assert rows == [(MATERIALS[0], "yes"), (MATERIALS[1], "no"), (MATERIALS[2], "yes")]
    assert "已收取（2 页）" in html and "未收取" in html and 'id="r-missing-note"' in html
    assert 'id="print"' in html and "/static/receipt.js" in html and "/static/receipt.css" in html

    qr = re.search(r'<div class="qr-box" id="r-qr">(<svg.*?</svg>)</div>', html, re.S)
    assert qr, "no inline SVG QR code"
    assert svg_qr(qr.group(1)) == case["verify_url"] == _by_id(html, "r-verify-url")

    # The reviewer of the item prints the same receipt; once approved, nothing is missing.
    reviewer = await _signed_in(running, "reviewer")
    assert (await _upload(reviewer, number, MATERIALS[1], jpeg()))[0] == 201
    assert (await _post(reviewer, f"{BASE}/{number}/transition", {"to": "in_review"}))[0] == 200
    assert (await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": ""}))[0] == 200
    status, _, html = await _page(reviewer, f"/case/{number}/receipt")
    assert status == 200 and _by_id(html, "r-state") == "准予办理"
    assert 'id="r-missing-note"' not in html


async def test_the_receipt_is_for_the_agent_of_the_place_and_the_reviewer_of_the_item(
    running: RunningServer,
) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    for username in ("agent-cg", "city", "supervisor", "admin"):
        caller = await _signed_in(running, username)
        status, ctype, html = await _page(caller, f"/case/{number}/receipt")
        assert (status, ctype) == (403, "text/html"), username
        assert "无权打开此页面" in html and "李四" not in html and number not in html
    anon, _ = await running.http()
    status, _, _ = await _page((anon, {}), f"/case/{number}/receipt")
    assert status == 302  # to the sign-in page
    status, _, html = await _page(agent, "/case/QH-2026-999999/receipt")
    assert status == 404 and "没有找到这个办件" in html
