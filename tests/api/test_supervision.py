"""The supervisors' live dashboard over real WebSockets (server/supervision.py):
the snapshot on connect, coalesced updates on queue and session changes, the
same data from GET /api/supervision, and no supervision message to anyone else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recording.audit import read_events
from server import appkeys as K
from server.store import MemoryStore
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.api.test_ratings import _public_post, _rate_code
from tests.conftest import Client, RunningServer, make_config, start_server
from tests.contract.case_helpers import Clock

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


async def until(
    client: Client, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The next supervision.update (or snapshot) for which `check` holds."""

    async def wait() -> dict[str, Any]:
        while True:
            msg = await client.inbox.get()
            if msg.get("type") in ("supervision.update", "supervision.snapshot") and check(msg):
                return msg

    return await asyncio.wait_for(wait(), timeout)


async def session_chain(running: RunningServer, session_id: str) -> list[dict[str, Any]]:
    """The events of a session's own audit chain (written by the archive thread)."""
    recorder = running.app[K.RECORDER]
    await recorder.flushed()
    (path,) = [p for p in recorder.root.rglob("events.jsonl") if session_id in str(p)]
    return read_events(path)


def queue(snap: dict[str, Any], item: str) -> dict[str, Any]:
    return next(q for q in snap["queues"] if q["item"] == item)


async def test_the_dashboard_follows_the_queue_and_the_sessions(running: RunningServer) -> None:
    supervisor = await running.staff("supervisor")
    first = await supervisor.expect("supervision.snapshot")
    assert queue(first, "SCJG-001")["waiting"] == 0
    assert first["sessions"] == [] and first["totals"]["waiting"] == 0
    assert set(first["cases"]) == {"overdue", "due_soon", "departments", "worst"}
    assert set(first["followups"]) == {"open", "overdue"}

    agent = await running.staff("agent")
    kiosk = await running.kiosk("kiosk-1")  # at QH-CG
    await kiosk.send(JOIN)
    await kiosk.expect("queue.status")
    snap = await until(supervisor, lambda m: queue(m, "SCJG-001")["waiting"] == 1)
    row = queue(snap, "SCJG-001")
    assert [p["place"] for p in row["places"]] == ["QH-CG"]
    place = row["places"][0]
    assert place["waiting"] == 1 and isinstance(place["longest_wait_s"], int)
    assert place["longest_wait_s"] >= 0 and row["longest_wait_s"] >= place["longest_wait_s"]
    assert snap["totals"]["waiting"] == 1 and snap["type"] == "supervision.update"

    desk = await running.staff("reviewer")
    await desk.expect("desk.queues")
    snap = await until(supervisor, lambda m: queue(m, "SCJG-001")["reviewers_online"] == 1)
    assert snap["totals"]["reviewers_online"] == 1

    await desk.send({"type": "desk.call_next"})
    paired = await desk.expect("session.paired")
    snap = await until(supervisor, lambda m: bool(m["sessions"]))
    (live,) = snap["sessions"]
    assert live["session_id"] == paired["session_id"]
    assert (live["item"], live["place"], live["reviewer"]) == ("SCJG-001", "QH-CG", "reviewer")
    assert live["ticket_number"] == paired["ticket_number"] and live["duration_s"] >= 0
    assert queue(snap, "SCJG-001")["waiting"] == 0

    # The same through HTTP, for supervisors and admins; nobody else.
    for username in ("supervisor", "admin"):
        http, _ = await running.http(username)
        async with http.get("/api/supervision") as resp:
            assert resp.status == 200
            data = await resp.json()
        assert [s["session_id"] for s in data["sessions"]] == [paired["session_id"]]
    http, _ = await running.http("reviewer")
    async with http.get("/api/supervision", headers={"Accept": "application/json"}) as resp:
        assert resp.status == 403

    await desk.send({"type": "session.end", "outcome": "completed"})
    await until(supervisor, lambda m: not m["sessions"])

    # Only the supervisor heard any of it; no applicant's details in what it heard.
    for client in (kiosk, desk, agent):
        assert not [m for m in client.history if m["type"].startswith("supervision.")]
    heard = json.dumps(supervisor.history, ensure_ascii=False)
    assert "kiosk 1" not in heard  # the kiosk's display name, the applicant side


