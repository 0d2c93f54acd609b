"""The audit admin's viewer of the system audit log (审计管理员): filters by
event type, actor and date, a CSV export. Read-only: the audit admin reaches
nothing else (三员分立), and every export is itself an audit event.

Filters (query): `type` (an event type or a prefix ending in `.`, e.g. `auth.`),
`actor` (exact), `from`, `to` (YYYY-MM-DD, UTC days, both included), `limit`
(newest first, at most MAX_ROWS). Bad input: 400 `{"error": "bad_field", "field"}`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from recording.audit import AuditError, read_events
from server import appkeys as K
from server.auth import IDENTITY, allow
from server.pages import render

routes = web.RouteTableDef()
MAX_ROWS = 5000
PAGE_ROWS = 500
# An 18-character resident ID number anywhere in a value: masked to its last four.
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
CSV_COLUMNS = ("time", "type", "actor", "data", "seq", "hash")


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditFilter:
    type: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: int = PAGE_ROWS

    def matches(self, event: dict[str, Any]) -> bool:
        kind = str(event.get("type", ""))
        if self.type and not (
            kind == self.type or (self.type.endswith(".") and kind.startswith(self.type))
        ):
            return False
        return not (self.actor and event.get("actor") != self.actor)

    def query(self) -> dict[str, str]:
        out = {"type": self.type or "", "actor": self.actor or ""}
        out["from"] = self.date_from.isoformat() if self.date_from else ""
        out["to"] = self.date_to.isoformat() if self.date_to else ""
        return out


def _date(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(field, "a date like 2026-12-03") from None


def audit_filter(request: web.Request, default_limit: int = PAGE_ROWS) -> AuditFilter:
    q = request.query
    for key in ("type", "actor"):
        if len(q.get(key, "")) > 100:
            raise FilterError(key, "at most 100 characters")
    try:
        limit = int(q.get("limit") or default_limit)
    except ValueError:
        raise FilterError("limit", "a whole number") from None
    if not 1 <= limit <= MAX_ROWS:
        raise FilterError("limit", f"1 to {MAX_ROWS}")
    flt = AuditFilter(
        type=q.get("type") or None,
        actor=q.get("actor") or None,
        date_from=_date(q.get("from"), "from"),
        date_to=_date(q.get("to"), "to"),
        limit=limit,
    )
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise FilterError("to", "the end is before the start")
    return flt


def mask_ids(value: Any) -> Any:
    """A copy with every ID number masked (PIPL: the log must not show one)."""
    if isinstance(value, str):
        return ID_NUMBER.sub(lambda m: "*" * 14 + m.group(0)[-4:], value)
    if isinstance(value, dict):
        return {k: mask_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_ids(v) for v in value]
    return value


def read_system_events(root: Path, flt: AuditFilter) -> tuple[list[dict[str, Any]], bool]:
    """Matching events newest first (at most `flt.limit`) and whether more matched."""
    folder = root / "system"
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("????-??-??.jsonl"), reverse=True):
        day = date.fromisoformat(path.stem)
        if (flt.date_from and day < flt.date_from) or (flt.date_to and day > flt.date_to):
            continue
        try:
            events = read_events(path)
        except (AuditError, OSError):
            continue  # a torn file is for `remote-window verify`, not the viewer
        for event in reversed(events):
            if flt.matches(event):
                if len(out) == flt.limit:
                    return out, True
                out.append(mask_ids(event))
    return out, False


def _bad(exc: FilterError) -> web.HTTPBadRequest:
    body = {"error": "bad_field", "field": exc.field, "message": str(exc)}
    return web.HTTPBadRequest(
        text=json.dumps(body, ensure_ascii=False), content_type="application/json"
    )


async def _events(
    request: web.Request, default_limit: int = PAGE_ROWS
) -> tuple[AuditFilter, list[dict[str, Any]], bool]:
    try:
        flt = audit_filter(request, default_limit)
    except FilterError as exc:
        raise _bad(exc) from None
    recorder = request.app[K.RECORDER]
    await recorder.flushed()
    events, more = await asyncio.to_thread(read_system_events, recorder.root, flt)
    return flt, events, more


@routes.get("/audit")
@allow("auditadmin")
async def audit_page(request: web.Request) -> web.Response:
    try:
        flt, events, more = await _events(request)
        error = None
    except web.HTTPBadRequest as exc:
        flt, events, more, error = AuditFilter(), [], False, json.loads(exc.text or "{}")
    rows = [{**e, "data_text": json.dumps(e.get("data"), ensure_ascii=False)} for e in events]
    return render(request, "audit.html", events=rows, more=more, query=flt.query(), error=error)


@routes.get("/api/audit/events")
@allow("auditadmin")
async def audit_events(request: web.Request) -> web.Response:
    _, events, more = await _events(request)
    return web.json_response({"events": events, "more": more})


def to_csv(events: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow(
            [
                e.get("time"),
                e.get("type"),
                e.get("actor") or "",
                json.dumps(e.get("data"), ensure_ascii=False, sort_keys=True),
                e.get("seq"),
                e.get("hash"),
            ]
        )
    return buf.getvalue()


@routes.get("/api/audit/export")
@allow("auditadmin")
async def audit_export(request: web.Request) -> web.Response:
    """The matching events as CSV (UTF-8 with BOM for spreadsheet programs)."""
    flt, events, more = await _events(request, MAX_ROWS)
    request.app[K.RECORDER].system(
        "audit.exported",
        request[IDENTITY].subject,
        {**{k: v for k, v in flt.query().items() if v}, "rows": len(events), "more": more},
    )
    return web.Response(
        body=("\ufeff" + to_csv(events)).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
