"""HTTP calls about a live session, replayed at the process that owns it.

A few HTTP routes act on the caller's live video session (linking a case to
the call, a kiosk storing a still of it). With several processes behind one
address the request may land on a process that does not hold the session;
it is then sent as it came (method, path, query, headers, body) to the
owner's registry address, and the owner's answer is returned unchanged. The
header `X-RW-Forwarded` marks a replayed request so it is never replayed
again (a client setting it only gets the local answer).
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from server import appkeys as K

log = logging.getLogger(__name__)
FORWARDED = "X-RW-Forwarded"
# Not passed on: the connection's own framing, recomputed by the client.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te"}
)
TIMEOUT_S = 30.0


async def to_owner(
    request: web.Request, holder: str, body: bytes | None = None
) -> web.Response | None:
    """The owner's answer when `holder`'s session lives on another process, else None.

    `body`: the request body when the handler has already read it from the stream."""
    cluster = request.app.get(K.CLUSTER)
    if cluster is None or request.headers.get(FORWARDED):
        return None
    owner = await cluster.router.owner_of(holder)
    if owner is None:
        return None
    return await to_process(request, owner, body)


async def to_process(
    request: web.Request, owner: str, body: bytes | None = None
) -> web.Response | None:
    """The request replayed at the live process `owner` (None: it is gone, or
    the request was replayed already)."""
    cluster = request.app.get(K.CLUSTER)
    if cluster is None or request.headers.get(FORWARDED):
        return None
    info = await cluster.registry.get(owner)
    if info is None:
        return None
    data = body if body is not None else await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers[FORWARDED] = cluster.id
    url = f"http://{info.address}{request.rel_url}"
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as http,
        http.request(request.method, url, data=data, headers=headers) as resp,
    ):
        payload = await resp.read()
        log.info("http replayed at the session's process", extra={"status": resp.status})
        out = web.Response(status=resp.status, body=payload)
        for key in ("Content-Type", "Content-Encoding", "Cache-Control"):
            if key in resp.headers:
                out.headers[key] = resp.headers[key]
        return out
