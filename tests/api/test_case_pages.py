"""The case page and the counter page on a real server: who gets which page of a
case, what each one may do there, and which items a counter receives."""

from __future__ import annotations

import asyncio
import re

from server import appkeys as K
from server.case_pages import counter_items
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import PASSWORD, RunningServer

HTML = {"Accept": "text/html"}


async def _page(running: RunningServer, username: str, path: str) -> tuple[int, str]:
    session, _ = await running.http(username)
    async with session.get(path, headers=HTML) as resp:
        return resp.status, await resp.text()


async def test_each_role_gets_its_view_of_a_case(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    path = f"/case/{number}"

    status, html = await _page(running, "reviewer", path)
    assert status == 200 and 'data-view="reviewer"' in html
    assert 'id="decision-panel"' in html and 'id="show-id"' in html
    assert 'id="capture-panel"' not in html

    status, html = await _page(running, "agent", path)
    assert status == 200 and 'data-view="agent"' in html
    assert 'id="capture-panel"' in html and 'id="cam-device"' in html
    assert 'id="decision-panel"' not in html and 'id="show-id"' not in html

    status, html = await _page(running, "supervisor", path)
    assert status == 200 and 'data-view="readonly"' in html
    for part in ('id="decision-panel"', 'id="capture-panel"', 'id="show-id"'):
        assert part not in html

    # The full ID number is on no page: the reviewer asks for it (audited).
    for username in ("reviewer", "agent", "supervisor"):
        html = (await _page(running, username, path))[1]
        assert NEW["applicant_id"] not in html
        assert "************" + NEW["applicant_id"][-4:] in html

    # A reviewer of other items, an agent of another place, an admin: the
    # forbidden page, nothing of the case.
    await asyncio.to_thread(
        running.app[K.ACCOUNTS].add_user, "agent2", PASSWORD, "agent", place="QH-CG"
    )
    for username in ("city", "agent2", "admin"):
        status, html = await _page(running, username, path)
        assert status == 403 and "无权打开此页面" in html, username
        assert NEW["applicant_name"] not in html


async def test_an_unknown_case_is_a_page_saying_so(running: RunningServer) -> None:
    status, html = await _page(running, "reviewer", "/case/QH-2026-999999")
    assert status == 404 and 'id="case-missing"' in html and "QH-2026-999999" in html


async def test_the_counter_offers_the_items_of_its_place_level(running: RunningServer) -> None:
    status, html = await _page(running, "agent", "/agent")
    assert status == 200
    offered = dict(re.findall(r'<option value="([A-Z]+-\d+)" data-modes=\'([^\']*)\'', html))
    # A village point receives county matters in a counter mode, no city ones.
    assert offered["SCJG-001"] == '["forward", "assisted"]'
    assert offered["RSJ-001"] == '["assisted"]'
    assert offered["SCJG-002"] == '["forward"]'
    assert "RSJ-002" not in offered and "BDC-001" not in offered  # city items
    assert 'id="agent-placeholder"' not in html
    # A county hall receives city matters too (市县同权), a city hall only its own.
    catalogue = running.app[K.CATALOGUE]
    places = catalogue.places.items()
    at = {code: [i.code for i in counter_items(catalogue, p)] for code, p in places}
    assert "RSJ-002" in at["QH-COUNTY"] and "SCJG-001" in at["QH-COUNTY"]
    assert "RSJ-002" in at["JZ-CITY"] and "SCJG-001" not in at["JZ-CITY"]
    assert at["QH-LL"] == at["QH-LL-DC"] and "RSJ-002" not in at["QH-LL"]
    assert "GA-001" in at["QH-LL"] and all(
        catalogue.items[c].level == "county" for c in at["QH-LL"]
    )
