"""ICE servers handed to clients, with time-limited TURN credentials.

TURN uses coturn's REST scheme (`use-auth-secret`): the username is
`<expiry unix time>:<user>` and the password is base64(HMAC-SHA1(secret,
username)); coturn recomputes it and refuses it after the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from server.config import IceConfig


def turn_credentials(secret: str, user: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((time.time() if now is None else now) + ttl)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(cfg: IceConfig, user: str) -> list[dict[str, Any]]:
    """RTCIceServer dictionaries (browser format) for one participant."""
    stun = [u for u in cfg.urls if u.startswith("stun")]
    turn = [u for u in cfg.urls if u.startswith("turn")]
    servers: list[dict[str, Any]] = []
    if stun:
        servers.append({"urls": stun})
    if turn and cfg.turn_secret:
        username, password = turn_credentials(cfg.turn_secret, user, cfg.turn_ttl_seconds)
        servers.append({"urls": turn, "username": username, "credential": password})
    return servers


def server_ice_servers(cfg: IceConfig) -> list[dict[str, Any]]:
    """For the server's own peer connections: STUN only. The server is the
    reachable end; relaying its side through TURN would only add a hop."""
    stun = [u for u in cfg.urls if u.startswith("stun")]
    return [{"urls": stun}] if stun else []
