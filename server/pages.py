"""HTML pages (jinja2) and the static files of client_web/."""

from __future__ import annotations

import mimetypes
import re
from typing import Any

import jinja2
from aiohttp import web

from server import CLIENT_DIR
from server import appkeys as K
from server.auth import IDENTITY, PUBLIC, allow
from server.landing import home_for, landing_for, nav_for, safe_next

routes = web.RouteTableDef()
STATIC_DIR = (CLIENT_DIR / "static").resolve()
LANGS = ("zh-CN", "en")
# A static path: up to four folders, each part a plain name (no dot first, no
# NUL, backslash, percent or other odd bytes, at most 128 characters).
STATIC_PATH = re.compile(
    r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,127}/){0,4}[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
)


def make_templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(CLIENT_DIR / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


def _lang(request: web.Request) -> str:
    chosen = request.query.get("lang") or request.cookies.get("rw_lang")
    return chosen if chosen in LANGS else "zh-CN"


def render(request: web.Request, name: str, *, status: int = 200, **context: Any) -> web.Response:
    env = request.app[K.TEMPLATES]
    ident = request.get(IDENTITY)
    staff = ident is not None and ident.role != "kiosk"
    html = env.get_template(name).render(
        lang=_lang(request),
        user=ident.public() if ident else None,
        csrf=ident.csrf if ident else None,
        nav=nav_for(request.app, ident.role) if staff else [],
        home=home_for(request.app, ident) if staff else "/",
        current=request.path,
        **context,
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/")
@allow(PUBLIC)
async def index(request: web.Request) -> web.Response:
    return render(request, "index.html")


@routes.get("/login")
@allow(PUBLIC)
async def login_page(request: web.Request) -> web.Response:
    """The sign-in form; `next` is kept only when it is a same-origin path."""
    raw = request.query.get("next")
    ident = request[IDENTITY]
    if ident is not None and ident.role != "kiosk":
        raise web.HTTPFound(landing_for(request.app, ident, raw))
    return render(request, "login.html", next=safe_next(raw) or "")


def forbidden_page(request: web.Request) -> web.Response:
    """What a browser gets for a page its role may not open (APIs answer JSON)."""
    return render(request, "forbidden.html", status=403)


@routes.get("/kiosk")
@allow(PUBLIC)
async def kiosk_page(request: web.Request) -> web.Response:
    """Public shell; the device token (in the URL once, then local storage)
    authenticates the WebSocket."""
    return render(request, "kiosk.html", catalogue=request.app[K.CATALOGUE])


@routes.get("/desk")
@allow("reviewer")
async def desk_page(request: web.Request) -> web.Response:
    return render(request, "desk.html", catalogue=request.app[K.CATALOGUE])


@routes.get("/admin")
@allow("sysadmin")
async def admin_page(request: web.Request) -> web.Response:
    accounts = request.app[K.ACCOUNTS]
    return render(
        request,
        "admin.html",
        users=accounts.users(),
        kiosks=accounts.kiosks(),
        catalogue=request.app[K.CATALOGUE],
    )


@routes.get("/static/{path:.+}")
@allow(PUBLIC)
async def static(request: web.Request) -> web.StreamResponse:
    path = request.match_info["path"]
    if not STATIC_PATH.fullmatch(path) or ".." in path:
        raise web.HTTPNotFound()
    try:
        target = (STATIC_DIR / path).resolve()
        found = target.is_relative_to(STATIC_DIR) and target.is_file()
    except (OSError, ValueError):  # e.g. a name too long for the file system
        found = False
    if not found:
        raise web.HTTPNotFound()
    response = web.FileResponse(target)
    ctype, _ = mimetypes.guess_type(target.name)
    if target.suffix == ".js":
        ctype = "text/javascript"
    if ctype:
        response.content_type = ctype
    response.headers["Cache-Control"] = "no-cache"
    return response
