"""The points ledger (积分) over HTTP, and the township admin's page `/points`.

Reads: the agent of a village point its own point, the township admin the
points of its township, supervisors all. Writes (grants, corrections, the
month's confirmation) are the township admin's. Entries are never edited or
deleted: PATCH and DELETE of an entry are always refused, 409
`month_confirmed` (audited) when its month is confirmed, else `use_correction`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.case_api import _actor
from server.pages import render
from server.register.case_types import CaseError
from server.register.models import UserRow
from server.register.points_pdf import render_statement
from server.register.points_types import PointsError, check_manage

routes = web.RouteTableDef()
BASE = "/api/points"
READERS = ("agent", "township_admin", "supervisor")
MANAGER = "township_admin"
LEDGER = web.AppKey("points_ledger", Any)
STATEMENTS = web.AppKey("points_statements", Any)


def _json(body: Any, status: int = 200) -> web.Response:
    response = web.json_response(body, status=status, dumps=_dumps)
    response.headers["Cache-Control"] = "no-store"
    return response


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def guarded(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """PointsError and CaseError as JSON with their status; a 403 is audited."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (PointsError, CaseError) as exc:
            if exc.status == 403:
                ident = request[IDENTITY]
                event = "case.refused" if isinstance(exc, CaseError) else "points.forbidden"
                data = {"path": request.path, "method": request.method, "field": exc.field}
                request.app[K.RECORDER].system(event, f"{ident.role}:{ident.subject}", data)
            return _json(exc.to_json(), status=exc.status)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise PointsError("body", "invalid", "expected a JSON object", "请求内容应为 JSON 对象")
    return body


def _entry_id(request: web.Request) -> int:
    try:
        return int(request.match_info["entry"])
    except ValueError:
        raise PointsError("entry", "invalid", "an entry number", "记录编号无效") from None


def _point_query(request: web.Request) -> str:
    point = request.query.get("point", "")
    if not point:
        ident = request[IDENTITY]
        point = ident.place or "" if ident.role == "agent" else ""
    if not point:
        raise PointsError("point", "required", "the village point's code", "请选择服务点")
    return point


@routes.get("/points")
@allow(MANAGER)
async def points_page(request: web.Request) -> web.Response:
    catalogue = request.app[K.CATALOGUE]
    township = catalogue.places.get(request[IDENTITY].place or "")
    return render(request, "points.html", township=township)


@routes.get(BASE + "/points")
@allow(*READERS)
@guarded
async def list_points(request: web.Request) -> web.Response:
    statements = request.app[STATEMENTS]
    actor = _actor(request)
    return _json({"points": statements.points_for(actor), "month": statements.ledger.this_month()})


@routes.get(BASE + "/agents")
@allow(MANAGER)
@guarded
async def list_agents(request: web.Request) -> web.Response:
    """The agent accounts of a point of the admin's township (the grant form's choice)."""
    point = _point_query(request)
    ledger = request.app[LEDGER]
    check_manage(ledger.catalogue, _actor(request), point)

    def read() -> list[dict[str, str]]:
        with ledger.register.read() as s:
            rows = s.scalars(select(UserRow).where(UserRow.role == "agent", UserRow.place == point))
            return [{"username": u.username, "name": u.display_name} for u in rows]

    return _json({"point": point, "agents": await asyncio.to_thread(read)})


@routes.get(BASE + "/ledger")
@allow(*READERS)
@guarded
async def month_ledger(request: web.Request) -> web.Response:
    statements = request.app[STATEMENTS]
    month = request.query.get("month") or statements.ledger.this_month()
    body = await asyncio.to_thread(statements.month, _actor(request), _point_query(request), month)
    return _json(body)


@routes.get(BASE + "/months")
@allow(*READERS)
@guarded
async def list_months(request: web.Request) -> web.Response:
    statements = request.app[STATEMENTS]
    point = _point_query(request)
    months = await asyncio.to_thread(statements.months, _actor(request), point)
    return _json({"point": point, "months": months})


@routes.post(BASE + "/grants")
@allow(MANAGER)
@guarded
async def grant(request: web.Request) -> web.Response:
    """A manual grant: {point, agent, points, reason[, month]}; the reason is audited."""
    body = await body_of(request)
    point = body.get("point")
    if not isinstance(point, str):
        raise PointsError("point", "required", "the village point's code", "请选择服务点")
    ledger = request.app[LEDGER]
    entry = await asyncio.to_thread(
        ledger.grant,
        _actor(request),
        point,
        body.get("agent"),
        body.get("points"),
        body.get("reason"),
        body.get("month"),
    )
    return _json(entry, status=201)


@routes.post(BASE + "/entries/{entry}/correction")
@allow(MANAGER)
@guarded
async def correct(request: web.Request) -> web.Response:
    """A correction of an entry: {points (+/-), reason}, a new entry in the next open month."""
    body = await body_of(request)
    ledger = request.app[LEDGER]
    entry = await asyncio.to_thread(
        ledger.correct, _actor(request), _entry_id(request), body.get("points"), body.get("reason")
    )
    return _json(entry, status=201)


@routes.patch(BASE + "/entries/{entry}")
@allow(MANAGER)
@guarded
async def change_entry(request: web.Request) -> web.Response:
    """Never allowed: the refusal says why (and is audited for a confirmed month)."""
    await asyncio.to_thread(request.app[LEDGER].refuse_change, _actor(request), _entry_id(request))
    raise AssertionError("refuse_change always raises")


@routes.delete(BASE + "/entries/{entry}")
@allow(MANAGER)
@guarded
async def delete_entry(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[LEDGER].refuse_change, _actor(request), _entry_id(request))
    raise AssertionError("refuse_change always raises")


@routes.post(BASE + "/months/{point}/{month}/confirm")
@allow(MANAGER)
@guarded
async def confirm(request: web.Request) -> web.Response:
    statements = request.app[STATEMENTS]
    result = await asyncio.to_thread(
        statements.confirm,
        _actor(request),
        request.match_info["point"],
        request.match_info["month"],
    )
    return _json(result, status=201)


@routes.get(BASE + "/months/{point}/{month}/statement")
@allow(*READERS)
@guarded
async def statement(request: web.Request) -> web.Response:
    """The confirmed, signed statement and whether it still verifies."""
    statements = request.app[STATEMENTS]
    result = await asyncio.to_thread(
        statements.verify, _actor(request), request.match_info["point"], request.match_info["month"]
    )
    return _json(result)


@routes.get(BASE + "/months/{point}/{month}/export")
@allow("township_admin", "supervisor")
@guarded
async def export(request: web.Request) -> web.StreamResponse:
    """The month for the 奖补 payment: ?format=csv (UTF-8 with BOM) or pdf."""
    statements = request.app[STATEMENTS]
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "pdf"):
        raise PointsError("format", "invalid", "csv or pdf", "格式应为 csv 或 pdf")
    actor, point, month = _actor(request), request.match_info["point"], request.match_info["month"]

    def build() -> bytes:
        if fmt == "csv":
            return statements.csv_bytes(actor, point, month)
        body = statements.month(actor, point, month)
        signature = None
        if body["confirmed"]:
            signature = statements.verify(actor, point, month)["signature"]
        return render_statement(body, signature)

    data = await asyncio.to_thread(build)
    ctype = "text/csv" if fmt == "csv" else "application/pdf"
    response = web.Response(body=data, content_type=ctype)
    if fmt == "csv":
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="points-{point}-{month}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    request.app[K.RECORDER].system(
        "points.exported", actor.ref, {"point": point, "month": month, "format": fmt}
    )
    return response