async def test_a_burst_of_changes_is_coalesced(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    # A long window, so the four joins surely fall within one.
    cfg = make_config(tmp_path / "data", supervision={"push_coalesce_ms": 4000})
    running = await start_server(cfg, accounts_template)
    try:
        kiosks = [await running.kiosk(f"kiosk-{n}") for n in (1, 2, 3, 4)]
        supervisor = await running.staff("supervisor")
        await supervisor.expect("supervision.snapshot")
        for k in kiosks:  # one after the other, each seen by the server
            await k.send(JOIN)
            await k.expect("queue.status")
        await until(supervisor, lambda m: queue(m, "SCJG-001")["waiting"] == 4)
        updates = [m for m in supervisor.history if m["type"] == "supervision.update"]
        # Four joins, each with its queue pushes: one update at once, then one
        # when the window has passed, holding all the rest.
        assert len(updates) <= 2, [queue(u, "SCJG-001")["waiting"] for u in updates]
    finally:
        await running.close()


async def test_deadlines_and_follow_ups_are_pushed(running: RunningServer) -> None:
    clock = Clock()  # Wed 30 Sep 2026 (the National Day holidays follow)
    running.app[K.CASES]._clock = clock
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    made = {}
    for key, caller, body in (
        ("A", agent, NEW),  # SCJG-001, 3 working days: due Sat 10 Oct (a 调休 working day)
        ("B", reviewer, {**NEW, "item": "RSJ-001", "mode": "video"}),  # 1 day: Thu 8 Oct
        ("D", agent, {**NEW, "item": "MZ-001"}),  # 30 working days
    ):
        status, case = await _post(caller, BASE, body)
        assert status == 201, case
        made[case["number"]] = key
    clock.now = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)  # Fri 9 Oct: B overdue, A due soon

    supervisor = await running.staff("supervisor")
    snap = await supervisor.expect("supervision.snapshot")
    cases = snap["cases"]
    assert (cases["overdue"], cases["due_soon"]) == (1, 1)
    assert [(made[c["number"]], c["remaining_working_days"]) for c in cases["worst"]] == [
        ("B", -1),
        ("A", 1),
    ]
    depts = {d["department"]: d for d in cases["departments"]}
    assert depts["县市场监督管理局"] == {
        "department": "县市场监督管理局",
        "open": 1,
        "overdue": 0,
        "due_soon": 1,
    }
    assert sum(d["open"] for d in cases["departments"]) == 3

    # Deciding A (a case change) takes it off; its bad rating opens a follow-up
    # (rated now: the rating link lasts 7 days from the decision).
    clock.now = datetime.now(UTC)
    [a] = [n for n, k in made.items() if k == "A"]
    path = f"{BASE}/{a}/transition"
    assert (await _post(reviewer, path, {"to": "in_review"}))[0] == 200
    assert (await _post(reviewer, path, {"to": "rejected", "reason": "材料不符合要求"}))[0] == 200
    # A push computed while the decision commits may straddle it; the one after
    # the commit shows A gone from both the list and the tallies.
    snap = await until(
        supervisor,
        lambda m: (
            a not in [c["number"] for c in m["cases"]["worst"]]
            and sum(d["open"] for d in m["cases"]["departments"]) == 2
        ),
    )
    assert snap["followups"] == {"open": 0, "overdue": 0}
    code = await _rate_code(running, a)
    status, _ = await _public_post(running, f"/api/rate/{code}", {"level": 2})
    assert status == 201
    snap = await until(supervisor, lambda m: m["followups"]["open"] == 1)
    assert snap["totals"]["followups_open"] == 1

    heard = json.dumps(supervisor.history, ensure_ascii=False)
    assert NEW["applicant_id"] not in heard and NEW["applicant_name"] not in heard


