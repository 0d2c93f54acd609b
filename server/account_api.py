"""The signed-in person's own account: change the password, enrol a TOTP second
factor, see how long the session has left, stay signed in, sign out everywhere.

These routes answer a restricted session too (`restricted_ok`): a forced
password change or a TOTP enrolment is done here. Passwords are never logged;
every change is in the system audit log.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import appkeys as K
from server.accounts import AccountError
from server.admin_api import bad_field, only_fields, string_field
from server.api import json_body
from server.auth import COOKIE, IDENTITY, STAFF, allow, no_touch, restricted_ok
from server.connections import CLOSE_SIGNED_OUT
from server.pages import render
from server.password_policy import policy_json

routes = web.RouteTableDef()


@routes.get("/account")
@allow(*STAFF)
@restricted_ok
async def account_page(request: web.Request) -> web.Response:
    ident = request[IDENTITY]
    user = request.app[K.ACCOUNTS].get_user(ident.subject)
    return render(
        request,
        "account.html",
        policy=policy_json(request.app[K.CONFIG].password),
        restricted=ident.restricted,
        totp_enrolled=bool(user and user.totp),
    )


@routes.post("/api/account/password")
@allow(*STAFF)
@restricted_ok
async def change_password(request: web.Request) -> web.Response:
    """The person's own change (the current password first); this session goes
    on, sessions opened elsewhere with the old password end."""
    body = await json_body(request)
    ident = request[IDENTITY]
    try:
        only_fields(body, {"old_password", "new_password"})
        old = string_field(body, "old_password", required=True)
        new = string_field(body, "new_password", required=True)
        assert old is not None and new is not None
        request.app[K.ACCOUNTS].change_own_password(ident.subject, old, new)
    except AccountError as exc:
        request.app[K.RECORDER].system(
            "account.password_change_refused", ident.subject, {"code": exc.code}
        )
        raise bad_field(exc) from None
    auth = request.app[K.AUTH]
    if ident.session_id:
        await auth.restamp(ident.session_id)
    request.app[K.RECORDER].system("account.password_changed", ident.subject, {})
    return web.json_response({"ok": True})


@routes.post("/api/account/totp/enrol")
@allow(*STAFF)
@restricted_ok
async def totp_enrol(request: web.Request) -> web.Response:
    """A new secret (pending until confirmed with a code) and its QR code."""
    ident = request[IDENTITY]
    user = request.app[K.ACCOUNTS].get_user(ident.subject)
    if user is None or user.totp:
        raise bad_field(AccountError("totp", "exists", "a second factor is enrolled already"))
    secret, uri, svg = await request.app[K.AUTH].totp.start_enrolment(ident.subject)
    return web.json_response({"secret": secret, "uri": uri, "qr_svg": svg})


@routes.post("/api/account/totp/confirm")
@allow(*STAFF)
@restricted_ok
async def totp_confirm(request: web.Request) -> web.Response:
    body = await json_body(request)
    ident = request[IDENTITY]
    try:
        only_fields(body, {"code"})
        code = string_field(body, "code", required=True)
        assert code is not None
        secret = await request.app[K.AUTH].totp.finish_enrolment(ident.subject, code.strip())
        if secret is None:
            raise AccountError("code", "wrong", "the code does not match (or enrolment expired)")
    except AccountError as exc:
        raise bad_field(exc) from None
    request.app[K.ACCOUNTS].set_totp(ident.subject, secret)
    request.app[K.RECORDER].system("account.totp_enrolled", ident.subject, {})
    return web.json_response({"ok": True})


async def _left(request: web.Request) -> dict[str, Any]:
    ident = request[IDENTITY]
    cfg = request.app[K.CONFIG].auth
    left = await request.app[K.AUTH].session_left(ident.session_id or "")
    if left is None:
        raise web.HTTPUnauthorized(
            text='{"error":"unauthenticated"}', content_type="application/json"
        )
    return {
        "idle_left_s": round(left[0], 1),
        "lifetime_left_s": round(left[1], 1),
        "idle_s": cfg.session_idle_minutes * 60,
        "warn_s": cfg.idle_warning_seconds,
    }


@routes.get("/api/session")
@allow(*STAFF)
@restricted_ok
@no_touch
async def session_status(request: web.Request) -> web.Response:
    """How long the sign-in has left; asking is not activity (the warning's poll)."""
    return web.json_response(await _left(request))


@routes.post("/api/session/keepalive")
@allow(*STAFF)
@restricted_ok
async def keepalive(request: web.Request) -> web.Response:
    """ "Stay signed in": this request is the activity."""
    return web.json_response(await _left(request))


@routes.post("/api/logout/everywhere")
@allow(*STAFF)
@restricted_ok
async def logout_everywhere(request: web.Request) -> web.Response:
    """End every sign-in of the account, here and on other devices, and their sockets."""
    ident = request[IDENTITY]
    ended = await request.app[K.AUTH].logout_everywhere(ident.subject)
    await request.app[K.CONNECTIONS].close_sockets(CLOSE_SIGNED_OUT, account=ident.subject)
    request.app[K.RECORDER].system("auth.signed_out_everywhere", ident.subject, {"sessions": ended})
    response = web.json_response({"ok": True, "sessions": ended})
    response.del_cookie(COOKIE, path="/")
    return response
