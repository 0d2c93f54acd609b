"""The case register over HTTP (办件): receive, list, open, move a case.

Under /api/register/cases because /api/cases is the archive's recordings list
(the replay pages read it). Who may do what is the case service's rule
(server/register/case_types.py): an agent acts at its own place only, a
reviewer on its items; a refusal is 403 with the reason, a wrong state 409,
bad input 400 naming the field; nothing is written then. The register is
synchronous SQLAlchemy, so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.cluster import proxy
from server.register.case_queries import CaseFilter
from server.register.case_types import Actor, CaseDetail, CaseError

routes = web.RouteTableDef()
BASE = "/api/register/cases"
READERS = ("agent", "reviewer", "supervisor")
STAFF_WRITERS = ("agent", "reviewer")


def _actor(request: web.Request) -> Actor:
    ident = request[IDENTITY]
    return Actor(ident.subject, ident.role, place=ident.place, items=tuple(ident.items))


def _json(body: Any, status: int = 200) -> web.Response:
    response = web.json_response(body, status=status)
    response.headers["Cache-Control"] = "no-store"  # applicant data: never cached
    return response


def public_base(request: web.Request) -> str:
    """Where links printed into documents start: `server.public_url`, or the address
    the request came to (set public_url behind a proxy or a DNS name)."""
    configured = request.app[K.CONFIG].server.public_url
    return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"


def case_json(request: web.Request, case: CaseDetail) -> dict[str, Any]:
    """The case as JSON, with its public verification link (`verify_url`, also in
    `approval` once the document is issued)."""
    body = case.to_json()
    url = request.app[K.APPROVALS].verify_url(public_base(request), case.number)
    body["verify_url"] = url
    if body["approval"] is not None:
        body["approval"]["verify_url"] = url
    return body


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise CaseError("body", "invalid", "expected a JSON object")
    return body


def _guarded(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except CaseError as exc:
            if exc.status == 403:  # another place's or item's case: audited
                ident = request[IDENTITY]
                data = {"path": request.path, "method": request.method, "field": exc.field}
                request.app[K.RECORDER].system(
                    "case.refused", f"{ident.role}:{ident.subject}", data
                )
            return _json(exc.to_json(), status=exc.status)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _int(request: web.Request, key: str, default: int | None) -> int | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise CaseError(key, "invalid", "a whole number") from None


def _filter(request: web.Request) -> CaseFilter:
    q = request.query
    states = tuple(s for s in q.get("state", "").split(",") if s)
    return CaseFilter(
        place=q.get("place") or None,
        item=q.get("item") or None,
        state=states,
        department=q.get("department") or None,
        overdue=q.get("overdue", "") in ("1", "true", "yes"),
        due_within=_int(request, "due_within", None),
        limit=_int(request, "limit", 100) or 0,
        offset=_int(request, "offset", 0) or 0,
        order=q.get("order") or "deadline",
    ).check()


@routes.post(BASE)
@allow(*STAFF_WRITERS)
@_guarded
async def create_case(request: web.Request) -> web.Response:
    """Receive a case; with `"session"` (the reviewer's live video session), the
    item, place and mode (video) default to the session's and it is linked."""
    body = await _body(request)
    fields = ("item", "mode", "applicant_name", "applicant_id", "place")
    kwargs = {k: body.get(k) for k in fields}
    live = None
    if "session" in body:
        remote = await proxy.to_owner(request, request[IDENTITY].holder)
        if remote is not None:  # the call lives on another server process
            return remote
        live = request.app[K.DOCCAM].reviewer_session(request[IDENTITY], body["session"])
        defaults = {"item": live.item, "place": live.place, "mode": "video"}
        kwargs.update({k: v for k, v in defaults.items() if kwargs[k] is None})
    for key in fields[:4]:
        if not isinstance(kwargs[key], str):
            raise CaseError(key, "required", "a string")
    if kwargs["place"] is not None and not isinstance(kwargs["place"], str):
        raise CaseError("place", "invalid", "a place code")
    disabled = body.get("applicant_disabled", False)
    service, actor = request.app[K.CASES], _actor(request)
    session_id = live.id if live else None
    # Received in a call with an assisting agent (乡村随身办): the case names the agent.
    agent = live.applicant.holder if live and live.applicant.role == "agent" else None
    case = await asyncio.to_thread(
        service.create,
        actor,
        **kwargs,
        session_id=session_id,
        applicant_disabled=disabled,
        assisted_by=agent,
    )
    if live is not None:
        await request.app[K.DOCCAM].linked(live, case, actor.ref)
    return _json(case_json(request, case), status=201)


@routes.get(BASE)
@allow(*READERS)
@_guarded
async def list_cases(request: web.Request) -> web.Response:
    flt = _filter(request)
    service, actor = request.app[K.CASES], _actor(request)
    found = await asyncio.to_thread(service.list_cases, actor, flt)
    counts = await asyncio.to_thread(service.count_by_state, actor, flt)
    return _json({"cases": [c.to_json() for c in found], "counts": counts, "limit": flt.limit})


@routes.get(BASE + "/{number}")
@allow(*READERS)
@_guarded
async def get_case(request: web.Request) -> web.Response:
    service = request.app[K.CASES]
    case = await asyncio.to_thread(service.get, _actor(request), request.match_info["number"])
    return _json(case_json(request, case))


@routes.get(BASE + "/{number}/id-number")
@allow("reviewer")
@_guarded
async def case_id_number(request: web.Request) -> web.Response:
    """The full ID number, for the reviewer's case page only (audited)."""
    service = request.app[K.CASES]
    number = request.match_info["number"]
    value = await asyncio.to_thread(service.id_number, _actor(request), number)
    return _json({"number": number, "id_number": value})


@routes.post(BASE + "/{number}/transition")
@allow(*STAFF_WRITERS)
@_guarded
async def transition_case(request: web.Request) -> web.Response:
    body = await _body(request)
    to, reason = body.get("to"), body.get("reason", "")
    if not isinstance(to, str):
        raise CaseError("to", "required", "the state to move to")
    if not isinstance(reason, str):
        raise CaseError("reason", "invalid", "a string")
    service = request.app[K.CASES]
    number = request.match_info["number"]
    case = await asyncio.to_thread(service.transition, _actor(request), number, to, reason)
    return _json(case_json(request, case))
