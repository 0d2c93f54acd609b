"""The case register contract, on SQLite and a real PostgreSQL alike."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from recording.keys import load_public_key
from recording.verify import verify_path
from server.register.case_types import (
    CaseError,
    CaseForbidden,
    CaseNotFound,
    InvalidTransition,
    MaterialsMissing,
    UseApproval,
)
from server.register.db import Register
from server.register.models import CaseEvent, CaseIdentity, CaseRow
from tests.contract.case_helpers import (
    AGENT,
    CITY,
    OTHER_AGENT,
    REVIEWER,
    SUPERVISOR,
    Cases,
    id_number,
)


def _rows(register: Register) -> tuple[int, int]:
    with register.read() as s:
        return (
            s.scalar(select(func.count()).select_from(CaseRow)) or 0,
            s.scalar(select(func.count()).select_from(CaseEvent)) or 0,
        )


def test_numbers_run_per_county_and_year(cases: Cases) -> None:
    first = cases.create()
    second = cases.create()
    city = cases.create(CITY, item="RSJ-002", mode="video", place="JZ-CITY")
    assert (first.number, second.number) == ("QH-2026-000001", "QH-2026-000002")
    assert city.number == "JZ-2026-000001"
    cases.clock.now = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    assert cases.create().number == "QH-2027-000001"


def test_a_new_case_is_received_with_its_checklist_and_deadline(cases: Cases) -> None:
    case = cases.create()
    assert case.state == "received" and case.summary.place == "QH-LL-DC"
    assert case.summary.department == "县市场监督管理局"
    assert set(case.materials) == {"经营者身份证明", "经营场所使用证明", "个体工商户登记申请书"}
    assert set(case.materials.values()) == {"missing"}
    # Received Wed 30 Sep 2026; 3 working days: 1-7 Oct is the National Day holiday,
    # Thu 8 and Fri 9 count, and Sat 10 Oct is a make-up working day (调休).
    assert case.summary.deadline == date(2026, 10, 10)
    assert case.summary.remaining_working_days == 3
    assert [h["type"] for h in case.history] == ["created"]
    [event] = cases.events()
    assert event["type"] == "case.created" and event["actor"] == "agent:agent"
    assert event["data"] == {
        "case": case.number,
        "mode": "assisted",
        "from": None,
        "to": "received",
    }


def test_the_id_number_is_masked_everywhere_but_for_the_reviewer(cases: Cases) -> None:
    full = id_number("32010219800101123")
    case = cases.create(applicant_id=full.lower())
    assert case.summary.applicant_id == "************" + full[-4:]
    listed = cases.service.list_cases(SUPERVISOR)
    text = json.dumps([c.to_json() for c in listed]) + json.dumps(case.to_json())
    assert full not in text and full[:14] not in text
    assert full not in json.dumps(cases.events())
    assert cases.service.id_number(REVIEWER, case.number) == full
    for someone in (AGENT, SUPERVISOR, CITY):
        with pytest.raises(CaseForbidden):
            cases.service.id_number(someone, case.number)
    with cases.service.register.read() as s:
        stored = s.scalar(select(CaseIdentity.id_number))
    assert stored.startswith("v1:") and full not in stored  # sealed at rest
    assert cases.events()[-1]["type"] == "case.id_number_viewed"


def test_the_state_machine_and_its_history(cases: Cases) -> None:
    number = cases.create().number
    svc = cases.service
    svc.transition(REVIEWER, number, "in_review")
    svc.transition(REVIEWER, number, "more_materials_requested", "营业执照复印件不清晰")
    svc.transition(AGENT, number, "in_review", "补齐材料")
    cases.add_pages(number)
    done = cases.approve(REVIEWER, number, "材料齐全，符合条件")
    assert done.state == "approved" and done.decided_by == "reviewer:reviewer"
    assert done.decision_reasons == "材料齐全，符合条件"
    assert done.summary.remaining_working_days is None and done.summary.decided_at
    assert done.approval and done.approval["sha256"]
    states = [(h["from"], h["to"]) for h in done.history if h["type"] in ("created", "state")]
    assert states == [
        (None, "received"),
        ("received", "in_review"),
        ("in_review", "more_materials_requested"),
        ("more_materials_requested", "in_review"),
        ("in_review", "approved"),
    ]
    assert done.history[2]["reason"] == "营业执照复印件不清晰"
    logged = [(e["type"], e["data"].get("to")) for e in cases.events()]
    logged = [x for x in logged if x[0] not in ("case.document", "case.approval")]
    assert logged[1:] == [
        ("case.state", "in_review"),
        ("case.state", "more_materials_requested"),
        ("case.state", "in_review"),
        ("case.state", "approved"),
    ]
    assert "营业执照" not in json.dumps(cases.events())  # reasons stay in the register


@pytest.mark.parametrize(
    ("actor", "to", "reason", "error", "code"),
    [
        (REVIEWER, "approved", "ok", UseApproval, "use_approval"),  # only with its document
        (REVIEWER, "more_materials_requested", "x", InvalidTransition, "wrong_state"),
        (REVIEWER, "received", "", InvalidTransition, "wrong_state"),
        (REVIEWER, "rejected", "  ", CaseError, "required"),  # a rejection needs reasons
        (REVIEWER, "closed", "", CaseError, "invalid"),
        (OTHER_AGENT, "withdrawn", "", CaseForbidden, "forbidden"),  # another place's case
        (AGENT, "withdrawn", "", CaseError, "required"),  # a withdrawal keeps its reason
        (AGENT, "rejected", "不办了", CaseForbidden, "forbidden"),  # agents do not decide
        (AGENT, "approved", "", UseApproval, "use_approval"),
        (CITY, "in_review", "", CaseForbidden, "forbidden"),  # not their item
        (SUPERVISOR, "in_review", "", CaseForbidden, "forbidden"),
    ],
)
def test_a_refused_change_writes_nothing(
    cases: Cases, actor: object, to: str, reason: str, error: type, code: str
) -> None:
    number = cases.create().number
    before, events = _rows(cases.service.register), len(cases.events())
    with pytest.raises(error) as raised:
        cases.service.transition(actor, number, to, reason)  # type: ignore[arg-type]
    assert raised.value.code == code
    assert _rows(cases.service.register) == before and len(cases.events()) == events
    assert cases.service.get(SUPERVISOR, number).state == "received"


def test_no_approval_while_a_material_has_no_readable_page(cases: Cases) -> None:
    number = cases.create().number
    svc = cases.service
    with pytest.raises(InvalidTransition):  # not yet in review
        cases.approve(REVIEWER, number, "ok")
    svc.transition(REVIEWER, number, "in_review")
    first = cases.documents.add(AGENT, number, "经营者身份证明", b"%PDF-1.4 one")
    before, events = _rows(svc.register), len(cases.events())
    with pytest.raises(MaterialsMissing) as err:
        cases.approve(REVIEWER, number, "ok")
    assert err.value.status == 409 and err.value.code == "materials_missing"
    assert err.value.missing == ["经营场所使用证明", "个体工商户登记申请书"]
    assert _rows(svc.register) == before and len(cases.events()) == events
    for code in ("经营场所使用证明", "个体工商户登记申请书"):
        cases.documents.add(AGENT, number, code, b"%PDF-1.4 page")
    cases.documents.mark_unreadable(REVIEWER, number, first["id"], "看不清")
    with pytest.raises(MaterialsMissing, match="经营者身份证明"):
        cases.approve(REVIEWER, number, "ok")
    assert svc.get(REVIEWER, number).state == "in_review"
    cases.documents.add(AGENT, number, "经营者身份证明", b"%PDF-1.4 again")
    assert cases.approve(REVIEWER, number, "ok").state == "approved"


def test_a_decided_case_stays_decided(cases: Cases) -> None:
    number = cases.create().number
    cases.service.transition(REVIEWER, number, "rejected", "不符合登记条件")
    for to in ("in_review", "more_materials_requested", "withdrawn"):
        with pytest.raises(InvalidTransition, match="is rejected"):
            cases.service.transition(REVIEWER, number, to, "x")
    with pytest.raises(InvalidTransition, match="is rejected"):
        cases.approve(REVIEWER, number, "x")
    with pytest.raises(InvalidTransition):
        cases.service.set_material(REVIEWER, number, "经营者身份证明", "received")
    assert cases.service.get(REVIEWER, number).decision_reasons == "不符合登记条件"


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"item": "NOPE-1"}, "item", "unknown"),
        ({"mode": "inspection"}, "mode", "not_allowed"),  # SCJG-001 has no site inspection
        ({"mode": "fax"}, "mode", "invalid"),
        ({"applicant_name": " "}, "applicant_name", "required"),
        ({"applicant_id": "110105194912310021"}, "applicant_id", "invalid"),  # check digit
        ({"applicant_id": "1234"}, "applicant_id", "invalid"),
        ({"place": "NOWHERE"}, "place", "unknown"),
        ({"place": "QH-CG"}, "case", "forbidden"),  # an agent receives at its own place
    ],
)
def test_bad_new_cases_name_the_field(
    cases: Cases, kwargs: dict[str, str], field: str, code: str
) -> None:
    with pytest.raises(CaseError) as raised:
        cases.create(**kwargs)
    assert (raised.value.field, raised.value.code) == (field, code)
    assert _rows(cases.service.register) == (0, 0) and cases.events() == []


def test_sessions_and_materials(cases: Cases) -> None:
    number = cases.create().number
    svc = cases.service
    svc.link_session(AGENT, number, "20260930-100000-0a0b0c0d")
    svc.link_session(REVIEWER, number, "20260930-100000-0a0b0c0d")  # once is enough
    case = svc.link_session(REVIEWER, number, "20261008-090000-11223344")
    assert case.sessions == ["20260930-100000-0a0b0c0d", "20261008-090000-11223344"]
    case = svc.set_material(AGENT, number, "经营者身份证明", "received")
    assert case.materials["经营者身份证明"] == "received"
    with pytest.raises(CaseError, match="not on the checklist"):
        svc.set_material(AGENT, number, "户口簿", "received")
    with pytest.raises(CaseError, match="session id"):
        svc.link_session(AGENT, number, "../../etc")
    with pytest.raises(CaseForbidden):
        svc.link_session(OTHER_AGENT, number, "20260930-100000-0a0b0c0e")
    with pytest.raises(CaseNotFound):
        svc.get(SUPERVISOR, "QH-2026-999999")
    types = [e["type"] for e in cases.events()]
    assert types == ["case.created", "case.session", "case.session", "case.material"]


def test_parallel_creates_get_distinct_consecutive_numbers(cases: Cases) -> None:
    def create(_: int) -> str:
        return cases.create().number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert sorted(numbers) == [f"QH-2026-{n:06d}" for n in range(1, 41)]
    assert _rows(cases.service.register)[0] == 40


def test_concurrent_decisions_on_one_case_one_wins(cases: Cases) -> None:
    number = cases.create().number
    cases.service.transition(REVIEWER, number, "in_review")
    cases.add_pages(number)

    def decide(to: str) -> str:
        try:
            if to == "approved":
                cases.approve(REVIEWER, number, "理由")
            else:
                cases.service.transition(REVIEWER, number, to, "理由")
        except InvalidTransition:
            return "refused"
        return to

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(decide, ["approved", "rejected"] * 4))
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1
    case = cases.service.get(SUPERVISOR, number)
    assert case.state == winners[0]
    states = [h["to"] for h in case.history if h["type"] in ("created", "state")]
    assert states == ["received", "in_review", winners[0]]
    assert (case.approval is not None) == (winners[0] == "approved")


def test_parallel_pages_of_one_case_get_distinct_files_and_a_valid_case_file(
    cases: Cases, tmp_path: Path
) -> None:
    number = cases.create().number

    def add(n: int) -> str:
        doc = cases.documents.add(
            AGENT, number, "经营者身份证明", b"%PDF-1.4 page " + str(n).encode()
        )
        return doc["file"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        files = sorted(pool.map(add, range(16)))
    assert files == sorted(f"documents/1-{n}.pdf" for n in range(1, 17))
    pages = [d["page"] for d in cases.documents.list(AGENT, number)]
    assert pages == list(range(1, 17))
    key = load_public_key(tmp_path / "keys" / "archive_ed25519.pub.pem")
    [result] = verify_path(tmp_path / "archive" / "cases" / number, key)
    assert result.ok, result.problem


def test_a_case_received_in_a_session_is_linked_in_the_same_transaction(
    cases: Cases, register: Register
) -> None:
    session = "20261008-090000-11223344"
    case = cases.create(REVIEWER, mode="video", place="QH-CG", session_id=session)
    assert case.sessions == [session]
    created = case.history[0]
    assert created["type"] == "created" and created["data"]["session"] == session
    before = _rows(register)
    with pytest.raises(CaseError) as bad:
        cases.create(REVIEWER, mode="video", place="QH-CG", session_id="../x")
    assert bad.value.field == "session"
    assert _rows(register) == before, "a bad session id writes nothing"
