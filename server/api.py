"""JSON API: sign-in, the caller, the catalogue, admin and health (metrics: ops_routes)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.accounts import USERNAME_MAX
from server.auth import (
    COOKIE,
    IDENTITY,
    PUBLIC,
    STAFF,
    LoginRefused,
    SecondFactor,
    allow,
    restricted_ok,
)
from server.connections import CLOSE_SIGNED_OUT
from server.landing import home_for, landing_for
from server.login_audit import username_label
from server.login_limits import address_bucket, client_address
from server.origin import origin_allowed

routes = web.RouteTableDef()


def _json_error(status: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    return status(
        text=json.dumps({"error": code, "message": message}, ensure_ascii=False),
        content_type="application/json",
    )


async def json_body(request: web.Request, max_bytes: int = 16_384) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > max_bytes:
        raise web.HTTPRequestEntityTooLarge(
            max_bytes,
            request.content_length,
            text=json.dumps({"error": "too_large", "message": f"body over {max_bytes} bytes"}),
            content_type="application/json",
        )
    try:
        body = await request.json()
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "bad_json", "body must be JSON") from None
    if not isinstance(body, dict):
        raise _json_error(web.HTTPBadRequest, "bad_json", "body must be a JSON object")
    return body


@routes.post("/api/login")
@allow(PUBLIC)
async def login(request: web.Request) -> web.Response:
    """Sign in. Limits are checked per address and account before anything is
    written; each refusal of an account is audited (a throttled address's in
    aggregate), unknown usernames only as a keyed hash. Unknown and known
    usernames get the same answers after the same work."""
    if not origin_allowed(request, request.app[K.CONFIG].server):
        raise _json_error(web.HTTPForbidden, "origin", "origin not allowed")
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    raw_next, code = body.get("next"), body.get("totp")
    if (
        not isinstance(username, str)
        or not isinstance(password, str)
        or not username
        or len(username) > USERNAME_MAX
        or not isinstance(raw_next, str | None)
        or not isinstance(code, str | None)
    ):
        raise _json_error(web.HTTPBadRequest, "bad_field", "username and password are required")
    app = request.app
    cfg = app[K.CONFIG]
    auth, recorder, metrics = app[K.AUTH], app[K.RECORDER], app[K.METRICS]
    address = client_address(request, cfg.auth.trusted_proxies)
    bucket = address_bucket(address)
    label = username_label(
        cfg.server.secret, username, app[K.ACCOUNTS].get_user(username) is not None
    )
    try:
        ident = await auth.login(username, password, bucket, code or None)
    except SecondFactor as exc:
        metrics.login("failed")
        recorder.system("auth.failed", label, {"ip": bucket, "factor": exc.code})
        raise _json_error(
            web.HTTPUnauthorized, exc.code, "a TOTP code from the authenticator app is needed"
        ) from None
    except LoginRefused as exc:
        refusal = exc.refusal
        metrics.login(refusal.kind)
        if exc.throttled is not None:
            recorder.system(
                "auth.address_throttled", None, {"ip": bucket, "seconds": exc.throttled.retry_after}
            )
        if refusal.new:
            event = "auth.locked" if refusal.kind == "locked" else "auth.address_throttled"
            recorder.system(event, label, {"ip": bucket, "seconds": refusal.retry_after})
        elif refusal.kind == "locked":
            recorder.system(
                "auth.refused_locked", label, {"ip": bucket, "seconds": refusal.retry_after}
            )
        else:
            # A throttled address's usernames were not looked at: count per address.
            app[K.LOGIN_AUDIT].add(refusal.kind, None, bucket)
        status = 423 if refusal.kind == "locked" else 429
        return web.json_response(
            {"error": refusal.kind, "retry_after_s": refusal.retry_after},
            status=status,
            headers={"Retry-After": str(refusal.retry_after)},
        )
    if ident is None:
        metrics.login("failed")
        recorder.system("auth.failed", label, {"ip": bucket})
        raise _json_error(web.HTTPUnauthorized, "bad_credentials", "wrong username or password")
    metrics.login("ok")
    recorder.system("auth.signed_in", username, {"ip": address, "role": ident.role})
    next_page = landing_for(app, ident, raw_next)
    if ident.restricted is not None:
        next_page = "/account"
    response = web.json_response({"user": ident.public(), "csrf": ident.csrf, "next": next_page})
    response.set_cookie(
        COOKIE,
        ident.session_id or "",
        httponly=True,
        samesite="Strict",
        secure=cfg.server.tls or request.secure,
        path="/",
    )
    return response


@routes.post("/api/logout")
@allow(*STAFF)
@restricted_ok
async def logout(request: web.Request) -> web.Response:
    """Sign out: the web session ends and the sockets it opened are closed."""
    ident = request[IDENTITY]
    await request.app[K.AUTH].logout(ident)
    if ident.session_id:
        await request.app[K.CONNECTIONS].close_sockets(
            CLOSE_SIGNED_OUT, web_session=ident.session_id
        )
    request.app[K.RECORDER].system("auth.signed_out", ident.subject, {})
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/api/me")
@allow(*STAFF, "kiosk")
@restricted_ok
async def me(request: web.Request) -> web.Response:
    ident = request[IDENTITY]
    return web.json_response(
        {"user": ident.public(), "csrf": ident.csrf, "home": home_for(request.app, ident)}
    )


@routes.get("/api/catalogue")
@allow(PUBLIC)
async def catalogue(request: web.Request) -> web.Response:
    return web.json_response(request.app[K.CATALOGUE].to_json())


@routes.get("/healthz")
@allow(PUBLIC)
async def healthz(request: web.Request) -> web.Response:
    try:
        ok = await request.app[K.STORE].ping()
    except Exception:
        ok = False
    return web.json_response({"ok": ok}, status=200 if ok else 503)
