"""JSON API: sign-in, the caller, the catalogue, admin, health and metrics."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.accounts import STAFF_ROLES, AccountError
from server.auth import COOKIE, IDENTITY, PUBLIC, LoginLocked, allow
from server.origin import origin_allowed

routes = web.RouteTableDef()


def _json_error(status: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    return status(
        text=json.dumps({"error": code, "message": message}, ensure_ascii=False),
        content_type="application/json",
    )


async def _json_body(request: web.Request, max_bytes: int = 16_384) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > max_bytes:
        raise _json_error(web.HTTPRequestEntityTooLarge, "too_large", "body too large")
    try:
        body = await request.json()
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "bad_json", "body must be JSON") from None
    if not isinstance(body, dict):
        raise _json_error(web.HTTPBadRequest, "bad_json", "body must be a JSON object")
    return body


def _same_origin(request: web.Request) -> bool:
    return origin_allowed(request, request.app[K.CONFIG].server)


@routes.post("/api/login")
@allow(PUBLIC)
async def login(request: web.Request) -> web.Response:
    if not _same_origin(request):
        raise _json_error(web.HTTPForbidden, "origin", "origin not allowed")
    body = await _json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64:
        raise _json_error(web.HTTPBadRequest, "bad_field", "username and password are required")
    auth = request.app[K.AUTH]
    recorder = request.app[K.RECORDER]
    metrics = request.app[K.METRICS]
    try:
        ident, _ = await auth.login(username, password[:1024])
    except LoginLocked as exc:
        metrics.logins["locked"] += 1
        recorder.system("auth.locked", username, {})
        return web.json_response(
            {"error": "locked", "retry_after_s": exc.retry_after},
            status=423,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if ident is None:
        metrics.logins["failed"] += 1
        recorder.system("auth.failed", username, {"ip": request.remote})
        raise _json_error(web.HTTPUnauthorized, "bad_credentials", "wrong username or password")
    metrics.logins["ok"] += 1
    recorder.system("auth.signed_in", username, {"ip": request.remote, "role": ident.role})
    response = web.json_response({"user": ident.public(), "csrf": ident.csrf})
    response.set_cookie(
        COOKIE,
        ident.session_id or "",
        httponly=True,
        samesite="Strict",
        secure=request.app[K.CONFIG].server.tls or request.secure,
        path="/",
    )
    return response


@routes.post("/api/logout")
@allow("reviewer", "supervisor", "agent", "admin")
async def logout(request: web.Request) -> web.Response:
    ident = request[IDENTITY]
    await request.app[K.AUTH].logout(ident)
    request.app[K.RECORDER].system("auth.signed_out", ident.subject, {})
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/api/me")
@allow("reviewer", "supervisor", "agent", "admin", "kiosk")
async def me(request: web.Request) -> web.Response:
    ident = request[IDENTITY]
    return web.json_response({"user": ident.public(), "csrf": ident.csrf})


@routes.get("/api/catalogue")
@allow(PUBLIC)
async def catalogue(request: web.Request) -> web.Response:
    return web.json_response(request.app[K.CATALOGUE].to_json())


@routes.get("/api/admin/accounts")
@allow("admin")
async def list_accounts(request: web.Request) -> web.Response:
    accounts = request.app[K.ACCOUNTS]
    return web.json_response(
        {
            "users": [
                {
                    "username": u.username,
                    "role": u.role,
                    "display_name": u.display_name,
                    "items": list(u.items),
                    "place": u.place,
                    "level": u.level,
                    "disabled": u.disabled,
                }
                for u in accounts.users()
            ],
            "kiosks": [{"id": k.id, "name": k.name, "place": k.place} for k in accounts.kiosks()],
        }
    )


@routes.post("/api/admin/users")
@allow("admin")
async def add_user(request: web.Request) -> web.Response:
    body = await _json_body(request)
    accounts = request.app[K.ACCOUNTS]
    try:
        items = body.get("items") or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise AccountError("items: a list of item codes")
        unknown = [i for i in items if i not in request.app[K.CATALOGUE].items]
        if unknown:
            raise AccountError(f"items: unknown codes {', '.join(unknown)}")
        role = str(body.get("role", ""))
        if role not in STAFF_ROLES:
            raise AccountError(f"role: expected one of {', '.join(STAFF_ROLES)}")
        user = accounts.add_user(
            str(body.get("username", "")),
            str(body.get("password", "")),
            role,
            display_name=body.get("display_name") or None,
            items=items,
            place=body.get("place") or None,
        )
    except AccountError as exc:
        raise _json_error(web.HTTPBadRequest, "bad_field", str(exc)) from None
    request.app[K.RECORDER].system(
        "account.created", request[IDENTITY].subject, {"username": user.username, "role": role}
    )
    return web.json_response({"username": user.username}, status=201)


@routes.get("/healthz")
@allow(PUBLIC)
async def healthz(request: web.Request) -> web.Response:
    try:
        ok = await request.app[K.STORE].ping()
    except Exception:
        ok = False
    return web.json_response({"ok": ok}, status=200 if ok else 503)


@routes.get("/metrics")
@allow(PUBLIC)
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    store = app[K.STORE]
    waiting: dict[str, int] = {}
    for item in app[K.CATALOGUE].items.values():
        waiting[item.code] = len(await store.waiting(item.queue_key))
    sessions = Counter(s.state.value for s in app[K.SESSIONS].active())
    streams = await app[K.MEDIA].stream_stats()
    recorder = app[K.RECORDER]
    text = app[K.METRICS].render(
        waiting, dict(sessions), streams, (recorder.write_seconds, recorder.packets_written)
    )
    return web.Response(text=text, content_type="text/plain", charset="utf-8")
