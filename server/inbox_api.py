"""The inbox (待办) over HTTP: the caller's open cases by deadline, with counts.

`GET /api/register/inbox`: a reviewer's open cases of their items, an agent's
of their place, a supervisor's of all; fewest remaining working days first,
each flagged `overdue` / `due_soon`; `counts` of all open, overdue and due
soon ones (not cut at the list's limit). The desk refetches it when a
`case.updated` push arrives (server/case_push.py), so it never polls.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import appkeys as K
from server.auth import allow
from server.case_api import _actor, _guarded, _json
from server.register.case_deadlines import inbox

routes = web.RouteTableDef()
PATH = "/api/register/inbox"


@routes.get(PATH)
@allow("agent", "reviewer", "supervisor")
@_guarded
async def get_inbox(request: web.Request) -> web.Response:
    found, counts = await asyncio.to_thread(inbox, request.app[K.CASES], _actor(request))
    return _json({"cases": [c.to_json() for c in found], "counts": counts})
