"""Ratings (好差评) over HTTP: the kiosk rates its session, the applicant a case.

    GET  /api/ratings/options                 public: levels, reason codes, comment limit
    POST /api/ratings/sessions/{session_id}   kiosk (device token): {"level", "reasons", "comment"}
    GET  /rate/{code}                         public: the receipt's rating page
    POST /rate/{code}                         public: the page's form (level, reasons, comment)
    POST /api/rate/{code}                     public: the same as JSON

A kiosk rates over HTTP with its device token (not a signaling message: the
rating comes after the session, when the socket may be gone, and a plain
request gets a plain answer). Which kiosk was in the session is read from
the session's signed archive manifest (the applicant participant), so the
check holds on any server process and after a restart; the request waits
until the manifest is signed (moments after the end). A second rating is
409 `already_rated`; a session that never went live, another kiosk's, or
one past `ratings.session_window_minutes` 409 with a code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.approval_pages import state_names
from server.auth import IDENTITY, PUBLIC, allow
from server.case_api import _body, _guarded, _json
from server.case_index import find_case, participants, reviewers
from server.pages import render
from server.register.case_types import SESSION_RE, CaseError
from server.register.ratings import SessionFacts

routes = web.RouteTableDef()


class SessionNotFound(CaseError):
    status = 404

    def __init__(self, session_id: str) -> None:
        super().__init__("session", "not_found", f"no finished session {session_id}")


@routes.get("/api/ratings/options")
@allow(PUBLIC)
async def rating_options(request: web.Request) -> web.Response:
    return _json(request.app[K.RATINGS].options())


async def session_facts(request: web.Request, session_id: str) -> SessionFacts:
    """The session as its signed archive records it (404 until it is signed)."""
    if not SESSION_RE.match(session_id):
        raise CaseError("session", "invalid", "a session id like 20260102-030405-0a0b0c0d")
    recorder = request.app[K.RECORDER]
    await recorder.wait_finalized(session_id)
    key = recorder.signer.public_key if recorder.signer is not None else None
    found = await asyncio.to_thread(find_case, recorder.root, session_id, key)
    if found is None or not found.signed:
        raise SessionNotFound(session_id)
    manifest = found.manifest
    applicant = next(
        (p.get("holder") for p in participants(manifest) if p.get("role") != "reviewer"), None
    )
    ended = manifest.get("finalized_at")
    try:
        ended_at = datetime.fromisoformat(str(ended).replace("Z", "+00:00"))
    except ValueError:
        raise SessionNotFound(session_id) from None
    people = reviewers(manifest)
    return SessionFacts(
        session_id=session_id,
        applicant=str(applicant or ""),
        reviewer=people[0] if people else None,
        item=str(manifest.get("item") or ""),
        place=str(manifest.get("place") or ""),
        ended_at=ended_at,
        served=(manifest.get("info") or {}).get("live_at") is not None,
    )


def _fields(body: dict[str, Any]) -> tuple[Any, Any, Any]:
    return body.get("level"), body.get("reasons"), body.get("comment")


@routes.post("/api/ratings/sessions/{session_id}")
@allow("kiosk")
@_guarded
async def rate_session(request: web.Request) -> web.Response:
    body = await _body(request)
    level, reasons, comment = _fields(body)
    service = request.app[K.RATINGS]
    service.check(level, reasons, comment)  # bad input: 400 before the archive is read
    facts = await session_facts(request, request.match_info["session_id"])
    rater = request[IDENTITY].holder
    out = await asyncio.to_thread(service.rate_session, facts, rater, level, reasons, comment)
    return _json(out, status=201)


@routes.post("/api/rate/{code}")
@allow(PUBLIC)
@_guarded
async def rate_case_json(request: web.Request) -> web.Response:
    body = await _body(request)
    level, reasons, comment = _fields(body)
    service = request.app[K.RATINGS]
    code = request.match_info["code"]
    out = await asyncio.to_thread(service.rate_case, code, level, reasons, comment)
    return _json(out, status=201)


# -- the public page -----------------------------------------------------------
def _page(
    request: web.Request, found: dict[str, Any] | None, status: int = 200, **extra: Any
) -> web.Response:
    options = request.app[K.RATINGS].options()
    if found is None:
        return render(request, "rate.html", status=404, found=None, options=options, **extra)
    item = request.app[K.CATALOGUE].items.get(found["item"])
    names = item.names.to_json() if item else {"zh": found["item"], "en": found["item"]}
    context = {
        "item_names": names,
        "state": state_names(found["state"]),
        "error": None,
        "link_days": request.app[K.CONFIG].ratings.case_link_days,
    }
    context.update(extra)
    return render(request, "rate.html", status=status, found=found, options=options, **context)


@routes.get("/rate/{code}")
@allow(PUBLIC)
async def rate_page(request: web.Request) -> web.Response:
    service = request.app[K.RATINGS]
    found = await asyncio.to_thread(service.case_for_code, request.match_info["code"])
    return _page(request, found)


@routes.post("/rate/{code}")
@allow(PUBLIC)
async def rate_form(request: web.Request) -> web.Response:
    service = request.app[K.RATINGS]
    code = request.match_info["code"]
    form = await request.post()
    raw_level = form.get("level")
    level: Any = int(raw_level) if isinstance(raw_level, str) and raw_level.isdigit() else None
    reasons = [r for r in form.getall("reason", []) if isinstance(r, str)]
    comment = form.get("comment", "")
    error = None
    try:
        await asyncio.to_thread(service.rate_case, code, level, reasons, comment)
    except CaseError as exc:
        if exc.field == "code":
            return _page(request, None)
        error = exc.code
    found = await asyncio.to_thread(service.case_for_code, code)
    if found is None:
        return _page(request, None)
    return _page(request, found, 200 if error is None else 400, error=error)
