"""Queue pushes: each kiosk hears only about its own place, when it changes;
each desk only about its own queues, coalesced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import RunningServer, make_config, start_server

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


def _of_type(history: list[dict[str, Any]], mtype: str) -> list[dict[str, Any]]:
    return [m for m in history if m["type"] == mtype]


async def test_kiosk_gets_only_its_own_status_and_only_when_it_changes(
    running: RunningServer,
) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    first = await k1.expect("queue.status")
    k2 = await running.kiosk("kiosk-2")
    await k2.send(JOIN)  # behind kiosk-1: kiosk-1's place does not change
    await k2.expect("queue.status", position=2)
    k3 = await running.kiosk("kiosk-3")
    await k3.send({**JOIN, "priority_class": "elderly"})  # ahead of both
    await k3.expect("queue.status", position=1)
    moved = await k1.expect("queue.status", position=2)
    await k2.expect("queue.status", position=3)
    statuses = _of_type(k1.history, "queue.status")
    assert statuses == [first, moved]
    assert {s["ticket"] for s in statuses} == {first["ticket"]}
    # Another item's queue changing tells kiosk-1 nothing.
    k4 = await running.kiosk("kiosk-4")
    await k4.send({**JOIN, "item": "RSJ-001"})
    await k4.expect("queue.status")
    await k1.send({"type": "ping"})
    await k1.expect("pong")
    assert _of_type(k1.history, "queue.status") == [first, moved]


async def test_desk_gets_only_summaries_of_its_queues(running: RunningServer) -> None:
    city = await running.staff("city")  # serves RSJ-002 and BDC-001 at city level
    start = await city.expect("desk.queues")
    assert {q["item"] for q in start["queues"]} == {"RSJ-002", "BDC-001"}
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)  # a county queue
    await k1.expect("queue.status")
    k2 = await running.kiosk("kiosk-2")
    await k2.send({**JOIN, "item": "RSJ-002"})
    await k2.expect("queue.status")
    view = await city.expect("desk.queues")
    row = next(q for q in view["queues"] if q["item"] == "RSJ-002")
    assert row["waiting"] == 1
    assert _of_type(city.history, "desk.queues") == [start, view]


async def test_desk_pushes_are_coalesced(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    """Three joins inside one coalescing window reach the desk as one summary."""
    cfg = make_config(tmp_path / "data", queue={"push_coalesce_ms": 2000})
    srv = await start_server(cfg, accounts_template)
    try:
        desk = await srv.staff("reviewer")
        start = await desk.expect("desk.queues")
        kiosks = [await srv.kiosk(f"kiosk-{n}") for n in (1, 2, 3)]
        for kiosk in kiosks:
            await kiosk.send(JOIN)
        for kiosk in kiosks:
            await kiosk.expect("queue.status")
        view = await desk.expect("desk.queues")
        assert next(q for q in view["queues"] if q["item"] == "SCJG-001")["waiting"] == 3
        assert _of_type(desk.history, "desk.queues") == [start, view]
    finally:
        await srv.close()
