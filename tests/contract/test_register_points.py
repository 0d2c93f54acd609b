"""The points ledger (积分) contract, on SQLite and a real PostgreSQL alike: what a
case or record earns, the month it lands in, confirmation, signature and
immutability, corrections, manual grants, and who may do what."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import DBAPIError

from recording.keys import ArchiveSigner
from server.accounts import AccountDB
from server.register.case_types import Actor, CaseError
from server.register.convenience import ConvenienceService
from server.register.db import Register
from server.register.points_ledger import LedgerService
from server.register.points_rules import load_rules
from server.register.points_statement import StatementService
from server.register.points_types import MonthConfirmed, PointsError, PointsForbidden
from server.register.sealing import IdSealer
from server.register.village_models import PointsEntryRow, PointsMonthRow
from tests.contract.case_helpers import AGENT, OTHER_AGENT, REVIEWER, Cases, id_number

TOWNSHIP = Actor("township", "township_admin", place="QH-LL")
OTHER_TOWNSHIP = Actor("cg-admin", "township_admin", place="QH-CG")
ELDER_ID = id_number("11010519491231002")  # born 1949-12-31: 76 in 2026
YOUNG_ID = id_number("11010519900101002")  # born 1990


class Village:
    def __init__(self, cases: Cases, tmp: Path) -> None:
        self.cases = cases
        sealer = IdSealer.load_or_create(tmp)
        self.ledger = LedgerService(
            cases.service.register,
            cases.service.catalogue,
            load_rules(),
            sealer,
            cases.audit.append,
            cases.clock,
        )
        signer = ArchiveSigner.load_or_create(tmp)
        self.statements = StatementService(self.ledger, lambda: signer)
        self.records = ConvenienceService(self.ledger, sealer, cases.clock)
        cases.service.listeners.append(self.ledger.on_case_change)

    def decided(self, **kwargs: object) -> str:
        number = self.cases.create(**kwargs).number
        self.cases.service.transition(REVIEWER, number, "in_review")
        self.cases.service.transition(REVIEWER, number, "rejected", "不符合条件")
        return number

    def entries(self, month: str = "2026-09") -> list[dict]:
        return self.statements.month(TOWNSHIP, "QH-LL-DC", month)["entries"]


@pytest.fixture
def village(cases: Cases, tmp_path: Path) -> Village:
    accounts = AccountDB(cases.service.register)
    accounts.add_user("agent", "Village-pass-2026", "agent", place="QH-LL-DC")
    return Village(cases, tmp_path)


def test_a_decided_village_case_earns_by_the_rules(village: Village) -> None:
    young = village.decided(applicant_id=YOUNG_ID)
    elder = village.decided(applicant_id=ELDER_ID)
    both = village.decided(applicant_id=ELDER_ID, applicant_disabled=True)
    by_case = {e["case"]: e for e in village.entries()}
    # case_base 1 + assisted 2 + SCJG-001 0; elderly +2; disabled +2.
    assert by_case[young]["points"] == 3
    assert by_case[elder]["points"] == 5 and by_case[elder]["detail"]["age"] == 76
    assert by_case[both]["points"] == 7
    assert by_case[both]["detail"]["parts"] == {
        "base": 1,
        "mode": 2,
        "item": 0,
        "elderly": 2,
        "disabled": 2,
    }
    assert {e["agent"] for e in by_case.values()} == {"agent"}


def test_withdrawn_and_non_village_cases_earn_nothing(village: Village) -> None:
    withdrawn = village.cases.create().number
    village.cases.service.transition(AGENT, withdrawn, "withdrawn", "申请人撤回")
    township = village.cases.create(OTHER_AGENT).number  # received at QH-CG, a township
    village.cases.service.transition(REVIEWER, township, "rejected", "材料不全")
    assert village.entries() == []
    assert village.ledger.reconcile() == 0


def test_reconcile_awards_a_case_the_listener_missed(village: Village) -> None:
    village.cases.service.listeners.remove(village.ledger.on_case_change)
    number = village.decided()
    assert village.entries() == []
    assert village.ledger.reconcile() == 1
    assert [e["case"] for e in village.entries()] == [number]
    assert village.ledger.reconcile() == 0  # once only


def test_a_confirmed_month_is_signed_and_refuses_every_change(village: Village) -> None:
    number = village.decided()
    result = village.statements.confirm(TOWNSHIP, "QH-LL-DC", "2026-09")
    assert result["statement"]["total"] == 5  # the default applicant is elderly
    assert result["statement"]["confirmed_by"] == "township_admin:township"
    checked = village.statements.verify(TOWNSHIP, "QH-LL-DC", "2026-09")
    assert checked["verified"], checked["problem"]
    with pytest.raises(PointsError) as again:
        village.statements.confirm(TOWNSHIP, "QH-LL-DC", "2026-09")
    assert again.value.code == "already_confirmed"
    # A grant into the confirmed month: refused and audited.
    with pytest.raises(MonthConfirmed):
        village.ledger.grant(TOWNSHIP, "QH-LL-DC", "agent", 5, "补登九月上门服务", month="2026-09")
    [entry] = village.entries()
    with pytest.raises(MonthConfirmed):
        village.ledger.refuse_change(TOWNSHIP, entry["id"])
    refused = [e for e in village.cases.events() if e["type"] == "points.refused"]
    assert [e["data"].get("action") for e in refused] == ["grant", "change"]
    # A correction is a new entry in the next open month, naming the corrected one.
    fix = village.ledger.correct(TOWNSHIP, entry["id"], -1, "误计视频加分，予以扣减")
    assert fix["month"] == "2026-10" and fix["corrects"] == entry["id"]
    assert fix["case"] == number and fix["kind"] == "correction"
    assert village.statements.verify(TOWNSHIP, "QH-LL-DC", "2026-09")["verified"]
    assert [e["id"] for e in village.entries()] == [entry["id"]]


def _drop_guards(register: Register) -> None:
    """What someone with the database's owner rights could do: remove the triggers."""
    with register.write() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("DROP TRIGGER points_entries_guard ON points_entries"))
        else:
            for name in ("points_entries_frozen", "points_entries_open_month"):
                s.execute(text(f"DROP TRIGGER {name}"))


