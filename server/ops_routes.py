"""Operations routes: the Prometheus scrape and per-stream media figures.

`GET /metrics` carries no session, participant or account ids (see
server/metrics.py, rendered by server/scrape.py) and, when `metrics.token` is set, needs
`Authorization: Bearer <token>`. The per-stream figures, which do name live
sessions and participants, are for signed-in admins and supervisors only:
`GET /api/admin/media-stats`.
"""

from __future__ import annotations

import json
import secrets

from aiohttp import web

from server import appkeys as K
from server.auth import PUBLIC, allow
from server.scrape import exposition

routes = web.RouteTableDef()
STREAM_FIELDS = (
    "session",
    "participant",
    "kind",
    "direction",
    "bitrate_bps",
    "packets_lost",
    "jitter",
    "frames_forwarded",
    "keyframe_requests",
    "frames_dropped",
)


def _token_ok(request: web.Request, token: str) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        sent.strip().encode(), token.encode()
    )


@routes.get("/metrics")
@allow(PUBLIC)
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    token = app[K.CONFIG].metrics.token
    if token and not _token_ok(request, token):
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "unauthenticated"}),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await exposition(app)
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/api/admin/media-stats")
@allow("sysadmin", "supervisor")
async def media_stats(request: web.Request) -> web.Response:
    """Per live stream: session, participant, kind, direction and its figures."""
    rows = await request.app[K.MEDIA].stream_stats()
    streams = [{k: row.get(k) for k in STREAM_FIELDS} for row in rows]
    response = web.json_response({"streams": streams})
    response.headers["Cache-Control"] = "no-store"
    return response
