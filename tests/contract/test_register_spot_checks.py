"""Random spot checks (随机抽查) and ratings on SQLite and a real PostgreSQL alike:
the draw with a recorded seed is reproducible (by the service and by anyone
following the documented rule), covers the configured share per department,
a different seed gives a different sample; reviews are once; concurrent
ratings of one case: one wins."""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from server.config import RatingsConfig, SpotChecksConfig
from server.register.case_types import CaseError
from server.register.followups import FollowUpService
from server.register.ratings import (
    AlreadyRated,
    RateCodes,
    RatingFilter,
    RatingService,
    rating_distribution,
)
from server.register.spot_checks import (
    AlreadyDrawn,
    AlreadyReviewed,
    SpotCheckService,
    draw_sample,
    iso_week,
)
from tests.contract.case_helpers import REVIEWER, SUPERVISOR, Cases

SHARE = 0.1
COUNTS = {"SCJG-001": 23, "RSJ-001": 9}  # two departments
DEPARTMENTS = {"SCJG-001": "县市场监督管理局", "RSJ-001": "县人力资源和社会保障局"}
CHECKS = {
    "materials_complete": True,
    "decision_justified": True,
    "time_limit_kept": False,
    "conduct": True,
}


def _decide(cases: Cases, item: str) -> str:
    number = cases.create(item=item, mode="video").number
    cases.service.transition(REVIEWER, number, "in_review")
    cases.service.transition(REVIEWER, number, "rejected", "材料不全")
    return number


def _spot(cases: Cases) -> SpotCheckService:
    cfg = SpotChecksConfig(share=SHARE, min_per_department=1)
    return SpotCheckService(
        cases.service.register, cases.service.catalogue, cfg, cases.audit.append, cases.clock
    )


def _by_hand(numbers: dict[str, list[str]], seed: int, week: str) -> dict[str, list[str]]:
    """The rule as the module's documentation states it, written out independently."""
    out = {}
    for department, nums in numbers.items():
        n = min(len(nums), max(1, math.ceil(SHARE * len(nums))))
        key = {
            x: hashlib.sha256(f"{seed}|{week}|{department}|{x}".encode()).hexdigest() for x in nums
        }
        out[department] = sorted(sorted(nums, key=key.__getitem__)[:n])
    return out


def test_a_seeded_draw_is_reproducible_and_covers_the_share(cases: Cases) -> None:
    week = iso_week(cases.clock.now.date())
    decided: dict[str, list[str]] = {DEPARTMENTS[i]: [] for i in COUNTS}
    for item, n in COUNTS.items():
        for _ in range(n):
            decided[DEPARTMENTS[item]].append(_decide(cases, item))
    cases.create()  # still open: not in the population
    spot = _spot(cases)
    cases.clock.advance(days=7)  # drawn the next week
    _decide(cases, "SCJG-001")  # decided in the next week: not in this one

    draw = spot.draw("supervisor:supervisor", week, 424242)
    drawn: dict[str, list[str]] = {}
    for check in draw["checks"]:
        drawn.setdefault(check["department"], []).append(check["number"])
    assert {d: sorted(v) for d, v in drawn.items()} == _by_hand(decided, 424242, week)
    for item, n in COUNTS.items():
        department = DEPARTMENTS[item]
        assert len(drawn[department]) == math.ceil(SHARE * n)  # 3 of 23, 1 of 9
        assert set(drawn[department]) <= set(decided[department])
        assert draw["population"][department]["cases"] == n

    # The seed and the parameters are in the audit log; a week is drawn once.
    [event] = [e for e in cases.events() if e["type"] == "spot_check.drawn"]
    assert event["data"]["seed"] == "424242" and event["data"]["share"] == SHARE
    assert event["data"]["min_per_department"] == 1 and event["data"]["drawn"] == {
        d: sorted(v) for d, v in drawn.items()
    }
    with pytest.raises(AlreadyDrawn):
        spot.draw("supervisor:supervisor", week, 1)

    # Redrawing from the record gives the same sample; another seed another one.
    again = spot.redraw("supervisor:supervisor", week)
    assert again["same_sample"] and again["same_population"] and not again["missing"]
    other = draw_sample(decided, "424243", week, SHARE, 1)
    assert other != {d: sorted(v) for d, v in drawn.items()}

    # Review: the checklist and a verdict, once; bad input writes nothing.
    check_id = draw["checks"][0]["id"]
    with pytest.raises(CaseError):
        spot.review(SUPERVISOR, check_id, {"conduct": True}, "pass")
    with pytest.raises(CaseError):
        spot.review(SUPERVISOR, check_id, CHECKS, "maybe")
    assert spot.list(SUPERVISOR, week)[0]["checks"][0]["state"] == "pending"
    reviewed = spot.review(SUPERVISOR, check_id, CHECKS, "fail", "超时办结")
    assert (reviewed["state"], reviewed["verdict"]) == ("reviewed", "fail")
    assert reviewed["checklist"] == CHECKS
    with pytest.raises(AlreadyReviewed):
        spot.review(SUPERVISOR, check_id, CHECKS, "pass")
    assert [e["type"] for e in cases.events()].count("spot_check.reviewed") == 1


def test_concurrent_ratings_of_one_case_one_wins(cases: Cases, tmp_path: Path) -> None:
    number = _decide(cases, "SCJG-001")
    cfg = RatingsConfig()
    followups = FollowUpService(cases.service, cfg, cases.audit.append, cases.clock)
    codes = RateCodes.load_or_create(tmp_path)
    ratings = RatingService(cases.service, followups, cfg, codes, cases.audit.append, cases.clock)
    code = codes.code(number)

    def rate(level: int) -> str:
        try:
            ratings.rate_case(code, level)
            return "rated"
        except AlreadyRated:
            return "refused"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(rate, [1, 2, 4, 5]))
    assert sorted(results) == ["rated", "refused", "refused", "refused"]
    found = ratings.case_for_code(code)
    assert found is not None and found["status"] == "rated"
    history = cases.service.get(SUPERVISOR, number).history
    assert [h["type"] for h in history].count("rating") == 1


def test_the_rating_distribution_for_statistics(cases: Cases, tmp_path: Path) -> None:
    cfg = RatingsConfig()
    followups = FollowUpService(cases.service, cfg, cases.audit.append, cases.clock)
    codes = RateCodes.load_or_create(tmp_path)
    ratings = RatingService(cases.service, followups, cfg, codes, cases.audit.append, cases.clock)
    for item, level in (("SCJG-001", 5), ("SCJG-001", 3), ("SCJG-001", 2), ("RSJ-001", 1)):
        ratings.rate_case(codes.code(_decide(cases, item)), level)
    with cases.service.register.read() as s:
        market = rating_distribution(s, RatingFilter(department=DEPARTMENTS["SCJG-001"]))
        everything = rating_distribution(s)
        later = rating_distribution(s, RatingFilter(since=cases.clock.now + timedelta(seconds=1)))
    assert [lv["count"] for lv in market["levels"]] == [1, 0, 1, 1, 0]  # 5 … 1
    assert (market["total"], market["satisfied"], market["bad"]) == (3, 2, 1)
    assert market["satisfaction_rate"] == round(2 / 3, 4)
    assert (everything["total"], everything["bad"]) == (4, 2)
    assert later["total"] == 0 and later["satisfaction_rate"] is None
    assert followups.counts() == {"open": 2, "overdue": 0}
    cases.clock.advance(days=14)  # past 5 working days
    assert followups.counts() == {"open": 2, "overdue": 2}
