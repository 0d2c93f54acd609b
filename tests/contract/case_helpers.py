"""Shared pieces of the case contract tests: a service on a register, a clock,
valid ID numbers, the actors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from recording.audit import SystemAuditLog
from recording.keys import ArchiveSigner
from server.catalogue import load_catalogue
from server.register.approvals import ApprovalService
from server.register.calendar import load_calendar
from server.register.case_types import Actor
from server.register.cases import CaseService
from server.register.db import Register
from server.register.documents import DocumentService
from server.register.sealing import IdSealer
from server.register.verify_codes import VerifyCodes

AGENT = Actor("agent", "agent", place="QH-LL-DC")
OTHER_AGENT = Actor("agent2", "agent", place="QH-CG")
REVIEWER = Actor("reviewer", "reviewer", place="QH-COUNTY", items=("SCJG-001", "RSJ-001"))
CITY = Actor("city", "reviewer", place="JZ-CITY", items=("RSJ-002",))
SUPERVISOR = Actor("supervisor", "supervisor")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(body17: str = "11010519491231002") -> str:
    """A resident ID number with a correct check digit."""
    total = sum(int(c) * w for c, w in zip(body17, _WEIGHTS, strict=True))
    return body17 + "10X98765432"[total % 11]


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 9, 30, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Cases:
    service: CaseService
    clock: Clock
    audit: SystemAuditLog
    documents: DocumentService
    approvals: ApprovalService

    def approve(self, actor: Actor, number: str, reasons: str = "") -> Any:
        """Approve the way the desk does: with a generated approval document."""
        return self.approvals.approve(
            actor, number, reasons=reasons, pdf=None, base_url="https://window.example.gov.cn"
        )

    def add_pages(self, number: str, actor: Actor = AGENT) -> None:
        """One readable page (a small PDF) for every checklist material: approvable."""
        for code in self.service.get(actor, number).materials:
            self.documents.add(actor, number, code, b"%PDF-1.4 page")

    def events(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for f in sorted(self.audit.folder.glob("*.jsonl"))
            for line in f.read_text().splitlines()
        ]

    def create(self, actor: Actor = AGENT, **kwargs: Any) -> Any:
        values = {
            "item": "SCJG-001",
            "mode": "assisted",
            "applicant_name": "张三",
            "applicant_id": id_number(),
        }
        values.update(kwargs)
        return self.service.create(actor, **values)


def make_cases(register: Register, tmp: Path) -> Cases:
    clock = Clock()
    audit = SystemAuditLog(tmp / "archive", clock=clock)
    sealer = IdSealer.load_or_create(tmp)
    service = CaseService(register, load_catalogue(), load_calendar(), sealer, audit.append, clock)
    signer = ArchiveSigner.load_or_create(tmp)
    documents = DocumentService(service, tmp / "archive", lambda: signer, 1024 * 1024)
    approvals = ApprovalService(documents, VerifyCodes.load_or_create(tmp))
    return Cases(service, clock, audit, documents, approvals)


@pytest.fixture
def cases(register: Register, tmp_path: Path) -> Iterator[Cases]:
    """A case service (with its documents and audit) on the test's register."""
    made = make_cases(register, tmp_path)
    try:
        yield made
    finally:
        made.audit.close()
