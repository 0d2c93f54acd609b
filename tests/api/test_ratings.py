"""Ratings (好差评) on a real server: a case rated once through the receipt's code,
never changed; a kiosk rating the live session it was in, once; the refusals
that write nothing; a bad rating's follow-up through respond and close, audited
and counted in /metrics."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp

from server import appkeys as K
from server.register.case_types import Actor
from tests.api.test_case_api import BASE, NEW, _get, _post, _signed_in
from tests.api.test_session_signaling import _live
from tests.conftest import RunningServer

Caller = tuple[aiohttp.ClientSession, dict]


async def _decided_case(running: RunningServer) -> str:
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    path = f"{BASE}/{number}/transition"
    assert (await _post(reviewer, path, {"to": "in_review"}))[0] == 200
    status, _ = await _post(reviewer, path, {"to": "rejected", "reason": "材料不符合要求"})
    assert status == 200
    return number


async def _rate_code(running: RunningServer, number: str) -> str:
    """The rating code, read from the receipt the agent prints."""
    agent = await _signed_in(running, "agent")
    async with agent[0].get(f"/case/{number}/receipt") as resp:
        assert resp.status == 200
        html = await resp.text()
    found = re.search(r'id="r-rate-url">[^<]*/rate/([^<]+)</p>', html)
    assert found, "the receipt carries the rating link"
    assert 'id="r-rate-qr"><svg' in html
    return found.group(1)


async def _public_post(running: RunningServer, path: str, body: object) -> tuple[int, dict]:
    anon, _ = await running.http()
    async with anon.post(path, json=body) as resp:
        return resp.status, await resp.json()


def _ratings_rows(running: RunningServer) -> int:
    from sqlalchemy import func, select

    from server.register.models import FollowUpRow, RatingRow

    with running.app[K.REGISTER].read() as s:
        return int(s.scalar(select(func.count()).select_from(RatingRow)) or 0) + int(
            s.scalar(select(func.count()).select_from(FollowUpRow)) or 0
        )


async def _metric(running: RunningServer, name: str) -> float:
    anon, _ = await running.http()
    async with anon.get("/metrics") as resp:
        text = await resp.text()
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, name
    return float(found.group(1))


async def test_a_case_is_rated_once_and_the_rating_never_changes(running: RunningServer) -> None:
    number = await _decided_case(running)
    code = await _rate_code(running, number)
    anon, _ = await running.http()
    async with anon.get(f"/rate/{code}") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert 'data-status="rateable"' in page and "非常不满意" in page

    # Bad input: 400 naming the field, nothing written.
    for body, field in (
        ({"level": "superb"}, "level"),
        ({"level": 6}, "level"),
        ({"level": "dissatisfied", "reasons": ["nonsense"]}, "reasons"),
        ({"level": "dissatisfied", "comment": "长" * 301}, "comment"),
    ):
        status, err = await _public_post(running, f"/api/rate/{code}", body)
        assert (status, err["field"]) == (400, field), err
    forged = code[:-3] + ("aaa" if not code.endswith("aaa") else "bbb")
    assert (await _public_post(running, f"/api/rate/{forged}", {"level": 4}))[0] == 404
    assert _ratings_rows(running) == 0

    body = {"level": "dissatisfied", "reasons": ["slow", "unclear"], "comment": "等了很久"}
    status, rating = await _public_post(running, f"/api/rate/{code}", body)
    assert status == 201, rating
    assert rating["level_names"]["zh"] == "不满意"
    assert (rating["department"], rating["reviewer"]) == ("县市场监督管理局", "reviewer")
    # Once: a second rating (even a better one) is refused; there is no update route.
    status, again = await _public_post(running, f"/api/rate/{code}", {"level": 5})
    assert (status, again["code"]) == (409, "already_rated")
    async with anon.put(f"/api/rate/{code}", json={"level": 5}) as resp:
        assert resp.status == 405
    async with anon.get(f"/rate/{code}") as resp:
        page = await resp.text()
    assert 'data-status="rated"' in page and "本办件已评价：不满意" in page

    # In the system audit chain (no comment there) and the case's history.
    events = await running.system_events()
    given = [e for e in events if e["type"] == "rating.given"]
    assert len(given) == 1 and given[0]["data"]["level"] == "dissatisfied"
    assert given[0]["data"]["subject"] == number and "等了很久" not in str(events)
    assert any(e["type"] == "followup.opened" for e in events)
    supervisor = await _signed_in(running, "supervisor")
    case = (await _get(supervisor, f"{BASE}/{number}"))[1]
    assert [h["type"] for h in case["history"]][-2:] == ["rating", "followup_opened"]

    # The follow-up: open → responded → closed, each step once, counted in /metrics.
    status, listed = await _get(supervisor, "/api/followups?state=open")
    assert status == 200 and len(listed["followups"]) == 1
    fu = listed["followups"][0]
    assert fu["rating"]["subject"] == number and fu["department"] == "县市场监督管理局"
    assert fu["assignee"] == "supervisor" and not fu["overdue"]
    assert await _metric(running, "rw_followups_open") == 1
    path = f"/api/followups/{fu['id']}"
    status, err = await _post(supervisor, f"{path}/close", {"verdict": "resolved"})
    assert (status, err["code"]) == (409, "wrong_state")
    status, err = await _post(supervisor, f"{path}/respond", {"response": "  "})
    assert (status, err["field"]) == (400, "response")
    status, fu = await _post(supervisor, f"{path}/respond", {"response": "已约谈审批人员"})
    assert status == 200 and fu["state"] == "responded"
    status, err = await _post(supervisor, f"{path}/close", {"verdict": "maybe"})
    assert (status, err["field"]) == (400, "verdict")
    status, fu = await _post(supervisor, f"{path}/close", {"verdict": "resolved", "note": "ok"})
    assert status == 200 and (fu["state"], fu["verdict"]) == ("closed", "resolved")
    assert await _metric(running, "rw_followups_open") == 0
    types = [e["type"] for e in await running.system_events()]
    assert types.count("followup.responded") == 1 and types.count("followup.closed") == 1


async def test_an_open_or_expired_case_is_not_rated(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    open_number = (await _post(agent, BASE, NEW))[1]["number"]
    code = await _rate_code(running, open_number)
    status, err = await _public_post(running, f"/api/rate/{code}", {"level": 5})
    assert (status, err["code"]) == (409, "open")

    number = await _decided_case(running)
    code = await _rate_code(running, number)
    ratings = running.app[K.RATINGS]
    real_clock = ratings._clock
    ratings._clock = lambda: real_clock() + timedelta(days=7, minutes=1)
    anon, _ = await running.http()
    async with anon.get(f"/rate/{code}") as resp:
        assert 'id="rate-expired"' in await resp.text()
    status, err = await _public_post(running, f"/api/rate/{code}", {"level": 5})
    assert (status, err["code"]) == (409, "expired")
    assert _ratings_rows(running) == 0
    # A good rating within the window opens no follow-up.
    ratings._clock = real_clock
    assert (await _public_post(running, f"/api/rate/{code}", {"level": "fair"}))[0] == 201
    assert _ratings_rows(running) == 1
    async with anon.get("/rate/QH-2026-000001-notacode") as resp:
        assert resp.status == 404 and 'id="rate-unknown"' in await resp.text()


async def _kiosk_post(
    running: RunningServer, kiosk: str, session_id: str, body: object
) -> tuple[int, dict]:
    anon, _ = await running.http()
    headers = {"Authorization": f"Bearer {running.kiosk_tokens[kiosk]}"}
    async with anon.post(f"/api/ratings/sessions/{session_id}", json=body, headers=headers) as r:
        return r.status, await r.json()


async def test_a_kiosk_rates_the_session_it_was_in_once(running: RunningServer) -> None:
    kiosk, desk, peers = await _live(running)
    session_id = next(m for m in kiosk.history if m["type"] == "session.paired")["session_id"]
    await desk.send({"type": "session.end", "outcome": "completed"})
    await kiosk.expect("session.ended")
    for peer in peers:
        await peer.close()

    status, err = await _kiosk_post(running, "kiosk-1", session_id, {"level": "bad"})
    assert (status, err["field"]) == (400, "level")
    # Another kiosk may not rate it.
    status, err = await _kiosk_post(running, "kiosk-2", session_id, {"level": 1})
    assert (status, err["code"]) == (409, "not_yours")
    assert _ratings_rows(running) == 0
    # The session belongs to a case (linked by the reviewer): the rating goes to
    # the case's history too, with the case's department.
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    reviewer = Actor("reviewer", "reviewer", place="QH-COUNTY", items=("SCJG-001",))
    running.app[K.CASES].link_session(reviewer, number, session_id)
    body = {"level": "very_dissatisfied", "reasons": ["technical"]}
    status, rating = await _kiosk_post(running, "kiosk-1", session_id, body)
    assert status == 201, rating
    case = running.app[K.CASES].get(reviewer, number)
    assert [h["type"] for h in case.history][-2:] == ["rating", "followup_opened"]
    assert case.history[-2]["actor"].startswith("kiosk:")
    assert (rating["kind"], rating["subject"], rating["reviewer"]) == (
        "session",
        session_id,
        "reviewer",
    )
    status, err = await _kiosk_post(running, "kiosk-1", session_id, {"level": 5})
    assert (status, err["code"]) == (409, "already_rated")
    assert _ratings_rows(running) == 2  # the rating and its follow-up
    # An unknown session: 404; a malformed id: 400.
    assert (await _kiosk_post(running, "kiosk-1", "20260101-000000-00000000", {"level": 5}))[
        0
    ] == 404
    assert (await _kiosk_post(running, "kiosk-1", "nope", {"level": 5}))[0] == 400


async def test_a_session_that_never_went_live_is_not_rated(running: RunningServer) -> None:
    kiosk, _ = await running.pair()
    session_id = next(m for m in kiosk.history if m["type"] == "session.paired")["session_id"]
    await kiosk.send({"type": "session.end", "outcome": "cancelled"})
    await kiosk.expect("session.ended")
    status, err = await _kiosk_post(running, "kiosk-1", session_id, {"level": 5})
    assert (status, err["code"]) == (409, "not_served")


async def test_the_rating_page_form_works_without_script(running: RunningServer) -> None:
    number = await _decided_case(running)
    code = await _rate_code(running, number)
    anon, _ = await running.http()
    async with anon.post(f"/rate/{code}", data={"comment": "没选等级"}) as resp:
        assert resp.status == 400
        assert 'id="rate-error"' in await resp.text()
    assert _ratings_rows(running) == 0
    form = aiohttp.FormData([("level", "1"), ("reason", "attitude"), ("reason", "slow")])
    async with anon.post(f"/rate/{code}", data=form) as resp:
        assert resp.status == 200
        assert 'id="rate-done"' in await resp.text()
    supervisor = await _signed_in(running, "supervisor")
    [fu] = (await _get(supervisor, "/api/followups"))[1]["followups"]
    assert fu["rating"]["level_names"]["code"] == "very_dissatisfied"
    assert [r["code"] for r in fu["rating"]["reasons"]] == ["attitude", "slow"]


async def test_spot_checks_through_the_api(running: RunningServer) -> None:
    numbers = [await _decided_case(running) for _ in range(3)]
    week = running.app[K.CASES].today().strftime("%G-W%V")
    supervisor = await _signed_in(running, "supervisor")
    status, err = await _post(supervisor, "/api/spot-checks/draws", {"week": "soon"})
    assert (status, err["field"]) == (400, "week")
    status, draw = await _post(supervisor, "/api/spot-checks/draws", {"week": week, "seed": 7})
    assert status == 201, draw
    assert draw["population"]["县市场监督管理局"]["cases"] == 3
    [check] = draw["checks"]  # 5 % of 3, at least one
    assert check["number"] in numbers and check["state"] == "pending"
    again = await _post(supervisor, "/api/spot-checks/draws", {"week": week})
    assert (again[0], again[1]["code"]) == (409, "already_drawn")
    status, redo = await _post(supervisor, f"/api/spot-checks/draws/{week}/redraw", {})
    assert status == 200 and redo["same_sample"] and redo["drawn"] == [check["number"]]
    answers = {
        "materials_complete": True,
        "decision_justified": True,
        "time_limit_kept": True,
        "conduct": True,
    }
    path = f"/api/spot-checks/{check['id']}/review"
    body = {"checklist": answers, "verdict": "pass", "note": "规范"}
    status, reviewed = await _post(supervisor, path, body)
    assert status == 200 and reviewed["verdict"] == "pass"
    assert (await _post(supervisor, path, body))[0] == 409
    listed = (await _get(supervisor, f"/api/spot-checks?week={week}"))[1]["draws"]
    assert listed[0]["checks"][0]["state"] == "reviewed"
    drawn = [e for e in await running.system_events() if e["type"] == "spot_check.drawn"]
    assert drawn[0]["data"]["seed"] == "7"
