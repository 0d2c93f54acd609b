"""Request middlewares: request id, authorisation by role, CSRF, headers.

Authorisation is default-deny: a handler without an `allow(...)` mark is
reachable by nobody, so a route cannot be opened by forgetting a check.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import quote

from aiohttp import web

from server import appkeys as K
from server.auth import (
    CSRF_HEADER,
    IDENTITY,
    PUBLIC,
    Handler,
    allowed_roles,
    is_no_touch,
    is_restricted_ok,
)
from server.logs import request_id
from server.pages import forbidden_page

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wants_html(request: web.Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("Accept", "")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    token = request_id.set(rid)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers["X-Request-Id"] = rid
        raise
    finally:
        resource = request.match_info.route.resource
        name = resource.canonical if resource is not None else "unmatched"
        request.app[K.METRICS].http(name, status)
        request_id.reset(token)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _set_headers(exc.headers)
        raise
    if not response.prepared:
        _set_headers(response.headers)
    return response


def _set_headers(headers: web.BaseRequest.headers) -> None:  # type: ignore[name-defined]
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(self)")


@web.middleware
async def authorise(request: web.Request, handler: Handler) -> web.StreamResponse:
    roles = allowed_roles(request.match_info.handler)
    if roles is None:
        # Unmatched routes (404/405) pass through; matched but unmarked are denied.
        if request.match_info.http_exception is not None:
            return await handler(request)
        log.error("route without an allow() mark", extra={"path": request.path})
        raise web.HTTPForbidden(text="forbidden")
    handler_fn = request.match_info.handler
    ident = await request.app[K.AUTH].identify(request, touch=not is_no_touch(handler_fn))
    request[IDENTITY] = ident
    if PUBLIC in roles:
        return await handler(request)
    if ident is None:
        if _wants_html(request):
            raise web.HTTPFound(f"/login?next={quote(request.path, safe='/')}")
        raise web.HTTPUnauthorized(
            text='{"error":"unauthenticated"}', content_type="application/json"
        )
    if ident.role not in roles:
        if _wants_html(request) and ident.role != "kiosk":
            return forbidden_page(request)  # zh-CN page with a link home
        raise web.HTTPForbidden(text='{"error":"forbidden"}', content_type="application/json")
    if ident.restricted is not None and not is_restricted_ok(handler_fn):
        # Nothing but changing the password / enrolling TOTP until it is done.
        if _wants_html(request):
            raise web.HTTPFound("/account")
        raise web.HTTPForbidden(
            text=f'{{"error":"restricted","restricted":"{ident.restricted}"}}',
            content_type="application/json",
        )
    if request.method not in SAFE_METHODS and ident.session_id is not None:
        # Cookie-authenticated writes must echo the session's CSRF token.
        sent = request.headers.get(CSRF_HEADER, "")
        if not ident.csrf or not secrets.compare_digest(sent, ident.csrf):
            raise web.HTTPForbidden(
                text='{"error":"csrf token missing or wrong"}', content_type="application/json"
            )
    return await handler(request)


MIDDLEWARES = [request_context, security_headers, authorise]
