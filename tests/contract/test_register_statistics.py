"""The statistics queries on SQLite and PostgreSQL against figures worked out by
hand (tests/contract/stats_cases.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from server.catalogue import load_catalogue
from server.register.case_types import CaseError
from server.register.db import Register
from server.register.models import RatingRow
from server.register.statistics import StatsFilter, StatsQueries
from tests.contract import stats_cases as hand
from tests.contract.register_db import postgres_database


@pytest.fixture
def stats(register: Register) -> StatsQueries:
    hand.insert_cases(register)
    return StatsQueries(register, load_catalogue())


def _period(**kw: str) -> StatsFilter:
    return StatsFilter(*hand.PERIOD, **kw)


def test_the_report_gives_the_hand_worked_figures(stats: StatsQueries) -> None:
    report = stats.report(_period(), hand.TODAY)
    assert report["summary"] == hand.SUMMARY
    assert report["handling_time"] == pytest.approx(hand.HANDLING)
    assert report["hours"] == [hand.HOURS.get(h, 0) for h in range(24)]
    items = [{k: row[k] for k in hand.ITEMS[0]} for row in report["items"]]
    assert items == hand.ITEMS
    assert set(stats.timings) == {
        "summary",
        "handling_time",
        "hours",
        "items",
        "ratings",
        "wait_time",
        "spot_checks",
    }


def _rating(n: int, level: int, local: str, department: str = "县市场监督管理局") -> RatingRow:
    return RatingRow(
        kind="session",
        subject=f"s-{n}",
        level=level,
        channel="kiosk",
        rated_by="kiosk:k1",
        at=hand.utc(local),
        department=department,
        item="SCJG-001",
        place="QH-CG",
        mode="video",
    )


def test_ratings_given_in_the_period_are_counted_under_the_filters(
    stats: StatsQueries, register: Register
) -> None:
    with register.write() as s:
        s.add_all(
            [
                _rating(1, 5, "2026-10-02 10:00"),
                _rating(2, 5, "2026-10-31 23:30"),  # the period's last local day
                _rating(3, 3, "2026-10-15 09:00"),
                _rating(4, 1, "2026-10-15 09:05"),
                _rating(5, 2, "2026-10-16 11:00", department=hand.RSJ_DEPT),
                _rating(6, 4, "2026-11-01 00:10"),  # after the period (local time)
                _rating(7, 4, "2026-09-30 23:50"),  # before it
            ]
        )
    ratings = stats.report(_period(), hand.TODAY)["ratings"]
    assert ratings["available"] is True
    assert ratings["levels"] == {
        "非常满意": 2,
        "满意": 0,
        "基本满意": 1,
        "不满意": 1,
        "非常不满意": 1,
    }
    assert ratings["total"] == 5 and ratings["satisfaction_rate"] == pytest.approx(3 / 5)
    only = stats.report(_period(department=hand.RSJ_DEPT), hand.TODAY)["ratings"]
    assert only["levels"]["不满意"] == 1 and only["total"] == 1
    assert only["satisfaction_rate"] == 0


def test_no_ratings_no_waits_no_spot_checks(stats: StatsQueries) -> None:
    report = stats.report(_period(), hand.TODAY)
    ratings = report["ratings"]
    assert ratings["total"] == 0 and ratings["satisfaction_rate"] is None
    assert list(ratings["levels"].values()) == [0, 0, 0, 0, 0]
    wait = {"available": True, "sessions": 0, "median": None, "p90": None}
    assert report["wait_time"] == wait
    assert report["spot_checks"]["drawn"] == 0
    assert report["spot_checks"]["points"]["conduct"] == {"yes": 0, "no": 0}


def test_queue_waits_of_the_sessions_started_in_the_period(
    stats: StatsQueries, register: Register
) -> None:
    hand.insert_sessions(register)
    assert stats.report(_period(), hand.TODAY)["wait_time"] == pytest.approx(hand.WAIT)
    for kw, expected in hand.WAIT_FILTERED:
        got = stats.report(_period(**kw), hand.TODAY)["wait_time"]
        assert got == pytest.approx({"available": True, **expected}), kw


def test_spot_check_results_by_decision_day_under_the_filters(
    stats: StatsQueries, register: Register
) -> None:
    hand.insert_spot_checks(register)
    assert stats.report(_period(), hand.TODAY)["spot_checks"] == hand.SPOT
    for (first, last), kw, drawn, reviewed, passed, failed in hand.SPOT_FILTERED:
        got = stats.report(StatsFilter(first, last, **kw), hand.TODAY)["spot_checks"]
        counts = (got["drawn"], got["reviewed"], got["passed"], got["failed"])
        assert counts == (drawn, reviewed, passed, failed), (first, last, kw)
    late = stats.report(StatsFilter(date(2026, 10, 10), date(2026, 10, 31)), hand.TODAY)
    assert late["spot_checks"]["points"]["materials_complete"] == {"yes": 2, "no": 1}


@pytest.mark.parametrize(
    ("kw", "received", "decided"),
    [
        ({"item": "SCJG-001"}, 3, 3),  # 1, 2, 3
        ({"place": "QH-COUNTY"}, 2, 0),  # 4, 5
        ({"mode": "video"}, 5, 3),  # 1, 3, 4, 5, 7; decided 1, 3, 7
        ({"department": hand.RSJ_DEPT}, 2, 0),  # 4, 5 (RSJ-002 is the city's)
        ({"mode": "inspection"}, 0, 0),
    ],
)
def test_filters(stats: StatsQueries, kw: dict[str, str], received: int, decided: int) -> None:
    report = stats.report(_period(**kw), hand.TODAY)
    assert report["summary"]["received"] == received
    assert report["handling_time"]["decided"] == decided
    assert sum(report["hours"]) == received


def test_a_filtered_median_of_three(stats: StatsQueries) -> None:
    # video decisions: 1 (176400), 3 (210600), 7 (732600): median 210600,
    # p90 at rank 1.8 = 210600 + 0.8 * 522000 = 628200.
    got = stats.report(_period(mode="video"), hand.TODAY)["handling_time"]
    assert got == pytest.approx({"decided": 3, "median": 210600.0, "p90": 628200.0})


def test_the_period_ends_are_included_and_nothing_else(stats: StatsQueries) -> None:
    one_day = StatsFilter(date(2026, 10, 1), date(2026, 10, 1))
    assert stats.report(one_day, hand.TODAY)["summary"]["received"] == 1  # 7
    before = StatsFilter(date(2026, 9, 30), date(2026, 9, 30))
    report = stats.report(before, hand.TODAY)
    assert report["summary"]["received"] == 1  # 8
    assert report["hours"][23] == 1
    empty = StatsFilter(date(2025, 1, 1), date(2025, 1, 31))
    report = stats.report(empty, hand.TODAY)
    assert report["summary"]["received"] == 0 and report["items"] == []
    assert report["handling_time"] == {"decided": 0, "median": None, "p90": None}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"place": "NOWHERE"}, "place"),
        ({"item": "X-1"}, "item"),
        ({"department": "某局"}, "department"),
        ({"mode": "fax"}, "mode"),
    ],
)
def test_unknown_filters_are_refused(kw: dict[str, str], field: str) -> None:
    with pytest.raises(CaseError) as err:
        _period(**kw).check(load_catalogue())
    assert err.value.field == field


def test_a_reversed_period_is_refused() -> None:
    with pytest.raises(CaseError) as err:
        StatsFilter(date(2026, 10, 2), date(2026, 10, 1)).check(load_catalogue())
    assert err.value.field == "from"


def test_the_percentiles_equal_postgresqls_percentile_cont() -> None:
    """PostgreSQL's own percentile_cont over the same decisions agrees (on SQLite
    the hand-worked figures above are the check)."""
    sql = text(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY d) FROM ("
        " SELECT extract(epoch FROM decided_at - received_at) AS d FROM cases"
        " WHERE state IN ('approved', 'rejected') AND received_on BETWEEN :a AND :b) x"
    )
    for url in postgres_database():
        reg = Register(url)
        try:
            reg.prepare()
            hand.insert_cases(reg)
            with reg.read() as s:
                median, p90 = s.execute(sql, {"a": hand.PERIOD[0], "b": hand.PERIOD[1]}).one()
            got = StatsQueries(reg, load_catalogue()).report(_period(), hand.TODAY)
        finally:
            reg.close()
    wanted = got["handling_time"]
    assert (wanted["median"], wanted["p90"]) == pytest.approx((float(median), float(p90)))
