"""云踏勘 over HTTP: the invitation, the phone's page and check, evidence, checklist.

POST /api/inspections                      reviewer of the live session: invite
     {"session", "case", "name"}           → token (once), link, QR (SVG), SMS text
GET  /inspect/{token}                      the phone's page (public shell)
POST /api/inspect/check {"token","device"} may this link be used now? (public;
                                           refusals in plain words, audited)
POST /api/register/cases/{number}/evidence?request=&point=   the inspector's phone
     body: the JPEG still                  (bearer token; another case: 403 other_case)
GET  /api/register/cases/{number}/evidence               stills and checklist
GET  /api/register/cases/{number}/evidence/{n}?copy=original|stamped   (audited)
POST /api/register/cases/{number}/inspection/checks {"point","evidence"}  reviewer
"""

from __future__ import annotations

import asyncio
from typing import Any

import segno
from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, PUBLIC, allow
from server.case_api import BASE, READERS, _actor, _body, _guarded, _json, public_base
from server.case_documents_api import _read_limited
from server.case_index import append_access
from server.cluster import proxy
from server.inspection_model import REFUSALS, InspectionRefused, words
from server.pages import render
from server.register.case_types import CaseError, CaseForbidden
from signaling.errors import ProtocolError
from signaling.messages import InspectChecked, InspectEvidence

routes = web.RouteTableDef()
EVIDENCE = BASE + "/{number}/evidence"
STATUS = {"unknown": 404, "expired": 410, "ended": 410, "in_use": 409, "other_case": 403}


def _refusal(code: str) -> web.Response:
    return _json({"ok": False, "code": code, "notice": words(REFUSALS, code)}, STATUS[code])


@routes.post("/api/inspections")
@allow("reviewer")
@_guarded
async def create_invitation(request: web.Request) -> web.Response:
    body = await _body(request)
    ident = request[IDENTITY]
    session = request.app[K.DOCCAM].reviewer_session(ident, body.get("session"))
    case, name = body.get("case"), body.get("name", "")
    if not isinstance(case, str) or not case:
        raise CaseError("case", "required", "the number of a case linked to the session")
    if not isinstance(name, str) or len(name) > 32:
        raise CaseError("name", "invalid", "the inspector's name, at most 32 characters")
    try:
        insp, token = await request.app[K.INSPECTIONS].create(ident, session, case, name.strip())
    except ProtocolError as exc:
        raise CaseForbidden(exc.message) from None
    link = f"{public_base(request)}/inspect/{token}"
    qr = segno.make(link, error="m", micro=False)
    minutes = round(request.app[K.CONFIG].inspection.token_minutes)
    sms = (
        f"【远程虚拟窗口】您被邀请进行云踏勘（办件 {case}）。请在 {minutes} 分钟内用手机打开："
        f"{link} 全程录音录像，链接仅限本人一次使用。"
    )
    return _json(
        {
            **insp.public(),
            "token": token,
            "url": link,
            "qr_svg": qr.svg_inline(scale=4, border=2, title=case, svgclass="qr"),
            "sms": sms,
            "minutes": minutes,
        },
        status=201,
    )


@routes.get("/inspect/{token}")
@allow(PUBLIC)
async def inspect_page(request: web.Request) -> web.Response:
    """Public shell: the page checks its token (POST /api/inspect/check) itself."""
    response = render(request, "inspect.html")
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the path
    return response


@routes.post("/api/inspect/check")
@allow(PUBLIC)
async def check_token(request: web.Request) -> web.Response:
    body = await _body_or_empty(request)
    token, device = body.get("token"), body.get("device")
    if not isinstance(token, str) or not isinstance(device, str) or not 8 <= len(device) <= 64:
        return _json(
            {"ok": False, "code": "bad_request", "notice": words(REFUSALS, "unknown")}, 400
        )
    inspections = request.app[K.INSPECTIONS]
    try:
        record = await inspections.remote_record(token)
        if record is not None:  # another process holds this inspection
            owner = await inspections.shared.owner(record)  # type: ignore[union-attr]
            remote = await proxy.to_process(request, owner) if owner else None
            if remote is not None:
                return remote
            await inspections.check_remote(record, device)  # its process is gone: refused
        insp = await inspections.check(token, device)
    except InspectionRefused as exc:
        inspections.refused(token, exc.code, "check", request.remote)
        return _refusal(exc.code)
    inspections.audit(insp, "inspection.opened", None, {"ip": request.remote})
    return _json(
        {
            "ok": True,
            "inspection": insp.public(),
            "stills_every_s": request.app[K.CONFIG].inspection.stills_every_seconds,
        }
    )


