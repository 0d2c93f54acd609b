"""The supervisors' live dashboard (审管联动) over HTTP.

    GET /supervision       the page: tiles and tables, updated by the socket's
                           supervision.snapshot / supervision.update pushes
    GET /api/supervision   the same snapshot as JSON (supervisors, admins)

A supervisor bound to service items sees their departments only
(server/supervision_scope.py). Admins may read the page and the API; they
have no socket, so their page shows the snapshot as of opening (it says so)
and is refreshed by reloading.
"""

from __future__ import annotations

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.pages import render

routes = web.RouteTableDef()
ROLES = ("supervisor", "sysadmin")


@routes.get("/supervision")
@allow(*ROLES)
async def supervision_page(request: web.Request) -> web.Response:
    return render(request, "supervision.html")


@routes.get("/api/supervision")
@allow(*ROLES)
async def supervision_api(request: web.Request) -> web.Response:
    snapshot = await request.app[K.SUPERVISION].snapshot(request[IDENTITY])
    return web.json_response(snapshot, headers={"Cache-Control": "no-store"})
