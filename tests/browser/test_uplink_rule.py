"""The phone's weak-uplink rule (rw_quality.js), run in real Chromium on set
readings: Chromium has no reliable uplink throttle for a WebRTC pc here, so the
end-to-end test (test_inspection.py) triggers the offer directly and this one
checks the thresholds and the count the phone page uses."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser

RULE_JS = """async (readings) => {
  const { uplinkWeak } = await import("/static/rw_quality.js");
  return readings.map(uplinkWeak);
}"""
COUNT_JS = """async (steps) => {
  const { WeakUplink } = await import("/static/rw_quality.js");
  const uplink = new WeakUplink(3);
  return steps.map(([weak, settled]) => uplink.feed({ weak }, settled));
}"""


async def test_a_reading_is_weak_when_video_cannot_go_through(pages: Pages) -> None:
    page = await pages.open("/login")
    readings = [
        {"available": 90, "loss": 0.0, "limitation": "bandwidth"},  # starved
        {"available": 90, "loss": 0.0, "limitation": "none"},  # low estimate, nothing held back
        {"available": 149.9, "loss": None, "limitation": "bandwidth"},
        {"available": 150, "loss": None, "limitation": "bandwidth"},  # at the floor: enough
        {"available": 2000, "loss": 0.12, "limitation": "none"},  # heavy loss
        {"available": 2000, "loss": 0.1, "limitation": "none"},  # 10 % is not over 10 %
        {"available": None, "loss": None, "limitation": None},  # nothing known yet
    ]
    assert await page.evaluate(RULE_JS, readings) == [True, False, True, False, True, False, False]


async def test_the_offer_comes_after_three_settled_weak_readings_in_a_row(pages: Pages) -> None:
    page = await pages.open("/login")
    steps = [
        [True, False],  # before the connection settled: not counted
        [True, True],
        [True, True],
        [False, True],  # one good reading starts again
        [True, True],
        [True, True],
        [True, True],  # the third in a row
    ]
    assert await page.evaluate(COUNT_JS, steps) == [False, False, False, False, False, False, True]
