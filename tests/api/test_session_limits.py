"""Staff sessions: idle timeout (the status poll is not activity), absolute
lifetime, sign out everywhere (sessions and sockets). Times on the injected clock."""

from __future__ import annotations

import asyncio

from server.connections import CLOSE_SIGNED_OUT
from signaling.client import SignalingClient
from tests.api.accounts_helpers import call, use_clock
from tests.conftest import RunningServer


async def test_idle_sessions_end_after_15_minutes_and_the_poll_is_not_activity(
    running: RunningServer,
) -> None:
    clock = use_clock(running)
    session, csrf = await running.http("supervisor")
    status, left = await call(session, "GET", "/api/session")
    assert status == 200 and left["idle_s"] == 900 and left["warn_s"] == 120
    assert left["idle_left_s"] == 900 and left["lifetime_left_s"] == 12 * 3600
    clock.advance(14 * 60)
    _, left = await call(session, "GET", "/api/session")
    assert left["idle_left_s"] == 60  # inside the warning: the page shows it
    # "Stay signed in": a keepalive is activity.
    status, left = await call(session, "POST", "/api/session/keepalive", csrf)
    assert status == 200 and left["idle_left_s"] == 900
    clock.advance(14 * 60)
    assert (await call(session, "GET", "/api/me"))[0] == 200  # a request is activity too
    clock.advance(10 * 60)
    assert (await call(session, "GET", "/api/session"))[0] == 200  # the poll is not...
    clock.advance(6 * 60)
    assert (await call(session, "GET", "/api/me"))[0] == 401  # ...16 minutes idle


async def test_a_session_ends_after_its_lifetime_whatever_the_activity(
    running: RunningServer,
) -> None:
    clock = use_clock(running)
    session, _ = await running.http("reviewer")
    for _ in range(12 * 6 - 1):  # a request every ten minutes for almost 12 hours
        clock.advance(10 * 60)
        assert (await call(session, "GET", "/api/me"))[0] == 200
    _, left = await call(session, "GET", "/api/session")
    assert left["lifetime_left_s"] == 600 and left["idle_left_s"] == 600
    clock.advance(10 * 60 + 1)
    assert (await call(session, "GET", "/api/me"))[0] == 401


async def test_sign_out_everywhere_ends_every_session_and_socket(running: RunningServer) -> None:
    phone, _ = await running.http("reviewer")
    desk, csrf = await running.http("reviewer")
    other, _ = await running.http("reviewer2")
    socket = await SignalingClient.connect(phone)
    running.clients.append(socket)
    status, body = await call(desk, "POST", "/api/logout/everywhere", csrf)
    assert (status, body) == (200, {"ok": True, "sessions": 2})
    await asyncio.wait_for(socket.done, 10)
    assert socket.close_reason == CLOSE_SIGNED_OUT
    for session in (phone, desk):
        assert (await call(session, "GET", "/api/me"))[0] == 401
    assert (await call(other, "GET", "/api/me"))[0] == 200  # another account is untouched
    events = [e for e in await running.system_events() if e["type"] == "auth.signed_out_everywhere"]
    assert [(e["actor"], e["data"]) for e in events] == [("reviewer", {"sessions": 2})]
