"""Materials of a case over HTTP: store a page, list them, fetch one, mark one unreadable.

`POST /api/register/cases/{number}/documents?material=<code>&page=<n>&source=camera|upload`
takes the file as the raw request body (a document-camera still or a scanned
PDF/JPEG/PNG). The body is read up to `cases.max_document_bytes` and no
further: a larger one is 413 `too_large` before anything is stored. The type
is taken from the magic bytes (415 `wrong_type`), never from the name or the
Content-Type. Who: a reviewer of the item, an agent of the case's place, or
a kiosk (device token) whose live video session is linked to the case; a
kiosk's page is a camera still (`source=camera`, the default for it).

A page stored into (or marked unreadable in) a case linked to a live video
session is pushed to its desk and kiosk (`doc.stored`, `doc.recapture`).

Fetching a page is audited as `access.downloaded` in the case file's chain and
the system log, as archive downloads are.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.case_api import BASE, READERS, STAFF_WRITERS, _actor, _body, _guarded, _int, _json
from server.case_index import append_access
from server.cluster import proxy
from server.register.case_types import CaseError
from server.register.documents import TooLarge

routes = web.RouteTableDef()
DOCS = BASE + "/{number}/documents"
CHUNK = 64 * 1024


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise TooLarge(declared, limit)
    data = bytearray()
    while chunk := await request.content.read(CHUNK):
        data += chunk
        if len(data) > limit:
            raise TooLarge(len(data), limit)
    return bytes(data)


def _doc_id(request: web.Request) -> int:
    raw = request.match_info["doc_id"]
    if not raw.isdigit():
        raise CaseError("document", "invalid", "a document id")
    return int(raw)


@routes.post(DOCS)
@allow(*STAFF_WRITERS, "kiosk")
@_guarded
async def add_document(request: web.Request) -> web.Response:
    service = request.app[K.DOCUMENTS]
    material = request.query.get("material", "")
    if not material:
        raise CaseError("material", "required", "the checklist material this page belongs to")
    page = _int(request, "page", None)
    ident = request[IDENTITY]
    kiosk_session = None
    if ident.role == "kiosk":
        live = request.app[K.SESSIONS].of(ident.holder)
        kiosk_session = live.id if live is not None else None
    source = request.query.get("source", "camera" if ident.role == "kiosk" else "upload")
    data = await _read_limited(request, service.max_bytes)
    if ident.role == "kiosk" and kiosk_session is None:
        remote = await proxy.to_owner(request, ident.holder, data)
        if remote is not None:  # the kiosk's call lives on another server process
            return remote
    number = request.match_info["number"]
    doc = await asyncio.to_thread(
        service.add,
        _actor(request),
        number,
        material,
        data,
        page=page,
        source=source,
        kiosk_session=kiosk_session,
    )
    await request.app[K.DOCCAM].stored(number, doc)  # to the desk and kiosk of a live call
    return _json(doc, status=201)


@routes.get(DOCS)
@allow(*READERS)
@_guarded
async def list_documents(request: web.Request) -> web.Response:
    service = request.app[K.DOCUMENTS]
    number = request.match_info["number"]
    docs = await asyncio.to_thread(service.list, _actor(request), number)
    return _json({"number": number, "documents": docs})


@routes.get(DOCS + "/{doc_id}")
@allow(*READERS)
@_guarded
async def get_document(request: web.Request) -> web.StreamResponse:
    service = request.app[K.DOCUMENTS]
    number = request.match_info["number"]
    found = await asyncio.to_thread(service.file, _actor(request), number, _doc_id(request))
    data = await asyncio.to_thread(found.path.read_bytes)
    ident = request[IDENTITY]
    info: dict[str, Any] = {
        "role": ident.role,
        "ip": request.remote,
        "file": found.document["file"],
    }
    await asyncio.to_thread(
        append_access, found.path.parent.parent, "access.downloaded", ident.subject, info
    )
    request.app[K.RECORDER].system("access.downloaded", ident.subject, {"case": number, **info})
    response = web.Response(body=data, content_type=found.media_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@routes.post(DOCS + "/{doc_id}/unreadable")
@allow("reviewer")
@_guarded
async def mark_unreadable(request: web.Request) -> web.Response:
    body = await _body(request)
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise CaseError("reason", "invalid", "a string")
    service = request.app[K.DOCUMENTS]
    number = request.match_info["number"]
    doc = await asyncio.to_thread(
        service.mark_unreadable, _actor(request), number, _doc_id(request), reason
    )
    await request.app[K.DOCCAM].unreadable(number, doc)  # the kiosk is asked to recapture
    return _json(doc)
