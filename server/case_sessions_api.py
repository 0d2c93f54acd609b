"""Link a case to the reviewer's live video session (受理 during a call).

`POST /api/register/cases/{number}/sessions` with `{"session": "<id>"}`: only
the reviewer of that live session, and only for a case of one of their items
(the case service's rule). Linking twice is harmless. Once linked, the kiosk
of the session may store camera stills into the case, and `doc.capture`
works for it (server/doc_capture.py). A new case for the session is
`POST /api/register/cases` with `"session"` (server/case_api.py).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.case_api import BASE, _actor, _body, _guarded, _json
from server.cluster import proxy

routes = web.RouteTableDef()


@routes.post(BASE + "/{number}/sessions")
@allow("reviewer")
@_guarded
async def link_session(request: web.Request) -> web.Response:
    body = await _body(request)
    remote = await proxy.to_owner(request, request[IDENTITY].holder)
    if remote is not None:  # the call lives on another server process
        return remote
    doccam = request.app[K.DOCCAM]
    live = doccam.reviewer_session(request[IDENTITY], body.get("session"))
    actor = _actor(request)
    service = request.app[K.CASES]
    number = request.match_info["number"]
    case = await asyncio.to_thread(service.link_session, actor, number, live.id)
    await doccam.linked(live, case, actor.ref)
    return _json(case.to_json())
