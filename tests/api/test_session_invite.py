"""Inviting a colleague into a running session (视频会商) through the real server:
who may invite whom, decline and timeout told to the inviter in plain words,
the audit trail, and a supervisor joining as an observer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from server import appkeys as K
from tests.conftest import RunningServer, make_config, start_server


@pytest.fixture
async def quick(tmp_path, accounts_template) -> AsyncIterator[RunningServer]:
    """A server whose desks ring for half a second."""
    cfg = make_config(tmp_path / "data", queue={"grace_seconds": 60}, media={"invite_seconds": 0.5})
    srv = await start_server(cfg, accounts_template)
    try:
        yield srv
    finally:
        await srv.close()


async def _events(running: RunningServer, session_id: str) -> list[dict]:
    await running.app[K.RECORDER].flushed()
    [path] = (running.app[K.CONFIG].data_dir / "archive").glob(f"*/*/*/{session_id}/events.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_bad_invitations_are_refused_in_plain_words(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    colleague = await running.staff("reviewer2")
    for account, code in (
        ("reviewer", "bad_field"),  # oneself
        ("nobody", "not_found"),
        ("admin", "not_found"),  # online or not, an admin is not invitable
        ("agent", "not_found"),
    ):
        await desk.send({"type": "session.invite", "account": account})
        err = await desk.expect("error", ref="session.invite")
        assert err["code"] == code, (account, err)
    # Only the session's reviewer invites: not the kiosk, not a reviewer outside it.
    await kiosk.send({"type": "session.invite", "account": "reviewer2"})
    assert (await kiosk.expect("error", ref="session.invite"))["code"] == "forbidden"
    await colleague.send({"type": "session.invite", "account": "reviewer"})
    assert (await colleague.expect("error", ref="session.invite"))["code"] == "wrong_state"
    # An answer to no invitation.
    await colleague.send({"type": "session.invite_answer", "invite_id": "x", "accept": True})
    assert (await colleague.expect("error"))["code"] == "not_found"
    assert not any(m["type"] == "session.invited" for m in colleague.history)


async def test_declined_and_unanswered_invitations(quick: RunningServer) -> None:
    _kiosk, desk = await quick.pair()
    colleague = await quick.staff("reviewer2")
    await desk.send({"type": "session.invite", "account": "reviewer2"})
    await desk.expect("session.invite_result", result="ringing")
    invited = await colleague.expect("session.invited")
    await colleague.send(
        {"type": "session.invite_answer", "invite_id": invited["invite_id"], "accept": False}
    )
    declined = await desk.expect("session.invite_result", result="declined")
    assert "谢绝" in declined["notice"]["zh"] and "declined" in declined["notice"]["en"]

    # Again, and nobody answers: the inviter hears it, the colleague's desk stops ringing.
    await desk.send({"type": "session.invite", "account": "reviewer2"})
    again = await colleague.expect("session.invited")
    timeout = await desk.expect("session.invite_result", result="timeout")
    assert "未应答" in timeout["notice"]["zh"]
    await colleague.expect("session.invite_result", result="timeout", invite_id=again["invite_id"])
    await colleague.send(
        {"type": "session.invite_answer", "invite_id": again["invite_id"], "accept": True}
    )
    assert (await colleague.expect("error"))["code"] == "not_found", "a lapsed invitation"
    session_id = invited["session_id"]
    types = [e["type"] for e in await _events(quick, session_id)]
    assert types.count("participant.invited") == 2
    assert "participant.invite_declined" in types and "participant.invite_timeout" in types
    assert "participant.added" not in types


async def test_supervisor_joins_as_observer_and_leaves(running: RunningServer) -> None:
    kiosk, desk = await running.pair()
    supervisor = await running.staff("supervisor")
    await desk.send({"type": "session.invite", "account": "supervisor"})
    invited = await supervisor.expect("session.invited")
    assert invited["party"] == "observer"
    await supervisor.send(
        {"type": "session.invite_answer", "invite_id": invited["invite_id"], "accept": True}
    )
    paired = await supervisor.expect("session.paired")
    assert paired["party"] == "observer" and paired["session_id"] == invited["session_id"]
    roster = await kiosk.expect("session.participants")
    assert [p["party"] for p in roster["participants"]] == ["applicant", "reviewer", "observer"]
    # An observer receives only: nobody needs an m-line for it.
    assert roster["needed"] == {"audio": 1, "video": 1}
    # An observer cannot end the session for the others: session.end is a leave.
    await supervisor.send({"type": "session.end"})
    ended = await supervisor.expect("session.ended")
    assert (ended["outcome"], ended["by"]) == ("left", "self")
    roster = await desk.expect("session.participants")
    while len(roster["participants"]) != 2:  # the one from the observer's joining first
        roster = await desk.expect("session.participants")
    assert roster["needed"] == {"audio": 1, "video": 1}
    # The pair cannot leave; they end the session.
    await kiosk.send({"type": "session.leave"})
    assert (await kiosk.expect("error", ref="session.leave"))["code"] == "wrong_state"
    await desk.send({"type": "session.end"})
    await kiosk.expect("session.ended", by="reviewer")
    events = await _events(running, paired["session_id"])
    added = [e for e in events if e["type"] == "participant.added"]
    assert added[0]["actor"] == "reviewer" and added[0]["data"]["party"] == "observer"
    left = [e for e in events if e["type"] == "participant.left"]
    assert next(e["data"]["party"] for e in left) == "observer"
