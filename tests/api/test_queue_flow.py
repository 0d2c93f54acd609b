"""The main flow over real WebSockets: join, place in line, call next, pairing."""

from __future__ import annotations

from tests.conftest import RunningServer
from tests.metrics_text import value

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


async def test_kiosk_joins_and_reviewer_calls(running: RunningServer) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    status = await k1.expect("queue.status")
    assert status["position"] == 1 and status["ahead"] == 0 and status["state"] == "waiting"

    k2 = await running.kiosk("kiosk-2")
    await k2.send(JOIN)
    assert (await k2.expect("queue.status"))["position"] == 2

    desk = await running.staff("reviewer")
    view = await desk.expect("desk.queues")
    row = next(q for q in view["queues"] if q["item"] == "SCJG-001")
    assert row["waiting"] == 2

    await desk.send({"type": "desk.call_next"})
    paired_desk = await desk.expect("session.paired")
    paired_kiosk = await k1.expect("session.paired")
    assert paired_desk["session_id"] == paired_kiosk["session_id"]
    assert paired_kiosk["peer"]["role"] == "reviewer"
    assert paired_desk["peer"] == {
        "role": "kiosk",
        "name": "kiosk 1",
        "place": "QH-CG",
        "party": "applicant",
    }
    assert paired_desk["priority_class"] == "normal" and paired_desk["waited_s"] >= 0
    # The second kiosk moves up.
    assert (await k2.expect("queue.status", position=1))["ahead"] == 0
    session, _ = await running.http()
    async with session.get("/metrics") as resp:
        metrics = await resp.text()
    assert value(metrics, "rw_queue_wait_seconds_count", item="SCJG-001") == 1
    assert value(metrics, "rw_queue_waiting", item="SCJG-001") == 1
    assert value(metrics, "rw_clients_connected", role="kiosk") == 2


async def test_priority_before_fifo(running: RunningServer) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    await k1.expect("queue.status")
    k2 = await running.kiosk("kiosk-2")
    await k2.send({**JOIN, "priority_class": "elderly"})
    assert (await k2.expect("queue.status"))["position"] == 1
    assert (await k1.expect("queue.status", position=2))["ahead"] == 1
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    await k2.expect("session.paired")


async def test_reload_keeps_place_and_grace_releases(running: RunningServer) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    first = await k1.expect("queue.status")
    k2 = await running.kiosk("kiosk-2")
    await k2.send(JOIN)
    await k2.expect("queue.status", position=2)
    await k1.close()
    again = await running.kiosk("kiosk-1")  # page reload: same device token
    assert again.welcome is not None and again.welcome["resume"] == "queue"
    status = await again.expect("queue.status")
    assert status["ticket"] == first["ticket"] and status["position"] == 1

    await again.close()
    from server import appkeys as K

    service = running.app[K.QUEUES]
    released = await service.sweep(now=service.clock() + 3600)
    assert [t.id for t in released] == [first["ticket"]]
    assert (await k2.expect("queue.status", position=1))["ahead"] == 0


async def test_reviewer_vanishing_requeues_at_head(running: RunningServer) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    await k1.expect("queue.status")
    k2 = await running.kiosk("kiosk-2")
    await k2.send(JOIN)
    await k2.expect("queue.status", position=2)
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    await k1.expect("session.paired")
    await desk.close()
    ended = await k1.expect("session.ended")
    assert ended["outcome"] == "reviewer_left"
    assert (await k1.expect("queue.status"))["position"] == 1
    other = await running.staff("reviewer2")
    await other.send({"type": "desk.call_next"})
    await k1.expect("session.paired")


async def test_leave_and_call_next_with_nobody(running: RunningServer) -> None:
    k1 = await running.kiosk("kiosk-1")
    await k1.send(JOIN)
    await k1.expect("queue.status")
    await k1.send({"type": "queue.leave"})
    assert (await k1.expect("queue.left"))["reason"] == "left"
    desk = await running.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    err = await desk.expect("error")
    assert err["code"] == "not_found"