def test_the_database_itself_refuses_changes_and_entries_into_a_confirmed_month(
    village: Village,
) -> None:
    village.decided()
    village.statements.confirm(TOWNSHIP, "QH-LL-DC", "2026-09")
    register = village.ledger.register
    for statement in (
        update(PointsEntryRow).values(points=30),
        delete(PointsEntryRow),
        insert(PointsEntryRow).values(
            point="QH-LL-DC",
            agent="agent",
            month="2026-09",
            kind="grant",
            points=9,
            reason="绕过服务直接写库",
            detail={},
            created_by="sql",
            created_at=village.cases.clock(),
        ),
        update(PointsMonthRow).values(total=0),
        delete(PointsMonthRow),
    ):
        with pytest.raises(DBAPIError), register.write() as s:
            s.execute(statement)
    assert village.statements.verify(TOWNSHIP, "QH-LL-DC", "2026-09")["verified"]


def test_a_row_changed_behind_the_ledger_breaks_the_statement(village: Village) -> None:
    village.decided()
    village.statements.confirm(TOWNSHIP, "QH-LL-DC", "2026-09")
    _drop_guards(village.ledger.register)
    with village.ledger.register.write() as s:
        s.execute(update(PointsEntryRow).values(points=30))
    checked = village.statements.verify(TOWNSHIP, "QH-LL-DC", "2026-09")
    assert not checked["verified"]
    assert checked["problem"] == "the month's entries changed after confirmation"


def test_a_case_decided_into_a_confirmed_month_lands_in_the_next(village: Village) -> None:
    number = village.cases.create().number
    village.cases.service.transition(REVIEWER, number, "in_review")
    village.statements.confirm(TOWNSHIP, "QH-LL-DC", "2026-09")
    village.cases.service.transition(REVIEWER, number, "rejected", "不符合条件")
    [entry] = village.statements.month(TOWNSHIP, "QH-LL-DC", "2026-10")["entries"]
    assert entry["case"] == number


