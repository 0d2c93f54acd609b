"""The approval document (回传批件) on a real server: generated or uploaded in the
approving step, audited downloads, the public verification page and its code,
refusals that write nothing, and verify catching a changed document."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from recording.verify import main as verify_main
from server import appkeys as K
from server.config import Config
from server.register.case_types import Actor
from tests.api.test_case_api import BASE, NEW, _get, _post, _signed_in
from tests.api.test_case_documents import MATERIALS, _case_dir, _stored, _upload
from tests.conftest import PASSWORD, RunningServer, make_config
from tests.unit.doc_images import jpeg
from tests.unit.pdf_tools import pdf_qr, pdf_text

Caller = tuple[aiohttp.ClientSession, dict]
LIMIT = 64 * 1024
UPLOADED = b"%PDF-1.4\n% a scanned, signed and sealed approval\n%%EOF\n"
VERIFY_KEYS = {"number", "item", "item_name", "state", "decision", "sha256"}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "data", cases={"max_document_bytes": LIMIT})


async def _ready_case(running: RunningServer, *, review: bool = True) -> str:
    """A case received by the agent with a page of every material, in review."""
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    for material in MATERIALS:
        assert (await _upload(agent, number, material, jpeg()))[0] == 201
    if review:
        reviewer = await _signed_in(running, "reviewer")
        path = f"{BASE}/{number}/transition"
        assert (await _post(reviewer, path, {"to": "in_review"}))[0] == 200
    return number


async def _approve_pdf(
    caller: Caller, number: str, data: bytes, reasons: str = "", ctype: str = "application/pdf"
) -> tuple[int, dict]:
    session, headers = caller
    path = f"{BASE}/{number}/approval?reasons={quote(reasons)}"
    headers = {**headers, "Content-Type": ctype}
    async with session.post(path, data=io.BytesIO(data), headers=headers) as resp:
        return resp.status, await resp.json()


async def _fetch(caller: Caller, path: str) -> tuple[int, bytes, str]:
    async with caller[0].get(path) as resp:
        return resp.status, await resp.read(), resp.content_type


def _chain(running: RunningServer, number: str) -> list[dict]:
    lines = (_case_dir(running, number) / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _register_approval(running: RunningServer, number: str) -> dict | None:
    return running.app[K.CASES].get(Actor("supervisor", "supervisor"), number).approval


async def test_a_generated_approval_holds_the_case_and_its_qr_verifies_it(
    running: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    number = await _ready_case(running)
    reviewer = await _signed_in(running, "reviewer")
    agent = await _signed_in(running, "agent")
    status, case = await _get(agent, f"{BASE}/{number}")
    assert case["approval"] is None and case["verify_url"].startswith(running.url + "/verify/")

    status, case = await _post(
        reviewer, f"{BASE}/{number}/approval", {"reasons": "材料齐全，符合条件"}
    )
    assert status == 200, case
    assert case["state"] == "approved" and case["decision"]["reasons"] == "材料齐全，符合条件"
    approval = case["approval"]
    assert approval["file"] == "approval/approval-1.pdf" and approval["source"] == "generated"
    assert approval["verify_url"] == case["verify_url"]
    code = approval["verify_url"].rsplit("/", 1)[1]
    assert code != number and code.startswith(number + "-") and len(code) > len(number) + 20

    # The agent prints what it downloads: the bytes whose digest the register holds.
    status, pdf, ctype = await _fetch(agent, f"{BASE}/{number}/approval")
    assert status == 200 and ctype == "application/pdf" and pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == approval["sha256"]
    text = pdf_text(pdf)
    for shown in (number, "办理结果通知书", "个体工商户设立登记", "县市场监督管理局", "李四"):
        assert shown in text, shown
    assert "************" + NEW["applicant_id"][-4:] in text and NEW["applicant_id"] not in text
    assert "材料齐全，符合条件" in text and approval["verify_url"] in text
    assert pdf_qr(pdf) == approval["verify_url"]

    # Whoever scans it, signed in or not, sees the same digest and nothing about the applicant.
    anon, _ = await running.http()
    async with anon.get(approval["verify_url"].removeprefix(running.url)) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        page = await resp.text()
    assert approval["sha256"] in page and number in page and "准予办理" in page
    assert "个体工商户设立登记" in page
    assert "李四" not in page and NEW["applicant_id"][-4:] not in page.replace(
        approval["sha256"], ""
    )
    async with anon.get(f"/api/verify/{code}") as resp:
        public = await resp.json()
    assert set(public) == VERIFY_KEYS
    assert (public["number"], public["decision"], public["sha256"]) == (
        number,
        "approved",
        approval["sha256"],
    )

    # The case folder chains and signs the document; the download is audited.
    chain = _chain(running, number)
    stored = [e for e in chain if e["type"] == "approval.stored"]
    assert [e["data"]["sha256"] for e in stored] == [approval["sha256"]]
    assert chain[-1]["type"] == "access.downloaded"
    assert chain[-1]["data"]["file"] == "approval/approval-1.pdf"
    manifest = json.loads((_case_dir(running, number) / "manifest.json").read_text())
    assert {"path": "approval/approval-1.pdf", "size": len(pdf), "sha256": approval["sha256"]} in (
        manifest["files"]
    )
    events = await running.system_events()
    downloads = [e for e in events if e["type"] == "access.downloaded"]
    assert downloads[-1]["data"]["file"] == "approval/approval-1.pdf"
    assert downloads[-1]["actor"] == "agent"
    assert "case.approval" in [e["type"] for e in events]
    root = running.app[K.RECORDER].root
    assert verify_main([str(root)]) == 0

    # A changed byte in the issued document: verify names it.
    path = _case_dir(running, number) / approval["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    capsys.readouterr()
    assert verify_main([str(root)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN: ") and "approval/approval-1.pdf: sha256 does not match" in out


async def test_an_uploaded_approval_is_stored_as_it_is(running: RunningServer) -> None:
    number = await _ready_case(running)
    reviewer = await _signed_in(running, "reviewer")
    status, case = await _approve_pdf(reviewer, number, UPLOADED, reasons="经审查，准予登记")
    assert status == 200, case
    approval = case["approval"]
    assert approval["source"] == "uploaded" and case["decision"]["reasons"] == "经审查，准予登记"
    assert approval["sha256"] == hashlib.sha256(UPLOADED).hexdigest()
    supervisor = await _signed_in(running, "supervisor")
    assert (await _fetch(supervisor, f"{BASE}/{number}/approval"))[:2] == (200, UPLOADED)
    status, again = await _get(reviewer, f"{BASE}/{number}")
    assert again["approval"] == approval
    code = approval["verify_url"].rsplit("/", 1)[1]
    anon, _ = await running.http()
    async with anon.get(f"/api/verify/{code}") as resp:
        assert (await resp.json())["sha256"] == approval["sha256"]
    assert verify_main([str(_case_dir(running, number))]) == 0


async def test_refused_approvals_write_nothing(running: RunningServer) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    received = await _ready_case(running, review=False)
    ready = await _ready_case(running)
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    city = await _signed_in(running, "city")
    supervisor = await _signed_in(running, "supervisor")
    other_agent = await _signed_in(running, "agent-cg")
    short = (await _post(agent, BASE, NEW))[1]["number"]
    assert (await _upload(agent, short, MATERIALS[0], jpeg()))[0] == 201
    assert (await _post(reviewer, f"{BASE}/{short}/transition", {"to": "in_review"}))[0] == 200
    cases = (received, ready, short)
    before = {n: (_stored(running, n), (await _get(reviewer, f"{BASE}/{n}"))[1]) for n in cases}

    json_refusals = [
        (reviewer, received, {"reasons": "ok"}, 409, "wrong_state"),
        (reviewer, short, {"reasons": "ok"}, 409, "materials_missing"),
        (city, ready, {"reasons": "ok"}, 403, "forbidden"),
        (reviewer, ready, {"reasons": 7}, 400, "invalid"),
        (reviewer, ready, ["not", "an", "object"], 400, "invalid"),
        (reviewer, ready, {"reasons": "长" * 2001}, 400, "too_long"),
    ]
    for caller, number, body, status, code in json_refusals:
        got, answer = await _post(caller, f"{BASE}/{number}/approval", body)
        assert (got, answer.get("code")) == (status, code), (number, body, answer)
    got, answer = await _post(reviewer, f"{BASE}/{short}/approval", {"reasons": "ok"})
    assert answer["missing"] == MATERIALS[1:]
    for caller in (agent, supervisor):  # not reviewers: refused by role
        assert (await _post(caller, f"{BASE}/{ready}/approval", {"reasons": "ok"}))[0] == 403
    upload_refusals = [
        (b"GIF89a not a decision", "application/pdf", 415, "wrong_type"),
        (b"<html>%PDF-1.4", "application/pdf", 415, "wrong_type"),
        (jpeg(), "image/jpeg", 415, "wrong_type"),
        (b"%PDF-1.4 " + b"x" * LIMIT, "application/pdf", 413, "too_large"),
    ]
    for data, ctype, status, code in upload_refusals:
        got, answer = await _approve_pdf(reviewer, ready, data, ctype=ctype)
        assert (got, answer.get("code")) == (status, code), (ctype, answer)
    assert (await _approve_pdf(reviewer, received, UPLOADED))[1]["code"] == "wrong_state"
    assert (await _approve_pdf(city, ready, UPLOADED))[0] == 403
    assert (await _post(reviewer, f"{BASE}/QH-2026-999999/approval", {"reasons": "x"}))[0] == 404

    for number in cases:
        stored, case = before[number]
        assert _stored(running, number) == stored, number
        assert (await _get(reviewer, f"{BASE}/{number}"))[1] == case
        assert not (_case_dir(running, number) / "approval").exists()
        assert _register_approval(running, number) is None
        assert (await _get(reviewer, f"{BASE}/{number}/approval"))[1]["code"] == "not_found"
    assert not _case_dir(running, "QH-2026-999999").exists()
    types = [e["type"] for e in await running.system_events()]
    assert "case.approval" not in types and "access.downloaded" not in types

    # Approved once: a second approval is a wrong state and changes nothing.
    status, done = await _post(reviewer, f"{BASE}/{ready}/approval", {"reasons": "ok"})
    assert status == 200
    stored = _stored(running, ready)
    assert (await _post(reviewer, f"{BASE}/{ready}/approval", {}))[1]["code"] == "wrong_state"
    assert (await _approve_pdf(reviewer, ready, UPLOADED))[1]["code"] == "wrong_state"
    assert _stored(running, ready) == stored
    assert (await _get(reviewer, f"{BASE}/{ready}"))[1]["approval"] == done["approval"]
    # Reading the document: the case's readers only.
    assert (await _fetch(other_agent, f"{BASE}/{ready}/approval"))[0] == 403
    assert (await _fetch(city, f"{BASE}/{ready}/approval"))[0] == 403
    assert (await _fetch(agent, f"{BASE}/{ready}/approval"))[0] == 200


async def test_a_rejection_needs_reasons_and_verifies_without_a_document(
    running: RunningServer,
) -> None:
    number = await _ready_case(running)
    reviewer = await _signed_in(running, "reviewer")
    path = f"{BASE}/{number}/transition"
    status, body = await _post(reviewer, path, {"to": "rejected"})
    assert status == 400 and (body["field"], body["code"]) == ("reason", "required")
    assert (await _post(reviewer, path, {"to": "rejected", "reason": "  "}))[0] == 400
    status, case = await _post(reviewer, path, {"to": "rejected", "reason": "经营场所不符合要求"})
    assert status == 200 and case["state"] == "rejected" and case["approval"] is None
    code = case["verify_url"].rsplit("/", 1)[1]
    anon, _ = await running.http()
    async with anon.get(f"/api/verify/{code}") as resp:
        public = await resp.json()
    assert (public["decision"], public["sha256"]) == ("rejected", None)
    async with anon.get(f"/verify/{code}") as resp:
        page = await resp.text()
    assert "不予办理" in page and "尚未出具批件" in page and "经营场所" not in page


async def test_verification_codes_cannot_be_guessed(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    case = (await _post(agent, BASE, NEW))[1]
    number, code = case["number"], case["verify_url"].rsplit("/", 1)[1]
    anon, _ = await running.http()
    async with anon.get(f"/api/verify/{code}") as resp:
        public = await resp.json()
    assert public["state"] == "received" and public["decision"] is None
    async with anon.get(f"/verify/{code}") as resp:
        assert resp.status == 200 and "受理中" in await resp.text()
    forged = code[:-1] + ("a" if code[-1] != "a" else "b")
    for bad in (number, forged, code.upper(), code + "a", "x", "QH-2026-999999-" + code[-24:]):
        async with anon.get(f"/api/verify/{quote(bad)}") as resp:
            assert resp.status == 404 and (await resp.json())["error"] == "not_found", bad
        async with anon.get(f"/verify/{quote(bad)}", headers={"Accept": "text/html"}) as resp:
            assert resp.status == 404 and resp.content_type == "text/html"
            page = await resp.text()
        assert "没有找到这个核验码" in page and number not in page
    # Stable: the same code on every read, and after a restart (the key is in keys/).
    assert (await _get(agent, f"{BASE}/{number}"))[1]["verify_url"].endswith(code)
    assert running.app[K.APPROVALS].codes.code(number) == code
    assert re.fullmatch(
        r"[A-Za-z0-9+/=]+\n",
        (running.app[K.CONFIG].data_dir / "keys" / "verify_code.key").read_text(),
    )


async def test_links_start_at_the_configured_public_url(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    from tests.conftest import start_server

    cfg = make_config(
        tmp_path / "pub",
        server={"public_url": "https://window.example.gov.cn/"},
        cases={"max_document_bytes": LIMIT},
    )
    srv = await start_server(cfg, accounts_template)
    try:
        number = await _ready_case(srv)
        reviewer = await _signed_in(srv, "reviewer")
        status, case = await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": ""})
        assert status == 200, case
        url = case["approval"]["verify_url"]
        assert url.startswith("https://window.example.gov.cn/verify/" + number + "-")
        pdf = (await _fetch(reviewer, f"{BASE}/{number}/approval"))[1]
        assert pdf_qr(pdf) == url and url in pdf_text(pdf)
    finally:
        await srv.close()