async def _body_or_empty(request: web.Request) -> dict[str, Any]:
    try:
        return await _body(request)
    except CaseError:
        return {}


@routes.post(EVIDENCE)
@allow("inspector")
@_guarded
async def upload_evidence(request: web.Request) -> web.Response:
    """The phone's still: stored unmodified plus a stamped copy, both chained."""
    app = request.app
    inspections = app[K.INSPECTIONS]
    ident = request[IDENTITY]
    insp = inspections.get(ident.subject)
    number = request.match_info["number"]
    if insp is None and inspections.shared is not None:  # held by another process
        owner = await inspections.shared.owner_of(ident.subject)
        data = await _read_limited(request, app[K.EVIDENCE].max_bytes)
        remote = await proxy.to_process(request, owner, data) if owner else None
        if remote is not None:
            return remote
    if insp is None or insp.state != "joined" or inspections.session_of(insp) is None:
        return _refusal("ended")
    if number != insp.case:
        inspections.audit(insp, "inspection.refused", ident.holder, {"reason": "other_case"})
        return _refusal("other_case")
    request_id = request.query.get("request", "")[:32]
    pending = insp.pending.pop(request_id, None) if request_id else None
    point = (pending or {}).get("point") or request.query.get("point", "")
    if point and point not in insp.points:
        raise CaseError("point", "unknown", "a point of this inspection's checklist")
    by = (pending or {}).get("by") or ("periodic" if request.query.get("periodic") else "inspector")
    data = await _read_limited(request, app[K.EVIDENCE].max_bytes)
    server_time = inspections.clock()
    record = await asyncio.to_thread(
        app[K.EVIDENCE].store,
        number,
        data,
        actor=ident.holder,
        inspector={"id": insp.id, "name": insp.name, "added_by": insp.by},
        fix=insp.last_fix,
        server_time=server_time,
        extra={"session": insp.session_id, "request": request_id, "point": point, "by": by},
    )
    # The session's own chain names the still kept in the case file (and its hashes).
    link = {"n": record["n"], "file": record["file"], "sha256": record["sha256"], "by": by}
    link["stamped_sha256"] = record["stamped"]["sha256"]
    inspections.audit(insp, "inspection.evidence", ident.holder, link)
    await inspections.tell_desks(insp, InspectEvidence(case=number, evidence=record))
    return _json(record, status=201)


@routes.get(EVIDENCE)
@allow(*READERS)
@_guarded
async def list_evidence(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    listing = await asyncio.to_thread(app_evidence(request).listing, _actor(request), number)
    return _json(listing)


def app_evidence(request: web.Request) -> Any:
    return request.app[K.EVIDENCE]


@routes.get(EVIDENCE + "/{n}")
@allow(*READERS)
@_guarded
async def get_evidence(request: web.Request) -> web.StreamResponse:
    number, raw = request.match_info["number"], request.match_info["n"]
    if not raw.isdigit():
        raise CaseError("evidence", "invalid", "the number of an evidence still")
    stamped = request.query.get("copy", "stamped") != "original"
    path = await asyncio.to_thread(
        app_evidence(request).file, _actor(request), number, int(raw), stamped
    )
    data = await asyncio.to_thread(path.read_bytes)
    ident = request[IDENTITY]
    rel = path.relative_to(path.parent.parent).as_posix()
    info = {"role": ident.role, "ip": request.remote, "file": rel}
    await asyncio.to_thread(
        append_access, path.parent.parent, "access.downloaded", ident.subject, info
    )
    request.app[K.RECORDER].system("access.downloaded", ident.subject, {"case": number, **info})
    response = web.Response(body=data, content_type="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post(BASE + "/{number}/inspection/checks")
@allow("reviewer")
@_guarded
async def tick_point(request: web.Request) -> web.Response:
    body = await _body(request)
    number = request.match_info["number"]
    actor = _actor(request)
    tick = await asyncio.to_thread(
        app_evidence(request).check, actor, number, body.get("point"), body.get("evidence")
    )
    inspections = request.app[K.INSPECTIONS]
    message = InspectChecked(
        case=number, point=tick["point"], evidence=tick["evidence"], by=actor.ref
    )
    for insp in inspections.cases_open(number):
        await inspections.tell_desks(insp, message)
    return _json(tick, status=201)