async def test_a_live_spot_check_is_audited_and_announced(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    session_id = desk.last["session.paired"]["session_id"]
    supervisor = await running.staff("supervisor")
    await supervisor.expect("supervision.snapshot")

    await supervisor.send({"type": "supervision.observe", "session_id": "nope"})
    assert (await supervisor.expect("error"))["code"] == "not_found"
    await supervisor.send({"type": "supervision.unobserve", "session_id": session_id})
    assert (await supervisor.expect("error"))["code"] == "wrong_state"
    await desk.send({"type": "supervision.observe", "session_id": session_id})
    assert (await desk.expect("error"))["code"] == "forbidden"

    await supervisor.send({"type": "supervision.observe", "session_id": session_id})
    ack = await supervisor.expect("session.observer")
    assert (ack["session_id"], ack["observers"], ack["observing"]) == (session_id, 1, True)
    for side in (kiosk, desk):
        told = await side.expect("session.observer")
        assert told["notice"]["zh"] == "监督人员在线" and told["observing"] is False
    snap = await until(supervisor, lambda m: bool(m["sessions"]) and m["sessions"][0]["observers"])
    assert snap["sessions"][0]["observers"] == 1

    # The supervisor's socket closes: the observation ends with it, told again.
    await supervisor.close()
    for side in (kiosk, desk):
        told = await side.expect("session.observer")
        assert (told["observers"], told["notice"]) == (0, None)

    events = await running.system_events()
    kinds = [e["type"] for e in events if e["type"].startswith("supervision.")]
    assert kinds == ["supervision.observed", "supervision.unobserved"]
    observed = next(e for e in events if e["type"] == "supervision.observed")
    assert observed["actor"] == "supervisor:supervisor"
    assert observed["data"] == {"session": session_id, "announced": True}
    # And in the session's own chain, which its signature closes.
    await desk.send({"type": "session.end", "outcome": "completed"})
    await kiosk.expect("session.ended")
    chain = await session_chain(running, session_id)
    joined = next(e for e in chain if e["type"] == "observer.joined")
    assert joined["data"] == {"account": "supervisor", "announced": True}
    left = next(e for e in chain if e["type"] == "observer.left")
    assert left["data"] == {"reason": "socket_closed"}


async def test_a_silent_spot_check_is_audited_but_not_announced(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    cfg = make_config(tmp_path / "data", supervision={"announce_observer": False})
    running = await start_server(cfg, accounts_template)
    try:
        kiosk, desk = await running.pair()
        session_id = desk.last["session.paired"]["session_id"]
        supervisor = await running.staff("supervisor")
        await supervisor.send({"type": "supervision.observe", "session_id": session_id})
        ack = await supervisor.expect("session.observer")
        assert ack["observing"] is True and ack["notice"] is None
        await supervisor.send({"type": "supervision.unobserve", "session_id": session_id})
        assert (await supervisor.expect("session.observer"))["observing"] is False
        await desk.send({"type": "session.end", "outcome": "completed"})
        await kiosk.expect("session.ended")
        for side in (kiosk, desk):
            assert "session.observer" not in side.last
        chain = await session_chain(running, session_id)
        joined = next(e for e in chain if e["type"] == "observer.joined")
        assert joined["data"] == {"account": "supervisor", "announced": False}
        events = await running.system_events()
        kinds = [e["type"] for e in events if e["type"].startswith("supervision.")]
        assert kinds == ["supervision.observed", "supervision.unobserved"]
    finally:
        await running.close()


async def test_sessions_of_another_process_are_on_the_dashboard(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    """Two server processes on one Store (as with Redis): the supervisor's socket
    on one sees the session whose media is on the other."""
    store = MemoryStore()
    here = await start_server(make_config(tmp_path / "a"), accounts_template, store=store)
    there = await start_server(make_config(tmp_path / "b"), accounts_template, store=store)
    try:
        supervisor = await here.staff("supervisor")
        await supervisor.expect("supervision.snapshot")
        _kiosk, desk = await there.pair()
        session_id = desk.last["session.paired"]["session_id"]
        snap = await until(supervisor, lambda m: bool(m["sessions"]))
        (row,) = snap["sessions"]
        assert (row["session_id"], row["reviewer"], row["place"]) == (
            session_id,
            "reviewer",
            "QH-CG",
        )
        await desk.send({"type": "session.end", "outcome": "completed"})
        await until(supervisor, lambda m: not m["sessions"])
    finally:
        await there.close()
        await here.close()


async def test_an_observer_who_leaves_the_media_stops_observing(running: RunningServer) -> None:
    """session.leave (or a lost pc) from the observer ends the observation too."""
    kiosk, desk = await running.pair()
    session_id = desk.last["session.paired"]["session_id"]
    supervisor = await running.staff("supervisor")
    await supervisor.send({"type": "supervision.observe", "session_id": session_id})
    assert (await supervisor.expect("session.paired"))["party"] == "observer"
    await kiosk.expect("session.observer", observers=1)
    await supervisor.send({"type": "session.leave"})
    await supervisor.expect("session.ended", outcome="left")
    told = await kiosk.expect("session.observer", observers=0)
    assert told["notice"] is None
    assert (await supervisor.expect("session.observer"))["observing"] is False
    await desk.send({"type": "session.end", "outcome": "completed"})
    await kiosk.expect("session.ended")
    chain = await session_chain(running, session_id)
    left = [e for e in chain if e["type"] == "observer.left"]
    assert [e["data"] for e in left] == [{"reason": "left"}]
