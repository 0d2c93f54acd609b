"""/metrics names no session or participant; per-stream figures are for staff only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import appkeys as K
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from tests.conftest import RunningServer, make_config, start_server
from tests.metrics_text import value


async def _scrape(running: RunningServer, headers: dict[str, str] | None = None) -> tuple[int, str]:
    anon, _ = await running.http()
    async with anon.get("/metrics", headers=headers or {}) as resp:
        return resp.status, await resp.text()


async def test_metrics_carry_no_session_or_participant_ids(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    clip = vp8_clip(160, 120, 150_000, 30)
    kiosk_peer, desk_peer = Peer(clip), Peer(clip)
    try:
        await asyncio.gather(kiosk_peer.negotiate(kiosk), desk_peer.negotiate(desk))
        live = await kiosk.expect("session.state", timeout=20, state="live")
        await desk_peer.wait_decoded("video", 20)
        [session] = running.app[K.SESSIONS].active()
        kiosk_id = session.applicant.subject

        status, text = await _scrape(running)
        assert status == 200
        for secret in (session.id, kiosk_id, "participant=", "session="):
            assert secret not in text, secret
        out_video = {"direction": "out", "kind": "video", "process": "127.0.0.1:8080"}
        assert value(text, "rw_streams", direction="in", kind="video") == 2
        first = value(text, "rw_stream_frames_total", **out_video)
        assert first > 0
        await desk_peer.wait_decoded("video", 40)
        _, again = await _scrape(running)
        assert value(again, "rw_stream_frames_total", **out_video) >= first  # never going back

        # The per-stream figures are at the admin API, for admins and supervisors.
        for username in ("admin", "supervisor"):
            staff, _ = await running.http(username)
            async with staff.get("/api/admin/media-stats") as resp:
                assert resp.status == 200
                rows = (await resp.json())["streams"]
            assert {r["session"] for r in rows} == {session.id}
            assert any(kiosk_id in r["participant"] for r in rows)
            pairs = {(r["kind"], r["direction"]) for r in rows}
            assert pairs >= {("video", "in"), ("video", "out")}
        anon, _ = await running.http()
        async with anon.get("/api/admin/media-stats", headers={"Accept": "application/json"}) as r:
            assert r.status == 401
        for username in ("reviewer", "agent"):
            staff, _ = await running.http(username)
            async with staff.get("/api/admin/media-stats") as resp:
                assert resp.status == 403
                assert session.id not in await resp.text()
        token = {"Authorization": f"Bearer {running.kiosk_tokens['kiosk-1']}"}
        async with anon.get("/api/admin/media-stats", headers=token) as resp:
            assert resp.status == 403
        assert live["state"] == "live"
    finally:
        await kiosk_peer.close()
        await desk_peer.close()


@pytest.fixture
async def guarded(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    cfg = make_config(tmp_path / "data", metrics={"token": "scrape-token-1234"})
    srv = await start_server(cfg, accounts_template)
    try:
        yield srv
    finally:
        await srv.close()


async def test_metrics_token_when_configured(guarded: RunningServer) -> None:
    status, body = await _scrape(guarded)
    assert status == 401 and json.loads(body) == {"error": "unauthenticated"}
    assert "rw_" not in body
    for wrong in ("Bearer nope", "Basic scrape-token-1234", "scrape-token-1234", "Bearer "):
        status, body = await _scrape(guarded, {"Authorization": wrong})
        assert status == 401 and "rw_" not in body, wrong
    status, body = await _scrape(guarded, {"Authorization": "Bearer scrape-token-1234"})
    assert status == 200 and "rw_queue_waiting" in body
    # The token is only fingerprinted in the configuration audit event.
    await guarded.app[K.RECORDER].flushed()
    system = guarded.app[K.RECORDER].root / "system"
    assert "scrape-token-1234" not in "".join(p.read_text() for p in system.glob("*.jsonl"))
