"""乡村随身办 over HTTP: the village agent's page `/village`, its convenience
records, and a video session on an applicant's behalf.

On behalf of an applicant (代办视频): the agent receives the case first
(`POST /api/register/cases`, mode `assisted`, name and ID number entered by the
agent, `applicant_disabled` ticked or not), joins the item's queue over its
socket like a kiosk (`queue.join`), and once paired links the case to the
session: `POST /api/village/cases/{number}/session {"session"}`. Only the
agent that is the applicant side of that live session may, for a case of its
own point and of the session's item. The reviewer's desk then gets the case
(`doc.case`) as for a case it received itself; the case names the agent
(received_by) and the session records the agent as the applicant participant.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.case_api import _actor
from server.case_pages import AGENT_MODES, counter_items
from server.pages import render
from server.points_api import _json, body_of, guarded
from server.register.case_types import CaseError, CaseForbidden
from server.register.points_types import PointsError
from server.video_session import State

routes = web.RouteTableDef()
BASE = "/api/village"
RECORDS = web.AppKey("village_records", Any)


@routes.get("/village")
@allow("agent")
async def village_page(request: web.Request) -> web.Response:
    catalogue = request.app[K.CATALOGUE]
    place = catalogue.places.get(request[IDENTITY].place or "")
    items = counter_items(catalogue, place)
    return render(
        request,
        "village.html",
        place=place,
        village=place is not None and place.kind == "village_point",
        video_items=[i for i in items if "video" in i.modes and "assisted" in i.modes],
        convenience=list(catalogue.convenience.values()),
        modes=AGENT_MODES,
    )


@routes.post(BASE + "/records")
@allow("agent")
@guarded
async def file_record(request: web.Request) -> web.Response:
    """A convenience record: {item, applicant_name, applicant_id, applicant_disabled, fields}."""
    body = await body_of(request)
    service = request.app[RECORDS]
    keys = ("item", "applicant_name", "applicant_id", "applicant_disabled", "fields")
    values = {k: body[k] for k in keys if k in body}
    record = await asyncio.to_thread(service.file, _actor(request), **values)
    return _json(record, status=201)


@routes.get(BASE + "/records")
@allow("agent", "township_admin", "supervisor")
@guarded
async def list_records(request: web.Request) -> web.Response:
    service = request.app[RECORDS]
    point = request.query.get("point") or None
    records = await asyncio.to_thread(service.list, _actor(request), point)
    return _json({"records": records})


@routes.get(BASE + "/records/{id}")
@allow("agent", "township_admin", "supervisor")
@guarded
async def get_record(request: web.Request) -> web.Response:
    try:
        record_id = int(request.match_info["id"])
    except ValueError:
        raise PointsError("record", "invalid", "a record number", "记录编号无效") from None
    record = await asyncio.to_thread(request.app[RECORDS].get, _actor(request), record_id)
    return _json(record)


@routes.post(BASE + "/cases/{number}/session")
@allow("agent")
@guarded
async def link_own_session(request: web.Request) -> web.Response:
    """Link the agent's case to the live session the agent is in on the applicant's behalf."""
    body = await body_of(request)
    ident = request[IDENTITY]
    service, actor = request.app[K.CASES], _actor(request)
    number = request.match_info["number"]
    case = await asyncio.to_thread(service.get, actor, number)  # another point's: 403
    live = request.app[K.SESSIONS].of(ident.holder)
    session_id = body.get("session")
    if not isinstance(session_id, str) or not session_id:
        raise CaseError("session", "required", "the id of your live video session")
    if live is None or live.id != session_id or live.state == State.ENDED:
        raise CaseForbidden(f"{session_id!r} is not your current video session")
    if live.applicant.holder != ident.holder:
        raise CaseForbidden("only the applicant side of the session links its case")
    if case.summary.item != live.item:
        raise CaseError(
            "item", "not_allowed", f"the session is for {live.item}, not {case.summary.item}"
        )
    case = await asyncio.to_thread(service.link_session, actor, number, live.id)
    await request.app[K.DOCCAM].linked(live, case, actor.ref)
    return _json(case.to_json())
