"""Admin JSON API: list, create, edit, disable and reset accounts; revoke kiosks.

Every body field is checked for its JSON type, length and meaning before
anything changes; a bad one is a 400 naming the field with a stable code
(`AccountError.to_json`), which the admin page translates. Every change goes
to the system audit log, and a change that alters who a signed-in person is
(role, items, place, disabled) closes that account's WebSockets so they come
back with the new identity, or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.accounts import STAFF_ROLES, UNSET, AccountError, Kiosk, Unset, User
from server.api import json_body
from server.auth import IDENTITY, allow
from server.catalogue import Catalogue
from server.connections import (
    CLOSE_ACCOUNT_CHANGED,
    CLOSE_ACCOUNT_DISABLED,
    CLOSE_KIOSK_REVOKED,
    CLOSE_PASSWORD_RESET,
)

routes = web.RouteTableDef()

CREATE_FIELDS = {"username", "password", "role", "display_name", "items", "place"}
EDIT_FIELDS = {"role", "display_name", "items", "place", "disabled"}
# Changes that alter the identity a socket was opened with.
IDENTITY_FIELDS = {"role", "items", "place", "disabled"}


def _bad(exc: AccountError) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps(exc.to_json(), ensure_ascii=False), content_type="application/json"
    )


def _not_found(exc: AccountError) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=json.dumps(exc.to_json(), ensure_ascii=False), content_type="application/json"
    )


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise AccountError(str(key)[:64], "unknown", "not a field of this request")


def _string(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise AccountError(key, "required", "required")
        return None
    if not isinstance(value, str):
        raise AccountError(key, "type", "must be a string")
    return value


def _role(body: dict[str, Any], *, required: bool) -> str | None:
    role = _string(body, "role", required=required)
    if role is not None and role not in STAFF_ROLES:
        raise AccountError("role", "invalid", f"expected one of {', '.join(STAFF_ROLES)}")
    return role


def _items(body: dict[str, Any], catalogue: Catalogue) -> list[str] | None:
    if body.get("items") is None:
        return None
    items = body["items"]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise AccountError("items", "type", "must be a list of item codes")
    unknown = [i for i in items if i not in catalogue.items]
    if unknown:
        raise AccountError("items", "unknown", f"unknown codes {', '.join(unknown)[:200]}")
    return list(dict.fromkeys(items))


def _place(body: dict[str, Any], catalogue: Catalogue) -> str | Unset | None:
    if "place" not in body:
        return UNSET
    place = _string(body, "place")
    if place is not None and place not in catalogue.places:
        raise AccountError("place", "unknown", f"unknown place code {place[:64]!r}")
    return place


def user_json(u: User) -> dict[str, Any]:
    return {
        "username": u.username,
        "role": u.role,
        "display_name": u.display_name,
        "items": list(u.items),
        "place": u.place,
        "level": u.level,
        "disabled": u.disabled,
    }


def kiosk_json(k: Kiosk, max_days: float = 0) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "place": k.place,
        "revoked": k.revoked,
        "expired": k.expired(max_days),
    }


@routes.get("/api/admin/accounts")
@allow("admin")
async def list_accounts(request: web.Request) -> web.Response:
    accounts = request.app[K.ACCOUNTS]
    days = request.app[K.CONFIG].auth.kiosk_token_days
    return web.json_response(
        {
            "users": [user_json(u) for u in accounts.users()],
            "kiosks": [kiosk_json(k, days) for k in accounts.kiosks()],
        }
    )


@routes.post("/api/admin/users")
@allow("admin")
async def add_user(request: web.Request) -> web.Response:
    body = await json_body(request)
    catalogue = request.app[K.CATALOGUE]
    try:
        _only(body, CREATE_FIELDS)
        username = _string(body, "username", required=True)
        password = _string(body, "password", required=True)
        role = _role(body, required=True)
        place = _place(body, catalogue)
        assert username is not None and password is not None and role is not None
        user = request.app[K.ACCOUNTS].add_user(
            username,
            password,
            role,
            display_name=_string(body, "display_name"),
            items=_items(body, catalogue) or [],
            place=None if isinstance(place, Unset) else place,
        )
    except AccountError as exc:
        raise _bad(exc) from None
    request.app[K.RECORDER].system(
        "account.created", request[IDENTITY].subject, {"username": user.username, "role": role}
    )
    return web.json_response({"username": user.username}, status=201)


@routes.patch("/api/admin/users/{username}")
@allow("admin")
async def edit_user(request: web.Request) -> web.Response:
    """Change display name, role, items, place or the disabled flag."""
    body = await json_body(request)
    catalogue = request.app[K.CATALOGUE]
    accounts = request.app[K.ACCOUNTS]
    username = request.match_info["username"]
    try:
        if accounts.get_user(username) is None:
            raise _not_found(AccountError("username", "not_found", f"no account {username!r}"))
        _only(body, EDIT_FIELDS)
        disabled = body.get("disabled")
        if disabled is not None and not isinstance(disabled, bool):
            raise AccountError("disabled", "type", "must be true or false")
        if username == request[IDENTITY].subject:  # never lock the last door from inside
            if disabled:
                raise AccountError("disabled", "self", "you cannot disable your own account")
            if body.get("role") not in (None, "admin"):
                raise AccountError("role", "self", "you cannot take away your own admin role")
        if "display_name" in body and _string(body, "display_name") is None:
            raise AccountError("display_name", "required", "may not be empty")
        user, changed = accounts.update_user(
            username,
            role=_role(body, required=False),
            display_name=_string(body, "display_name"),
            items=_items(body, catalogue),
            place=_place(body, catalogue),
            disabled=disabled,
        )
    except AccountError as exc:
        raise _bad(exc) from None
    actor = request[IDENTITY].subject
    recorder = request.app[K.RECORDER]
    if "disabled" in changed:
        recorder.system(
            "account.disabled" if user.disabled else "account.enabled",
            actor,
            {"username": username},
        )
    rest = [f for f in changed if f != "disabled"]
    if rest:
        recorder.system("account.updated", actor, {"username": username, "changed": rest})
    if IDENTITY_FIELDS & set(changed):
        reason = CLOSE_ACCOUNT_DISABLED if user.disabled else CLOSE_ACCOUNT_CHANGED
        await request.app[K.CONNECTIONS].close_sockets(reason, account=username)
    return web.json_response({"user": user_json(user), "changed": changed})


@routes.post("/api/admin/users/{username}/password")
@allow("admin")
async def reset_password(request: web.Request) -> web.Response:
    body = await json_body(request)
    username = request.match_info["username"]
    accounts = request.app[K.ACCOUNTS]
    try:
        if accounts.get_user(username) is None:
            raise _not_found(AccountError("username", "not_found", f"no account {username!r}"))
        _only(body, {"password"})
        password = _string(body, "password", required=True)
        assert password is not None
        accounts.set_password(username, password)
    except AccountError as exc:
        raise _bad(exc) from None
    request.app[K.RECORDER].system(
        "account.password_reset", request[IDENTITY].subject, {"username": username}
    )
    # Sign-ins made with the old password end (their sessions no longer match).
    await request.app[K.CONNECTIONS].close_sockets(CLOSE_PASSWORD_RESET, account=username)
    return web.json_response({"ok": True})


@routes.post("/api/admin/kiosks/{kiosk_id}/revoke")
@allow("admin")
async def revoke_kiosk(request: web.Request) -> web.Response:
    """Revoke a kiosk's device token for good and close its sockets at once."""
    kiosk_id = request.match_info["kiosk_id"]
    try:
        kiosk, changed = request.app[K.ACCOUNTS].revoke_kiosk(kiosk_id)
    except AccountError as exc:
        raise _not_found(exc) from None
    if changed:
        request.app[K.RECORDER].system(
            "kiosk.revoked", request[IDENTITY].subject, {"kiosk": kiosk.id, "place": kiosk.place}
        )
    await request.app[K.CONNECTIONS].close_sockets(CLOSE_KIOSK_REVOKED, holder=f"kiosk:{kiosk.id}")
    return web.json_response({"kiosk": kiosk_json(kiosk), "changed": changed})
