"""Where each role lands, which pages it may open, and safe `next` targets.

The navigation is built from the route table itself: a page shows in a role's
nav exactly when that page's `allow(...)` mark lets the role open it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from aiohttp import web

from server import appkeys as K
from server.auth import PUBLIC, Identity, allowed_roles

HOMES = {
    "reviewer": "/desk",
    "supervisor": "/cases",
    "agent": "/agent",
    "township_admin": "/points",
    "sysadmin": "/admin",
    "secadmin": "/security",
    "auditadmin": "/audit",
}


@dataclass(frozen=True)
class NavPage:
    path: str
    zh: str
    en: str


# In display order; a role sees the ones its allow() marks open to it.
NAV_PAGES = (
    NavPage("/desk", "审批工作台", "Reviewer desk"),
    NavPage("/agent", "帮办代办", "Assisted filing"),
    NavPage("/village", "乡村随身办", "Village service"),
    NavPage("/points", "积分台账", "Points ledger"),
    NavPage("/supervision", "监督看板", "Supervision"),
    NavPage("/cases", "案卷查阅", "Case files"),
    NavPage("/followups", "差评整改", "Follow-ups"),
    NavPage("/spot-checks", "随机抽查", "Spot checks"),
    NavPage("/admin", "系统管理", "Administration"),
    NavPage("/security", "安全管理", "Security"),
    NavPage("/audit", "审计日志", "Audit log"),
    NavPage("/stats", "统计分析", "Statistics"),
)
NOT_PAGES = ("/api/", "/static/", "/metrics", "/healthz")  # never a landing place
_STRIPPED = re.compile(r"[\x00-\x20\x7f]")  # what a browser drops from a URL or trims


def home_of(role: str | None) -> str:
    return HOMES.get(role or "", "/")


def home_for(app: web.Application, ident: Identity) -> str:
    """The role's home; an agent of a village service point lands on its phone page."""
    if ident.role == "agent" and ident.place is not None:
        place = app[K.CATALOGUE].places.get(ident.place)
        if place is not None and place.kind == "village_point":
            return "/village"
    return home_of(ident.role)


def safe_next(raw: str | None) -> str | None:
    """A same-origin path to go to after sign-in, or None.

    Read the way a browser reads it: tabs and newlines are removed, backslashes
    count as slashes, and percent-encoding is looked through. Anything that could
    name another host (`//`, `/\\`, a scheme, an encoded form of either) is refused.
    """
    if not raw:
        return None
    cleaned = _STRIPPED.sub("", raw)
    if "\\" in cleaned or not cleaned.startswith("/"):
        return None
    decoded = cleaned
    for _ in range(3):  # encoded, doubly encoded...
        decoded = unquote(decoded)
    decoded = _STRIPPED.sub("", decoded).replace("\\", "/")
    if decoded.startswith("//") or cleaned.startswith("//"):
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return None
    return cleaned


def page_roles(app: web.Application, path: str) -> frozenset[str] | None:
    """The roles the GET route matching `path` allows (None: no such route)."""
    for resource in app.router.resources():
        info = resource.get_info()
        pattern = info.get("pattern")
        if info.get("path") == path or (pattern is not None and pattern.fullmatch(path)):
            for route in resource:
                if route.method == "GET":
                    return allowed_roles(route.handler) or frozenset()
    return None


def may_open(app: web.Application, role: str, path: str) -> bool:
    """Whether `role` may open the page at `path` (query ignored; pages, not APIs)."""
    target = urlsplit(path).path
    if target.startswith(NOT_PAGES) or target in ("/", "/login", "/ws"):
        return False
    roles = page_roles(app, target) or frozenset()
    return role in roles or PUBLIC in roles


def landing_for(app: web.Application, ident: Identity, raw_next: str | None) -> str:
    """The `next` page when it is safe and the role may open it, else the caller's home."""
    target = safe_next(raw_next)
    if target is not None and may_open(app, ident.role, target):
        return target
    return home_for(app, ident)


def nav_for(app: web.Application, role: str | None) -> list[NavPage]:
    if role is None:
        return []
    return [p for p in NAV_PAGES if role in (page_roles(app, p.path) or frozenset())]
