"""Convenience records (便民事项) of 乡村随身办: what a village agent handled for a
villager (社保缴费, 医保卡激活, 求职登记…), as the item's small form.

No case and no review: the record is filed, listed and audited, and earns its
points in the same transaction (points_ledger.py). The ID number is sealed
(only the last 4 are ever shown); only the agent of the point files, only that
agent, its township's admin and supervisors read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from server.catalogue import ConvenienceItem
from server.register.case_types import (
    Actor,
    CaseError,
    check_id_number,
    check_name,
    masked,
)
from server.register.points_ledger import LedgerService
from server.register.points_rules import age_on
from server.register.points_types import (
    PointsForbidden,
    PointsNotFound,
    is_village_point,
    may_read_point,
)
from server.register.sealing import IdSealer
from server.register.village_models import ConvenienceRecordRow

FIELD_MAX = 200


class FieldError(CaseError):
    """A form value refused, with the field's own Chinese label in the words."""

    def __init__(self, field: str, code: str, message: str, message_zh: str) -> None:
        super().__init__(field, code, message)
        self.message_zh = message_zh

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "message_zh": self.message_zh}


_NUMBER = re.compile(r"^-?\d{1,12}(\.\d{1,4})?$")
LIST_MAX = 200


class ConvenienceService:
    def __init__(
        self,
        ledger: LedgerService,
        sealer: IdSealer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.catalogue = ledger.catalogue
        self._sealer = sealer
        self._clock = clock

    def file(
        self,
        actor: Actor,
        *,
        item: Any,
        applicant_name: Any,
        applicant_id: Any,
        applicant_disabled: Any = False,
        fields: Any = None,
    ) -> dict[str, Any]:
        """File a record at the agent's own village point; its points entry with it."""
        point = actor.place or ""
        if actor.role != "agent" or not is_village_point(self.catalogue, point):
            raise PointsForbidden(
                "only an agent of a village service point files convenience records",
                "只有村级便民服务点的代办员可以登记便民事项",
            )
        spec = self.catalogue.convenience.get(item) if isinstance(item, str) else None
        if spec is None:
            raise CaseError("item", "unknown", f"unknown convenience item {item!r}")
        if not isinstance(applicant_disabled, bool):
            raise CaseError("applicant_disabled", "invalid", "true or false")
        name = check_name(applicant_name)
        id_number = check_id_number(applicant_id)
        values = check_fields(spec, fields)
        now = self._clock()
        today = self.catalogue.local_time(now.timestamp()).date()
        age = age_on(id_number, today)
        with self.ledger.register.write() as s:
            row = ConvenienceRecordRow(
                item=spec.code,
                point=point,
                agent=actor.username,
                applicant_name=name,
                applicant_id_last4=id_number[-4:],
                applicant_id_sealed="-",
                applicant_disabled=applicant_disabled,
                fields=values,
                filed_at=now,
                filed_on=today,
            )
            s.add(row)
            s.flush()
            row.applicant_id_sealed = self._sealer.seal(id_number, f"record:{row.id}")
            entry = self.ledger.award_record(
                s, actor, row.id, spec.code, point, age, applicant_disabled
            )
            out = record_json(row)
            out["points"] = entry.points
            out["entry"] = entry.id
        self.ledger._audit(
            "village.record_filed",
            actor.ref,
            {"record": out["id"], "item": spec.code, "point": point, "points": entry.points},
        )
        return out

    def list(self, actor: Actor, point: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Records of the points the actor may see (one point when given), newest first."""
        points = [
            p
            for p in self.catalogue.places
            if may_read_point(self.catalogue, actor, p) and (point is None or p == point)
        ]
        if point is not None and not points:
            raise PointsForbidden(
                f"{actor.username} may not see the records of {point}",
                f"{actor.username} 无权查看 {point} 的便民记录",
            )
        query = (
            select(ConvenienceRecordRow)
            .where(ConvenienceRecordRow.point.in_(points or [""]))
            .order_by(ConvenienceRecordRow.id.desc())
            .limit(max(1, min(limit, LIST_MAX)))
        )
        with self.ledger.register.read() as s:
            return [record_json(r) for r in s.scalars(query)]

    def get(self, actor: Actor, record_id: int) -> dict[str, Any]:
        with self.ledger.register.read() as s:
            row = s.get(ConvenienceRecordRow, record_id)
            if row is None:
                raise PointsNotFound("record", str(record_id))
            if not may_read_point(self.catalogue, actor, row.point):
                raise PointsForbidden(
                    f"{actor.username} may not see record {record_id}",
                    f"{actor.username} 无权查看该便民记录",
                )
            return record_json(row)


def check_fields(spec: ConvenienceItem, raw: Any) -> dict[str, str]:
    """The form's values: every required field, nothing unknown, each of its kind."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FieldError("fields", "invalid", "a JSON object of field values", "表单内容无效")
    known = {f.name for f in spec.fields}
    extra = sorted(set(raw) - known)
    if extra:
        raise FieldError(
            f"fields.{extra[0]}",
            "unknown",
            f"{spec.code} has no field {extra[0]!r}",
            f"“{spec.names.zh}”没有“{extra[0]}”这一项",
        )
    out: dict[str, str] = {}
    for f in spec.fields:
        key, label = f"fields.{f.name}", f"“{f.names.zh}”"
        value = raw.get(f.name, "")
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None):
            if f.required:
                raise FieldError(key, "required", f"{f.names.en} is required", f"请填写{label}")
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise FieldError(key, "invalid", "text", f"{label}应为文字")
        value = str(value)
        if len(value) > FIELD_MAX or not value.isprintable():
            raise FieldError(
                key,
                "invalid",
                f"1 to {FIELD_MAX} printable characters",
                f"{label}最多 {FIELD_MAX} 个字",
            )
        if f.kind == "number" and not _NUMBER.match(value):
            raise FieldError(key, "invalid", "a number", f"{label}应为数字")
        if f.kind == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise FieldError(
                    key, "invalid", "a date as YYYY-MM-DD", f"{label}应为日期"
                ) from None
        if f.kind == "choice" and value not in f.options:
            raise FieldError(
                key,
                "invalid",
                f"one of {', '.join(f.options)}",
                f"{label}应为：{'、'.join(f.options)}",
            )
        out[f.name] = value
    return out


def record_json(row: ConvenienceRecordRow) -> dict[str, Any]:
    at = row.filed_at if row.filed_at.tzinfo else row.filed_at.replace(tzinfo=UTC)
    return {
        "id": row.id,
        "item": row.item,
        "point": row.point,
        "agent": row.agent,
        "applicant": {"name": row.applicant_name, "id_number": masked(row.applicant_id_last4)},
        "applicant_disabled": row.applicant_disabled,
        "fields": row.fields,
        "filed_at": at.isoformat(),
        "filed_on": row.filed_on.isoformat(),
    }
