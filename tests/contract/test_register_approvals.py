"""The approval (回传批件) contract, on SQLite and a real PostgreSQL alike: one step,
one winner among concurrent approvals, nothing written by a refusal."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from recording.keys import load_public_key
from recording.verify import verify_path
from server.register.approvals import ApprovalService
from server.register.case_types import InvalidTransition, MaterialsMissing
from server.register.verify_codes import VerifyCodes
from tests.contract.case_helpers import REVIEWER, SUPERVISOR, Cases
from tests.unit.pdf_tools import pdf_text

BASE_URL = "https://window.example.gov.cn"


@pytest.fixture
def approvals(cases: Cases, tmp_path: Path) -> ApprovalService:
    return ApprovalService(cases.documents, VerifyCodes.load_or_create(tmp_path))


def _verified(tmp_path: Path, number: str) -> None:
    key = load_public_key(tmp_path / "keys" / "archive_ed25519.pub.pem")
    [result] = verify_path(tmp_path / "archive" / "cases" / number, key)
    assert result.ok, result.problem


def test_an_approval_issues_its_document_in_the_same_step(
    cases: Cases, approvals: ApprovalService, tmp_path: Path
) -> None:
    number = cases.create().number
    cases.service.transition(REVIEWER, number, "in_review")
    with pytest.raises(MaterialsMissing):
        approvals.approve(REVIEWER, number, reasons="", pdf=None, base_url=BASE_URL)
    assert not (tmp_path / "archive" / "cases" / number / "approval").exists()
    cases.add_pages(number)

    case = approvals.approve(REVIEWER, number, reasons="符合条件", pdf=None, base_url=BASE_URL)
    assert case.state == "approved" and case.approval is not None
    stored = approvals.file(SUPERVISOR, number)
    data = stored.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == case.approval["sha256"] == stored.sha256
    assert number in pdf_text(data) and approvals.verify_url(BASE_URL, number) in pdf_text(data)
    public = approvals.public(approvals.codes.code(number))
    assert public is not None
    assert (public["number"], public["decision"], public["sha256"]) == (
        number,
        "approved",
        stored.sha256,
    )
    types = [h["type"] for h in case.history]
    assert types[-2:] == ["approval", "state"]
    events = [e["type"] for e in cases.events()]
    assert events[-2:] == ["case.approval", "case.state"]
    _verified(tmp_path, number)


def test_concurrent_approvals_of_one_case_one_wins(
    cases: Cases, approvals: ApprovalService, tmp_path: Path
) -> None:
    number = cases.create().number
    cases.service.transition(REVIEWER, number, "in_review")
    cases.add_pages(number)

    def approve(n: int) -> str:
        pdf = None if n % 2 else b"%PDF-1.4 uploaded " + str(n).encode()
        try:
            approvals.approve(REVIEWER, number, reasons=str(n), pdf=pdf, base_url=BASE_URL)
        except InvalidTransition:
            return "refused"
        return "approved"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(approve, range(8)))
    assert outcomes.count("approved") == 1
    folder = tmp_path / "archive" / "cases" / number / "approval"
    assert [p.name for p in folder.iterdir()] == ["approval-1.pdf"]
    case = cases.service.get(SUPERVISOR, number)
    assert case.approval is not None and case.approval["file"] == "approval/approval-1.pdf"
    digest = hashlib.sha256((folder / "approval-1.pdf").read_bytes()).hexdigest()
    assert case.approval["sha256"] == digest
    assert [h["type"] for h in case.history].count("approval") == 1
    _verified(tmp_path, number)
