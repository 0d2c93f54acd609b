"""The approval document: the generated PDF (text, QR code, long reasons), the
verification codes, and the document in the signed case file under verify."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from recording.case_folder import CaseFolder
from recording.keys import ArchiveSigner
from recording.verify import main
from server.register.approval_pdf import ApprovalFields, render_approval, wrap
from server.register.verify_codes import KEY_FILE, VerifyCodes
from tests.unit.doc_images import jpeg
from tests.unit.pdf_tools import pdf_pages, pdf_qr, pdf_text

URL = "https://window.example.gov.cn/verify/QH-2026-000123-abcdefghijklmnopqrstuvwx"
FIELDS = ApprovalFields(
    number="QH-2026-000123",
    item_name="个体工商户设立登记",
    item_code="SCJG-001",
    department="县市场监督管理局",
    place_name="柳林镇东村便民代办点（东村超市）",
    applicant_name="王秀英",
    applicant_id="************004X",
    received_on=date(2026, 11, 30),
    decided_on=date(2026, 12, 3),
    reasons="材料齐全，符合法定条件。",
    verify_url=URL,
)


def test_the_generated_pdf_says_what_was_decided_and_links_its_verification() -> None:
    pdf = render_approval(FIELDS)
    assert pdf.startswith(b"%PDF-") and pdf_pages(pdf) == 1
    text = pdf_text(pdf)
    for shown in (
        "办理结果通知书",
        "QH-2026-000123",
        "个体工商户设立登记",
        "SCJG-001",
        "县市场监督管理局",
        "柳林镇东村便民代办点（东村超市）",
        "王秀英",
        "************004X",
        "准予办理",
        "材料齐全，符合法定条件。",
        "2026年11月30日",
        "2026年12月3日",
        URL,
    ):
        assert shown in text, shown
    assert pdf_qr(pdf) == URL


def test_long_reasons_run_onto_more_pages_each_with_the_qr_code() -> None:
    reasons = "经审查，申请材料齐全、符合法定形式，经营场所使用证明真实有效。" * 40
    pdf = render_approval(replace(FIELDS, reasons=reasons))
    pages = pdf_pages(pdf)
    assert pages >= 2
    assert pdf_text(pdf).replace("\n", "").count("经营场所使用证明真实有效") == 40
    assert [pdf_qr(pdf, page) for page in range(1, pages + 1)] == [URL] * pages


def test_lines_break_anywhere_but_before_closing_punctuation() -> None:
    lines = wrap("一二三四，五六", "STSong-Light", 10, 40)  # 4 characters to a line
    assert lines == ["一二三四，", "五六"]
    assert wrap("甲\n乙", "STSong-Light", 10, 100) == ["甲", "乙"]


def test_verification_codes_are_stable_keyed_and_checked(tmp_path: Path) -> None:
    codes = VerifyCodes.load_or_create(tmp_path)
    code = codes.code("QH-2026-000123")
    assert code.startswith("QH-2026-000123-") and len(code) == len("QH-2026-000123-") + 24
    assert VerifyCodes.load_or_create(tmp_path).code("QH-2026-000123") == code  # same key
    assert (tmp_path / "keys" / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert codes.number_of(code) == "QH-2026-000123"
    assert codes.code("QH-2026-000124")[-24:] != code[-24:]
    other = VerifyCodes.load_or_create(tmp_path / "elsewhere")
    assert other.code("QH-2026-000123") != code and other.number_of(code) is None
    changed = code[:-1] + ("b" if code[-1] == "a" else "a")
    for bad in ("QH-2026-000123", changed, code.upper(), f"{code}-x", "../" + code, ""):
        assert codes.number_of(bad) is None, bad
    assert codes.number_of("QH-2026-000124" + code[len("QH-2026-000123") :]) is None


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, ArchiveSigner]:
    data = tmp_path / "data"
    return data / "archive", ArchiveSigner.load_or_create(data)


def test_the_approval_document_is_chained_signed_and_verified(
    signed: tuple[Path, ArchiveSigner], capsys: pytest.CaptureFixture[str]
) -> None:
    root, signer = signed
    case = CaseFolder(root, FIELDS.number)
    case.store(1, "jpg", jpeg(), "agent:li", {"material": "身份证明", "page": 1}, signer)
    pdf = render_approval(FIELDS)
    rel, digest = case.store_approval(pdf, "reviewer:wang", {"source": "generated"}, signer)
    assert rel == "approval/approval-1.pdf" and (case.folder / rel).read_bytes() == pdf
    assert (case.folder / rel).stat().st_mode & 0o777 == 0o600
    manifest = json.loads((case.folder / "manifest.json").read_text())
    assert {"path": rel, "size": len(pdf), "sha256": digest} in manifest["files"]
    assert main([str(root)]) == 0
    assert capsys.readouterr().out == "OK 0 session(s) verified, 1 case file(s)\n"

    # A second document never takes the first one's name.
    second, _ = case.store_approval(b"%PDF-1.4 x", "reviewer:wang", {"source": "upload"}, signer)
    assert second == "approval/approval-2.pdf" and main([str(root)]) == 0
    capsys.readouterr()

    # One changed byte of the document, or a document swapped in: BROKEN, named.
    data = bytearray(pdf)
    data[len(data) // 2] ^= 0x01
    (case.folder / rel).write_bytes(bytes(data))
    assert main([str(root)]) == 1
    out = capsys.readouterr().out
    assert out == f"BROKEN: {case.folder}: {rel}: sha256 does not match the manifest\n"
    (case.folder / rel).write_bytes(pdf)
    (case.folder / "approval" / "approval-3.pdf").write_bytes(pdf)
    assert main([str(root)]) == 1
    assert "approval/approval-3.pdf: not in the manifest" in capsys.readouterr().out
