"""Which browser origins may open /ws and sign in.

A browser always sends `Origin` on a WebSocket upgrade and a cross-site POST.
Comparing it with the request's own Host is not enough: after DNS rebinding
an attacker's page at http://evil.example:8080 talks to this server with
`Host: evil.example:8080` and the same Origin. So the request's own origin is
trusted only when its Host cannot be rebound (localhost or an IP address);
a DNS name must be configured (`server.public_url` or `server.allowed_origins`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from server.config import ServerConfig


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _not_rebindable(host: str) -> bool:
    name = (urlsplit(f"//{host}").hostname or "").lower()
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def origin_allowed(request: web.Request, cfg: ServerConfig) -> bool:
    """True for non-browser clients (no Origin) and for the allowed browser origins."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (kiosk shell, aiortc tools); credentials still apply
    try:
        seen = origin_of(origin)
    except ValueError:
        return False
    allowed = {origin_of(o) for o in cfg.allowed_origins}
    if cfg.public_url:
        allowed.add(origin_of(cfg.public_url))
    if seen in allowed:
        return True
    own = origin_of(f"{request.scheme}://{request.host}")
    return seen == own and _not_rebindable(request.host)
