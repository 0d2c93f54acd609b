"""A small Python signaling client (used by the benchmark, tests and tools).

It speaks PROTOCOL.md over one WebSocket and keeps received messages in an
inbox, so a caller can `await client.expect("session.paired")`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class SignalingClient:
    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.welcome: dict[str, Any] | None = None
        self.last: dict[str, dict[str, Any]] = {}  # the latest message of each type
        self.history: list[dict[str, Any]] = []  # every message, in order
        self.close_reason: str | None = None  # the reason of the server's close frame
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(
        cls, http: aiohttp.ClientSession, *, token: str | None = None, path: str = "/ws"
    ) -> SignalingClient:
        """Open /ws (with a device token, or the session's cookie) and wait for welcome."""
        url = f"{path}?token={token}" if token else path
        client = cls(http, await http.ws_connect(url))
        client.welcome = await client.expect("welcome")
        return client

    async def _read(self) -> None:
        while True:
            msg = await self.ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                message = json.loads(msg.data)
                self.last[str(message.get("type"))] = message
                self.history.append(message)
                await self.inbox.put(message)
            elif msg.type == aiohttp.WSMsgType.CLOSE:
                self.close_reason = msg.extra
                return
            elif msg.type in (
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return  # CLOSING: our own close() is reading the server's reply

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def expect(self, mtype: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next message of this type (and matching fields); others are skipped."""

        async def wait() -> dict[str, Any]:
            while True:
                msg = await self.inbox.get()
                if msg.get("type") == mtype and all(msg.get(k) == v for k, v in match.items()):
                    return msg

        return await asyncio.wait_for(wait(), timeout)

    @property
    def done(self) -> asyncio.Task[None]:
        """Finishes when the socket is closed (`ws.close_code`, `close_reason` then say why)."""
        return self._reader

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


async def login(http: aiohttp.ClientSession, username: str, password: str) -> str:
    """Sign in on an HTTP session (its cookie jar keeps the cookie); returns the CSRF token."""
    async with http.post("/api/login", json={"username": username, "password": password}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise PermissionError(f"login failed for {username}: {resp.status} {body}")
        return body["csrf"]
