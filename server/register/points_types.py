"""Points ledger (积分): errors, who may see or manage a point, entry shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from server.catalogue import Catalogue
from server.register.case_types import Actor
from server.register.village_models import PointsEntryRow

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REASON_MIN = 4
REASON_MAX = 500
KINDS = ("case", "record", "grant", "correction")


class PointsError(ValueError):
    """Bad points input or a refused change: field, stable code, plain words in
    English (`message`) and Chinese (`message_zh`). Nothing was written.

    Codes: required, invalid, unknown, forbidden, not_found, month_confirmed,
    already_confirmed, month_not_started, use_correction, too_large.
    """

    status = 400

    def __init__(self, field: str, code: str, message: str, message_zh: str = "") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.message_zh = message_zh or message

    def to_json(self) -> dict[str, str]:
        return {
            "error": "bad_points",
            "field": self.field,
            "code": self.code,
            "message": str(self),
            "message_zh": self.message_zh,
        }


class PointsForbidden(PointsError):
    status = 403

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__("point", "forbidden", message, message_zh)


class PointsNotFound(PointsError):
    status = 404

    def __init__(self, field: str, what: str) -> None:
        super().__init__(field, "not_found", f"no {field} {what!r}", f"没有找到 {what}")


class MonthConfirmed(PointsError):
    """An entry into, or a change of, a month whose statement is confirmed."""

    status = 409

    def __init__(self, point: str, month: str) -> None:
        super().__init__(
            "month",
            "month_confirmed",
            f"the ledger of {point} for {month} is confirmed and cannot change; "
            "a correction is a new entry in the next open month",
            f"{point} {month} 的积分台账已确认，不能更改；如需更正，请在下一个未确认的月份登记更正",
        )
        self.point = point
        self.month = month


def check_month(raw: Any, field: str = "month") -> str:
    if not isinstance(raw, str) or not MONTH_RE.match(raw):
        raise PointsError(field, "invalid", "a month as YYYY-MM", "月份格式应为 YYYY-MM")
    return raw


def check_reason(raw: Any) -> str:
    value = raw.strip() if isinstance(raw, str) else ""
    if len(value) < REASON_MIN:
        raise PointsError(
            "reason",
            "required",
            f"write the reason (at least {REASON_MIN} characters); it is audited",
            f"请填写理由（至少 {REASON_MIN} 个字），理由将记入审计日志",
        )
    if len(value) > REASON_MAX:
        raise PointsError(
            "reason", "too_long", f"at most {REASON_MAX} characters", f"最多 {REASON_MAX} 个字"
        )
    return value


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def is_village_point(catalogue: Catalogue, point: str) -> bool:
    place = catalogue.places.get(point)
    return place is not None and place.kind == "village_point"


def may_read_point(catalogue: Catalogue, actor: Actor, point: str) -> bool:
    """An agent its own point; a township admin the points of its township; supervisors all."""
    place = catalogue.places.get(point)
    if place is None or place.kind != "village_point":
        return False
    if actor.role == "agent":
        return actor.place == point
    if actor.role == "township_admin":
        return bool(actor.place) and place.township == actor.place
    return actor.role == "supervisor"


def check_manage(catalogue: Catalogue, actor: Actor, point: str) -> None:
    """Only the admin of the point's township grants, corrects and confirms."""
    place = catalogue.places.get(point)
    if place is None or place.kind != "village_point":
        raise PointsNotFound("point", point)
    if actor.role != "township_admin" or place.township != actor.place:
        raise PointsForbidden(
            f"only the admin of township {place.township} manages the points of {point}",
            f"只有 {place.township} 的乡镇管理员可以管理 {point} 的积分",
        )


def check_read(catalogue: Catalogue, actor: Actor, point: str) -> None:
    if point not in catalogue.places:
        raise PointsNotFound("point", point)
    if not may_read_point(catalogue, actor, point):
        raise PointsForbidden(
            f"{actor.username} may not see the points of {point}",
            f"{actor.username} 无权查看 {point} 的积分",
        )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def entry_json(row: PointsEntryRow) -> dict[str, Any]:
    """An entry as the pages, the CSV and the signed statement show it."""
    return {
        "id": row.id,
        "point": row.point,
        "agent": row.agent,
        "month": row.month,
        "kind": row.kind,
        "points": row.points,
        "case": row.case_number,
        "record": row.record_id,
        "corrects": row.corrects_id,
        "reason": row.reason,
        "detail": row.detail,
        "created_by": row.created_by,
        "created_at": _utc(row.created_at).isoformat(),
    }
