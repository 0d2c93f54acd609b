"""What a waiting applicant is told: the ticket number (叫号), and, while no
reviewer of the item is online, that nobody is online and the service hours
instead of a made-up estimate. Real server over WebSocket."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from server import CONFIG_DIR
from server.catalogue import parse_catalogue
from server.config import Config
from tests.conftest import RunningServer, start_server

DAYS = "一二三四五六日"


def _catalogue():
    """The demo catalogue, with hours that are open all day for SCJG-001 and
    closed today for RSJ-001 (whatever day the test runs)."""
    raw = tomllib.loads((CONFIG_DIR / "catalogue.toml").read_text())
    today = datetime.now(parse_catalogue(raw).local_time(0).tzinfo).weekday()
    other = DAYS[(today + 3) % 7]
    for item in raw["items"]:
        if item["code"] == "SCJG-001":
            item["hours"] = "每天 0:00-24:00"
        elif item["code"] == "RSJ-001":
            item["hours"] = f"周{other} 9:00-12:00"
    return parse_catalogue(raw)


@pytest.fixture
async def server(
    config: Config, accounts_template: tuple[Path, dict[str, str]]
) -> AsyncIterator[RunningServer]:
    srv = await start_server(config, accounts_template, catalogue=_catalogue())
    try:
        yield srv
    finally:
        await srv.close()


def _join(item: str) -> dict[str, object]:
    return {"type": "queue.join", "item": item, "recording_notice_shown": True}


async def test_no_reviewer_online_says_so_with_the_hours(server: RunningServer) -> None:
    kiosk = await server.kiosk("kiosk-1")
    await kiosk.send(_join("SCJG-001"))
    status = await kiosk.expect("queue.status")
    assert status["reviewers_online"] == 0
    assert status["estimated_wait_s"] is None  # not "about 3 minutes"
    every = {"zh": "每天 0:00-24:00", "en": "Every day 0:00-24:00", "open_now": True}
    assert status["hours"] == every

    closed = await server.kiosk("kiosk-2")
    await closed.send(_join("RSJ-001"))
    status = await closed.expect("queue.status")
    assert status["hours"]["open_now"] is False and status["hours"]["zh"].startswith("周")

    # A reviewer of the item signs in: the estimate comes back, pushed at once.
    desk = await server.staff("reviewer")
    await desk.expect("desk.queues")
    status = await kiosk.expect("queue.status", reviewers_online=1)
    assert isinstance(status["estimated_wait_s"], int) and status["estimated_wait_s"] > 0
    # ... and goes again when the reviewer leaves.
    await desk.close()
    status = await kiosk.expect("queue.status", reviewers_online=0)
    assert status["estimated_wait_s"] is None


async def test_ticket_numbers_per_item_on_both_sides(server: RunningServer) -> None:
    first, second, other = [await server.kiosk(f"kiosk-{n}") for n in (1, 2, 3)]
    await first.send(_join("SCJG-001"))
    assert (await first.expect("queue.status"))["ticket_number"] == "A001"
    await second.send(_join("SCJG-001"))
    assert (await second.expect("queue.status"))["ticket_number"] == "A002"
    await other.send(_join("RSJ-001"))  # its own letter and counter
    assert (await other.expect("queue.status"))["ticket_number"] == "C001"
    # Joining again returns the same place and number.
    await first.send(_join("SCJG-001"))
    assert (await first.expect("queue.status"))["ticket_number"] == "A001"

    desk = await server.staff("reviewer")
    await desk.send({"type": "desk.call_next"})
    assert (await desk.expect("session.paired"))["ticket_number"] == "A001"
    assert (await first.expect("session.paired"))["ticket_number"] == "A001"
