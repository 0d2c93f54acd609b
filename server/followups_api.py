"""Follow-ups (整改) and random spot checks (随机抽查) over HTTP, for supervisors.

    GET  /followups                            the supervisor's page (list, respond, close)
    GET  /api/followups[?state=open|responded|closed]
    GET  /api/followups/{id}
    POST /api/followups/{id}/respond           {"response"}
    POST /api/followups/{id}/close             {"verdict": "resolved"|"unresolved", "note"}

    GET  /spot-checks                          the supervisor's page (draw, review)
    GET  /api/spot-checks[?week=2026-W49]      draws with the checks the supervisor covers
    POST /api/spot-checks/draws                {"week", "seed"?}: draw the week (once)
    POST /api/spot-checks/draws/{week}/redraw  draw again from the recorded seed, compare
    POST /api/spot-checks/{id}/review          {"checklist": {...}, "verdict", "note"}

A supervisor with items covers the departments of those items; one without
items covers all. Bad input 400 naming the field, a wrong state 409, another
department's follow-up 403; nothing is written then.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import appkeys as K
from server.auth import allow
from server.case_api import _actor, _body, _guarded, _json
from server.pages import render
from server.register.case_types import CaseError

routes = web.RouteTableDef()


def _id(request: web.Request, key: str = "id") -> int:
    raw = request.match_info[key]
    if not raw.isdigit() or len(raw) > 12:
        raise CaseError(key, "invalid", "a whole number")
    return int(raw)


@routes.get("/followups")
@allow("supervisor")
async def followups_page(request: web.Request) -> web.Response:
    return render(request, "followups.html")


@routes.get("/api/followups")
@allow("supervisor")
@_guarded
async def list_followups(request: web.Request) -> web.Response:
    state = request.query.get("state") or None
    service = request.app[K.FOLLOWUPS]
    found = await asyncio.to_thread(service.list, _actor(request), state)
    return _json({"followups": found})


@routes.get("/api/followups/{id}")
@allow("supervisor")
@_guarded
async def get_followup(request: web.Request) -> web.Response:
    service = request.app[K.FOLLOWUPS]
    return _json(await asyncio.to_thread(service.get, _actor(request), _id(request)))


@routes.post("/api/followups/{id}/respond")
@allow("supervisor")
@_guarded
async def respond_followup(request: web.Request) -> web.Response:
    fid = _id(request)
    body = await _body(request)
    service = request.app[K.FOLLOWUPS]
    out = await asyncio.to_thread(service.respond, _actor(request), fid, body.get("response"))
    return _json(out)


@routes.post("/api/followups/{id}/close")
@allow("supervisor")
@_guarded
async def close_followup(request: web.Request) -> web.Response:
    fid = _id(request)
    body = await _body(request)
    service = request.app[K.FOLLOWUPS]
    out = await asyncio.to_thread(
        service.close, _actor(request), fid, body.get("verdict"), body.get("note", "")
    )
    return _json(out)


# -- spot checks -----------------------------------------------------------------
@routes.get("/spot-checks")
@allow("supervisor")
async def spot_checks_page(request: web.Request) -> web.Response:
    return render(request, "spot_checks.html")


@routes.get("/api/spot-checks")
@allow("supervisor")
@_guarded
async def list_spot_checks(request: web.Request) -> web.Response:
    week = request.query.get("week") or None
    service = request.app[K.SPOT_CHECKS]
    return _json({"draws": await asyncio.to_thread(service.list, _actor(request), week)})


@routes.post("/api/spot-checks/draws")
@allow("supervisor")
@_guarded
async def draw_spot_checks(request: web.Request) -> web.Response:
    body = await _body(request)
    service = request.app[K.SPOT_CHECKS]
    actor = _actor(request)
    out = await asyncio.to_thread(service.draw, actor.ref, body.get("week"), body.get("seed"))
    return _json(out, status=201)


@routes.post("/api/spot-checks/draws/{week}/redraw")
@allow("supervisor")
@_guarded
async def redraw_spot_checks(request: web.Request) -> web.Response:
    service = request.app[K.SPOT_CHECKS]
    actor = _actor(request)
    out = await asyncio.to_thread(service.redraw, actor.ref, request.match_info["week"])
    return _json(out)


@routes.post("/api/spot-checks/{id}/review")
@allow("supervisor")
@_guarded
async def review_spot_check(request: web.Request) -> web.Response:
    cid = _id(request)
    body = await _body(request)
    service = request.app[K.SPOT_CHECKS]
    out = await asyncio.to_thread(
        service.review,
        _actor(request),
        cid,
        body.get("checklist"),
        body.get("verdict"),
        body.get("note", ""),
    )
    return _json(out)
