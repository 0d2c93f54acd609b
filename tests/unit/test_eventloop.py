"""The suite runs on the server's production event loop."""

from __future__ import annotations

import asyncio

import uvloop

from server.eventloop import new_event_loop


async def test_tests_run_on_uvloop() -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)


def test_server_loop_is_uvloop() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
