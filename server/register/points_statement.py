"""A point's monthly points statement (积分月度台账): the view, the township
admin's confirmation, its signature and its verification, and the CSV.

Confirming builds the statement (every entry of the month in id order, the
totals per agent, who confirmed it and when), signs its canonical JSON with the
archive's Ed25519 key (the public key is served at /api/archive/public-key, so
the finance office can check a statement without the server) and stores it
with its SHA-256 in `points_months`. From then on the ledger refuses entries
into that month. `verify` rebuilds the statement from the entries as they are
now: a row changed behind the service's back breaks it, and so does a changed
stored statement (the signature).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recording.keys import ArchiveSigner, verify_signature
from server.register.case_types import Actor
from server.register.points_ledger import LedgerService, _utc
from server.register.points_types import (
    PointsError,
    check_manage,
    check_month,
    check_read,
    entry_json,
    may_read_point,
)
from server.register.village_models import PointsEntryRow, PointsMonthRow

FORMAT = "remote-window-points/1"
CSV_HEADER = [
    "编号 entry",
    "月份 month",
    "服务点 point",
    "代办员 agent",
    "类型 kind",
    "积分 points",
    "办件 case",
    "便民记录 record",
    "更正 corrects",
    "理由 reason",
    "登记人 by",
    "时间 at",
]
KIND_ZH = {"case": "办件", "record": "便民事项", "grant": "手工奖励", "correction": "更正"}


def canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


class StatementService:
    def __init__(self, ledger: LedgerService, signer: Callable[[], ArchiveSigner | None]) -> None:
        self.ledger = ledger
        self._signer = signer

    @property
    def catalogue(self) -> Any:
        return self.ledger.catalogue

    def points_for(self, actor: Actor) -> list[dict[str, Any]]:
        """The village points the actor may see, with their names."""
        return [
            {"code": p.code, "names": p.names.to_json(), "township": p.township}
            for p in self.catalogue.places.values()
            if may_read_point(self.catalogue, actor, p.code)
        ]

    def _entries(self, s: Session, point: str, month: str) -> list[PointsEntryRow]:
        query = select(PointsEntryRow).where(
            PointsEntryRow.point == point, PointsEntryRow.month == month
        )
        return list(s.scalars(query.order_by(PointsEntryRow.id)))

    def _build(self, point: str, month: str, rows: list[PointsEntryRow]) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for r in rows:
            totals[r.agent] = totals.get(r.agent, 0) + r.points
        place = self.catalogue.places[point]
        return {
            "format": FORMAT,
            "point": point,
            "point_name": place.names.zh,
            "township": place.township,
            "month": month,
            "entries": [entry_json(r) for r in rows],
            "totals": dict(sorted(totals.items())),
            "total": sum(totals.values()),
        }

    def month(self, actor: Actor, point: str, month: Any) -> dict[str, Any]:
        """The month's ledger of a point: entries, totals, and the confirmation if any."""
        check_read(self.catalogue, actor, point)
        month = check_month(month)
        with self.ledger.register.read() as s:
            body = self._build(point, month, self._entries(s, point, month))
            row = s.scalar(
                select(PointsMonthRow).where(
                    PointsMonthRow.point == point, PointsMonthRow.month == month
                )
            )
            body["confirmed"] = _confirmation(row)
        body["open"] = body["confirmed"] is None
        return body

    def months(self, actor: Actor, point: str) -> list[dict[str, Any]]:
        """Every month with entries or a confirmation, newest first, with its total."""
        check_read(self.catalogue, actor, point)
        with self.ledger.register.read() as s:
            sums = dict(
                s.execute(
                    select(PointsEntryRow.month, func.sum(PointsEntryRow.points))
                    .where(PointsEntryRow.point == point)
                    .group_by(PointsEntryRow.month)
                ).all()
            )
            done = {
                r.month: r
                for r in s.scalars(select(PointsMonthRow).where(PointsMonthRow.point == point))
            }
        months = sorted(set(sums) | set(done) | {self.ledger.this_month()}, reverse=True)
        return [
            {"month": m, "total": int(sums.get(m) or 0), "confirmed": _confirmation(done.get(m))}
            for m in months
        ]

    def confirm(self, actor: Actor, point: str, month: Any) -> dict[str, Any]:
        """The township admin confirms the month: the statement is signed and frozen."""
        check_manage(self.catalogue, actor, point)
        month = check_month(month)
        if month > self.ledger.this_month():
            raise PointsError(
                "month", "month_not_started", "that month has not started", "该月份尚未开始"
            )
        signer = self._signer()
        if signer is None:
            raise PointsError("month", "invalid", "the signing key is not loaded", "签名密钥未加载")
        now = self.ledger._clock()
        try:
            with self.ledger.register.write() as s:
                self.ledger.lock_point(s, point)
                if self.ledger.confirmed(s, point, month):
                    raise _already(point, month)
                rows = self._entries(s, point, month)
                statement = self._build(point, month, rows)
                statement["confirmed_by"] = actor.ref
                statement["confirmed_at"] = _utc(now).isoformat()
                data = canonical(statement)
                row = PointsMonthRow(
                    point=point,
                    month=month,
                    confirmed_by=actor.ref,
                    confirmed_at=now,
                    total=statement["total"],
                    entries=len(rows),
                    statement=statement,
                    sha256=hashlib.sha256(data).hexdigest(),
                    signature=base64.b64encode(signer.sign(data)).decode(),
                )
                s.add(row)
                s.flush()
        except IntegrityError:
            raise _already(point, month) from None
        self.ledger._audit(
            "points.confirmed",
            actor.ref,
            {
                "point": point,
                "month": month,
                "total": row.total,
                "entries": row.entries,
                "sha256": row.sha256,
            },
        )
        return {"statement": statement, "sha256": row.sha256, "signature": row.signature}

    def verify(self, actor: Actor, point: str, month: Any) -> dict[str, Any]:
        """The confirmed statement and whether it still holds: `verified`, else `problem`."""
        check_read(self.catalogue, actor, point)
        month = check_month(month)
        with self.ledger.register.read() as s:
            row = s.scalar(
                select(PointsMonthRow).where(
                    PointsMonthRow.point == point, PointsMonthRow.month == month
                )
            )
            if row is None:
                raise PointsError(
                    "month", "not_confirmed", f"{month} of {point} is not confirmed", "该月尚未确认"
                )
            now = self._build(point, month, self._entries(s, point, month))
        stored = dict(row.statement)
        data = canonical(stored)
        problem = None
        signer = self._signer()
        if hashlib.sha256(data).hexdigest() != row.sha256 or signer is None:
            problem = "the stored statement does not match its digest"
        elif not verify_signature(signer.public_key, data, base64.b64decode(row.signature)):
            problem = "the signature does not verify"
        else:
            stored.pop("confirmed_by", None)
            stored.pop("confirmed_at", None)
            if canonical(stored) != canonical(now):
                problem = "the month's entries changed after confirmation"
        return {
            "statement": row.statement,
            "sha256": row.sha256,
            "signature": row.signature,
            "verified": problem is None,
            "problem": problem,
        }

    def csv_bytes(self, actor: Actor, point: str, month: Any) -> bytes:
        """The month as CSV for the 奖补 payment: UTF-8 with a BOM (Excel), one line per
        entry, then one per agent's total; the signature's digest when confirmed."""
        body = self.month(actor, point, month)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for e in body["entries"]:
            writer.writerow(
                [
                    e["id"],
                    e["month"],
                    e["point"],
                    e["agent"],
                    KIND_ZH.get(e["kind"], e["kind"]),
                    e["points"],
                    e["case"] or "",
                    e["record"] or "",
                    e["corrects"] or "",
                    e["reason"],
                    e["created_by"],
                    e["created_at"],
                ]
            )
        writer.writerow([])
        for agent, total in body["totals"].items():
            writer.writerow(["合计 total", body["month"], body["point"], agent, "", total])
        confirmed = body["confirmed"]
        if confirmed:
            writer.writerow(
                [
                    "已确认 confirmed",
                    confirmed["by"],
                    confirmed["at"],
                    "SHA-256",
                    confirmed["sha256"],
                ]
            )
        return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _confirmation(row: PointsMonthRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "by": row.confirmed_by,
        "at": _utc(row.confirmed_at).isoformat(),
        "total": row.total,
        "entries": row.entries,
        "sha256": row.sha256,
    }


def _already(point: str, month: str) -> PointsError:
    exc = PointsError(
        "month",
        "already_confirmed",
        f"{month} of {point} is already confirmed",
        f"{point} {month} 已经确认过",
    )
    exc.status = 409
    return exc
