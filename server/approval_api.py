"""The approval document (回传批件) over HTTP, and the public verification API.

    POST /api/register/cases/{number}/approval          reviewer of the item
         JSON {"reasons": "..."}: approve, and the server generates the document;
         or the PDF itself as the body (Content-Type: application/pdf,
         ?reasons=...): approve and store that PDF.
    GET  /api/register/cases/{number}/approval          the PDF (access.downloaded)
    GET  /api/verify/{code}                             public: number, item, decision, SHA-256

Approving is one step (server/register/approvals.py): a refusal (403, 409
`wrong_state` or `materials_missing`, 413 `too_large`, 415 `wrong_type`)
writes nothing. Links printed into documents start at `server.public_url`,
or at the address the request came to when that is not set.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, PUBLIC, allow
from server.case_api import BASE, READERS, _actor, _body, _guarded, _json, case_json, public_base
from server.case_documents_api import _read_limited
from server.case_index import append_access
from server.register.case_types import CaseError

routes = web.RouteTableDef()
APPROVAL = BASE + "/{number}/approval"


@routes.post(APPROVAL)
@allow("reviewer")
@_guarded
async def approve_case(request: web.Request) -> web.Response:
    service = request.app[K.APPROVALS]
    pdf: bytes | None = None
    if request.content_type == "application/json":
        body = await _body(request)
        reasons = body.get("reasons", "")
    else:  # the document itself; its type is taken from its first bytes
        reasons = request.query.get("reasons", "")
        pdf = await _read_limited(request, service.documents.max_bytes)
    if not isinstance(reasons, str):
        raise CaseError("reasons", "invalid", "a string")
    case = await asyncio.to_thread(
        service.approve,
        _actor(request),
        request.match_info["number"],
        reasons=reasons,
        pdf=pdf,
        base_url=public_base(request),
    )
    return _json(case_json(request, case))


@routes.get(APPROVAL)
@allow(*READERS)
@_guarded
async def get_approval(request: web.Request) -> web.StreamResponse:
    service = request.app[K.APPROVALS]
    number = request.match_info["number"]
    found = await asyncio.to_thread(service.file, _actor(request), number)
    data = await asyncio.to_thread(found.path.read_bytes)
    ident = request[IDENTITY]
    info: dict[str, Any] = {"role": ident.role, "ip": request.remote, "file": found.file}
    await asyncio.to_thread(
        append_access, found.path.parent.parent, "access.downloaded", ident.subject, info
    )
    request.app[K.RECORDER].system("access.downloaded", ident.subject, {"case": number, **info})
    response = web.Response(body=data, content_type="application/pdf")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    return response


@routes.get("/api/verify/{code}")
@allow(PUBLIC)
async def verify_api(request: web.Request) -> web.Response:
    """Only the case number, the item, the state or decision and the document's SHA-256."""
    found = await asyncio.to_thread(request.app[K.APPROVALS].public, request.match_info["code"])
    if found is None:
        return _json({"error": "not_found", "message": "no case has this verification code"}, 404)
    return _json(found)