def test_manual_grants_need_a_reason_and_are_audited(village: Village) -> None:
    for reason in ("", "   ", "好"):
        with pytest.raises(PointsError) as refused:
            village.ledger.grant(TOWNSHIP, "QH-LL-DC", "agent", 5, reason)
        assert refused.value.code == "required"
    with pytest.raises(PointsError) as unknown:
        village.ledger.grant(TOWNSHIP, "QH-LL-DC", "reviewer", 5, "协助村民办理医保")
    assert unknown.value.code == "unknown"
    with pytest.raises(PointsError) as big:
        village.ledger.grant(TOWNSHIP, "QH-LL-DC", "agent", 1000, "协助村民办理医保")
    assert big.value.code == "too_large"
    granted = village.ledger.grant(TOWNSHIP, "QH-LL-DC", "agent", 5, "协助村民办理医保")
    assert granted["kind"] == "grant" and granted["month"] == "2026-09"
    [audit] = [e for e in village.cases.events() if e["type"] == "points.granted"]
    assert audit["data"]["reason"] == "协助村民办理医保" and audit["data"]["points"] == 5


def test_only_the_points_township_admin_manages_it(village: Village) -> None:
    for actor in (OTHER_TOWNSHIP, AGENT, REVIEWER):
        with pytest.raises(PointsForbidden):
            village.ledger.grant(actor, "QH-LL-DC", "agent", 5, "协助村民办理医保")
        with pytest.raises(PointsForbidden):
            village.statements.confirm(actor, "QH-LL-DC", "2026-09")
    with pytest.raises(PointsForbidden):
        village.statements.month(OTHER_TOWNSHIP, "QH-LL-DC", "2026-09")
    other_point = Actor("agent2", "agent", place="QH-LL-XC")
    with pytest.raises(PointsForbidden):
        village.statements.month(other_point, "QH-LL-DC", "2026-09")
    assert village.statements.month(AGENT, "QH-LL-DC", "2026-09")["entries"] == []
    assert [p["code"] for p in village.statements.points_for(TOWNSHIP)] == ["QH-LL-DC", "QH-LL-XC"]


def test_a_convenience_record_earns_in_its_transaction(village: Village) -> None:
    record = village.records.file(
        AGENT,
        item="BM-QZDJ",
        applicant_name="李四",
        applicant_id=ELDER_ID,
        fields={"wanted": "保洁", "available": "2026-10-08", "phone": "13800000000"},
    )
    assert record["applicant"]["id_number"].endswith(ELDER_ID[-4:])
    assert ELDER_ID not in str(record)
    [entry] = village.entries()
    assert entry["record"] == record["id"] and entry["points"] == 2 + 2  # item 2, elderly 2
    with pytest.raises(CaseError) as missing:
        village.records.file(
            AGENT, item="BM-QZDJ", applicant_name="李四", applicant_id=YOUNG_ID, fields={}
        )
    assert missing.value.field == "fields.wanted"
    with pytest.raises(PointsForbidden):
        village.records.file(
            OTHER_AGENT,
            item="BM-GFCX",
            applicant_name="王五",
            applicant_id=YOUNG_ID,
            fields={"method": "人脸识别"},
        )
    assert len(village.entries()) == 1
    assert [r["id"] for r in village.records.list(TOWNSHIP)] == [record["id"]]
    with pytest.raises(PointsForbidden):
        village.records.get(Actor("agent2", "agent", place="QH-LL-XC"), record["id"])


def test_concurrent_grants_and_a_confirmation_keep_the_statement_whole(village: Village) -> None:
    def grant(n: int) -> str:
        try:
            village.ledger.grant(TOWNSHIP, "QH-LL-DC", "agent", 1, f"并发奖励第{n}次")
        except MonthConfirmed:
            return "refused"
        return "granted"

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(grant, n) for n in range(8)]
        confirmed = pool.submit(village.statements.confirm, TOWNSHIP, "QH-LL-DC", "2026-09")
        outcomes = [f.result() for f in futures]
        statement = confirmed.result()["statement"]
    assert statement["total"] == len(statement["entries"])
    assert len(statement["entries"]) <= outcomes.count("granted")
    assert len(village.entries()) == outcomes.count("granted")
    assert len(village.entries()) == len(statement["entries"])
    assert village.statements.verify(TOWNSHIP, "QH-LL-DC", "2026-09")["verified"]
