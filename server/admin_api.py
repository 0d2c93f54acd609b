"""Admin JSON API: list, create, edit, disable, reset and unlock accounts; revoke
kiosks (the system admin); assign roles and read the policy (the security admin).

三员分立: the system admin manages accounts of the business roles and devices;
who holds an admin role is the security admin's decision only
(`POST .../role`), and nobody changes their own role. One role per account, so
no account holds two of the admin roles.

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
from server.accounts import (
    ADMIN_ROLES,
    BUSINESS_ROLES,
    ROLE_ALIASES,
    STAFF_ROLES,
    UNSET,
    AccountError,
    Kiosk,
    Unset,
    User,
)
from server.api import json_body
from server.auth import IDENTITY, allow
from server.catalogue import Catalogue
from server.connections import (
    CLOSE_ACCOUNT_CHANGED,
    CLOSE_ACCOUNT_DISABLED,
    CLOSE_KIOSK_REVOKED,
    CLOSE_PASSWORD_RESET,
)
from server.pages import render
from server.password_policy import policy_json

routes = web.RouteTableDef()

CREATE_FIELDS = {"username", "password", "role", "display_name", "items", "place"}
EDIT_FIELDS = {"role", "display_name", "items", "place", "disabled"}
# Changes that alter the identity a socket was opened with.
IDENTITY_FIELDS = {"role", "items", "place", "disabled"}


def bad_field(exc: AccountError) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps(exc.to_json(), ensure_ascii=False), content_type="application/json"
    )


def _not_found(exc: AccountError) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=json.dumps(exc.to_json(), ensure_ascii=False), content_type="application/json"
    )


def only_fields(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise AccountError(str(key)[:64], "unknown", "not a field of this request")


def string_field(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise AccountError(key, "required", "required")
        return None
    if not isinstance(value, str):
        raise AccountError(key, "type", "must be a string")
    return value


def _role(body: dict[str, Any], *, required: bool) -> str | None:
    role = string_field(body, "role", required=required)
    role = ROLE_ALIASES.get(role, role) if role is not None else None
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


def _check_township(role: str | None, place: Any, catalogue: Catalogue) -> None:
    """A township admin (乡镇管理员) is bound to a township service centre."""
    if role != "township_admin" or not isinstance(place, str):
        return
    where = catalogue.places.get(place)
    if where is None or where.kind != "township_centre":
        raise AccountError("place", "invalid", "a township admin is bound to a township centre")


def _place(body: dict[str, Any], catalogue: Catalogue) -> str | Unset | None:
    if "place" not in body:
        return UNSET
    place = string_field(body, "place")
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
        "must_change_password": u.must_change_password,
        "totp": u.totp,
    }


def kiosk_json(k: Kiosk, max_days: float = 0) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "place": k.place,
        "revoked": k.revoked,
        "expired": k.expired(max_days),
    }


def _separation(message: str) -> AccountError:
    return AccountError("role", "separation", message)


# The accounts whose credentials a system admin may not reset: taking over the
# security or audit admin would end the separation of the three (三员分立). They
# are reset on the server itself (`remote-window user passwd|totp-reset`, audited).
GUARDED_ROLES = frozenset({"secadmin", "auditadmin"})


def _check_may_reset(user: User) -> None:
    if user.role in GUARDED_ROLES:
        raise _separation(
            f"a {user.role} account is reset on the server (remote-window user passwd or "
            "totp-reset), "
            "never by the system admin"
        )


def _refused(request: web.Request, exc: AccountError, username: str | None) -> web.HTTPBadRequest:
    """The 400 for a bad field; a refusal of separation of duties is audited too."""
    if exc.code in ("separation", "self"):
        request.app[K.RECORDER].system(
            "admin.refused",
            request[IDENTITY].subject,
            {"path": request.path, "username": username, "field": exc.field, "code": exc.code},
        )
    return bad_field(exc)


@routes.get("/api/admin/accounts")
@allow("sysadmin", "secadmin")
async def list_accounts(request: web.Request) -> web.Response:
    accounts = request.app[K.ACCOUNTS]
    limits = request.app[K.AUTH].limits
    days = request.app[K.CONFIG].auth.kiosk_token_days
    users = []
    for u in accounts.users():
        users.append({**user_json(u), "locked_s": await limits.locked_for(u.username)})
    return web.json_response(
        {"users": users, "kiosks": [kiosk_json(k, days) for k in accounts.kiosks()]}
    )


@routes.post("/api/admin/users")
@allow("sysadmin")
async def add_user(request: web.Request) -> web.Response:
    body = await json_body(request)
    catalogue = request.app[K.CATALOGUE]
    try:
        only_fields(body, CREATE_FIELDS)
        username = string_field(body, "username", required=True)
        password = string_field(body, "password", required=True)
        role = _role(body, required=True)
        place = _place(body, catalogue)
        assert username is not None and password is not None and role is not None
        if role not in BUSINESS_ROLES:
            raise _separation("an admin role is given by the security admin")
        _check_township(role, place, catalogue)
        user = request.app[K.ACCOUNTS].add_user(
            username,
            password,
            role,
            display_name=string_field(body, "display_name"),
            items=_items(body, catalogue) or [],
            place=None if isinstance(place, Unset) else place,
            must_change=True,
        )
    except AccountError as exc:
        raise _refused(request, exc, str(body.get("username"))[:64]) from None
    request.app[K.RECORDER].system(
        "account.created", request[IDENTITY].subject, {"username": user.username, "role": role}
    )
    return web.json_response({"username": user.username}, status=201)


@routes.patch("/api/admin/users/{username}")
@allow("sysadmin")
async def edit_user(request: web.Request) -> web.Response:
    """Change display name, role, items, place or the disabled flag."""
    body = await json_body(request)
    catalogue = request.app[K.CATALOGUE]
    accounts = request.app[K.ACCOUNTS]
    username = request.match_info["username"]
    try:
        if accounts.get_user(username) is None:
            raise _not_found(AccountError("username", "not_found", f"no account {username!r}"))
        only_fields(body, EDIT_FIELDS)
        disabled = body.get("disabled")
        if disabled is not None and not isinstance(disabled, bool):
            raise AccountError("disabled", "type", "must be true or false")
        if username == request[IDENTITY].subject:  # never lock the last door from inside
            if disabled:
                raise AccountError("disabled", "self", "you cannot disable your own account")
        role = _role(body, required=False)
        current = accounts.get_user(username)
        if username == request[IDENTITY].subject and role not in (
            None,
            getattr(current, "role", None),
        ):
            raise AccountError("role", "self", "nobody changes their own role")
        if role is not None and current is not None and role != current.role:
            if role in ADMIN_ROLES or current.role in ADMIN_ROLES:
                raise _separation("who holds an admin role is the security admin's decision")
        if "display_name" in body and string_field(body, "display_name") is None:
            raise AccountError("display_name", "required", "may not be empty")
        new_place = _place(body, catalogue)
        _check_township(
            role or getattr(current, "role", None),
            getattr(current, "place", None) if isinstance(new_place, Unset) else new_place,
            catalogue,
        )
        user, changed = accounts.update_user(
            username,
            role=role,
            display_name=string_field(body, "display_name"),
            items=_items(body, catalogue),
            place=new_place,
            disabled=disabled,
        )
    except AccountError as exc:
        raise _refused(request, exc, username) from None
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
@allow("sysadmin")
async def reset_password(request: web.Request) -> web.Response:
    body = await json_body(request)
    username = request.match_info["username"]
    accounts = request.app[K.ACCOUNTS]
    try:
        target = accounts.get_user(username)
        if target is None:
            raise _not_found(AccountError("username", "not_found", f"no account {username!r}"))
        _check_may_reset(target)
        only_fields(body, {"password"})
        password = string_field(body, "password", required=True)
        assert password is not None
        accounts.set_password(username, password, must_change=True)
    except AccountError as exc:
        raise _refused(request, exc, username) from None
    request.app[K.RECORDER].system(
        "account.password_reset", request[IDENTITY].subject, {"username": username}
    )
    # Sign-ins made with the old password end (their sessions no longer match).
    await request.app[K.CONNECTIONS].close_sockets(CLOSE_PASSWORD_RESET, account=username)
    return web.json_response({"ok": True})


@routes.post("/api/admin/kiosks/{kiosk_id}/revoke")
@allow("sysadmin")
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


def _known(request: web.Request) -> tuple[str, User]:
    username = request.match_info["username"]
    user = request.app[K.ACCOUNTS].get_user(username)
    if user is None:
        raise _not_found(AccountError("username", "not_found", f"no account {username!r}"))
    return username, user


@routes.post("/api/admin/users/{username}/unlock")
@allow("sysadmin")
async def unlock(request: web.Request) -> web.Response:
    """End a sign-in lock before its time (audited, whether or not one held)."""
    username, _ = _known(request)
    was = await request.app[K.AUTH].limits.unlock(username)
    request.app[K.RECORDER].system(
        "account.unlocked", request[IDENTITY].subject, {"username": username, "was_locked": was}
    )
    return web.json_response({"ok": True, "was_locked": was})


@routes.post("/api/admin/users/{username}/totp/reset")
@allow("sysadmin")
async def reset_totp(request: web.Request) -> web.Response:
    """Recovery of a lost authenticator: another system admin removes the second
    factor; the person enrols again at the next sign-in (when the role needs one)."""
    username, user = _known(request)
    try:
        if username == request[IDENTITY].subject:
            raise AccountError("username", "self", "another system admin must do this")
        _check_may_reset(user)
    except AccountError as exc:
        raise _refused(request, exc, username) from None
    request.app[K.ACCOUNTS].set_totp(username, None)
    request.app[K.RECORDER].system(
        "account.totp_reset", request[IDENTITY].subject, {"username": username}
    )
    await request.app[K.CONNECTIONS].close_sockets(CLOSE_ACCOUNT_CHANGED, account=username)
    return web.json_response({"ok": True})


@routes.post("/api/admin/users/{username}/role")
@allow("secadmin")
async def assign_role(request: web.Request) -> web.Response:
    """The security admin decides who holds which role (one per account)."""
    body = await json_body(request)
    username, current = _known(request)
    try:
        only_fields(body, {"role", "items", "place"})
        role = _role(body, required=True)
        assert role is not None
        if username == request[IDENTITY].subject:
            raise AccountError("role", "self", "nobody changes their own role")
        catalogue = request.app[K.CATALOGUE]
        place = _place(body, catalogue)
        _check_township(role, current.place if isinstance(place, Unset) else place, catalogue)
        user, changed = request.app[K.ACCOUNTS].update_user(
            username, role=role, items=_items(body, catalogue), place=place
        )
    except AccountError as exc:
        raise _refused(request, exc, username) from None
    if changed:
        request.app[K.RECORDER].system(
            "account.role_changed",
            request[IDENTITY].subject,
            {"username": username, "from": current.role, "to": user.role, "changed": changed},
        )
        await request.app[K.CONNECTIONS].close_sockets(CLOSE_ACCOUNT_CHANGED, account=username)
    return web.json_response({"user": user_json(user), "changed": changed})


def policy_view(request: web.Request) -> dict[str, Any]:
    cfg = request.app[K.CONFIG]
    auth = cfg.auth
    return {
        "password": policy_json(cfg.password),
        "lockout": {
            "max_failed_logins": auth.max_failed_logins,
            "window_minutes": auth.lockout_window_minutes,
            "lockout_minutes": auth.lockout_minutes,
            "address_max_failures": auth.address_max_failures,
            "address_window_seconds": auth.address_window_seconds,
        },
        "session": {
            "idle_minutes": auth.session_idle_minutes,
            "warning_seconds": auth.idle_warning_seconds,
            "max_hours": auth.session_max_hours,
        },
        "totp_required_roles": list(auth.totp_required_roles),
    }


@routes.get("/api/admin/policy")
@allow("secadmin")
async def policy(request: web.Request) -> web.Response:
    """The lockout, password, session and second-factor settings (from config)."""
    return web.json_response(policy_view(request))


@routes.get("/security")
@allow("secadmin")
async def security_page(request: web.Request) -> web.Response:
    """The security admin's page: who holds which role, and the policy in force."""
    limits = request.app[K.AUTH].limits
    users = []
    for u in request.app[K.ACCOUNTS].users():
        users.append({**user_json(u), "locked_s": await limits.locked_for(u.username)})
    return render(
        request,
        "security.html",
        users=users,
        roles=STAFF_ROLES,
        policy=policy_view(request),
        me=request[IDENTITY].subject,
    )
