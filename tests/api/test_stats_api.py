"""The statistics API, page and exports on a real server: the JSON has the
hand-worked figures, the CSV (with its BOM) and the XLSX hold the same numbers,
bad filters are refused with the field named."""

from __future__ import annotations

import csv
import io

import openpyxl

from server import appkeys as K
from server.stats_tables import BOM
from tests.conftest import RunningServer
from tests.contract import stats_cases as hand

PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}


async def _seeded(running: RunningServer, username: str = "supervisor"):  # type: ignore[no-untyped-def]
    hand.insert_cases(running.app[K.CASES].register)
    session, _ = await running.http(username)
    return session


def _today_free(summary: dict[str, int]) -> dict[str, int]:
    """The summary without open_overdue (it depends on the server's real today)."""
    return {k: v for k, v in summary.items() if k != "open_overdue"}


async def test_the_json_report_has_the_hand_worked_figures(running: RunningServer) -> None:
    session = await _seeded(running)
    async with session.get("/api/stats", params=PERIOD) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Cache-Control"] == "no-store"
        report = await resp.json()
    assert _today_free(report["summary"]) == _today_free(hand.SUMMARY)
    assert report["handling_time"] == hand.HANDLING
    assert report["hours"] == [hand.HOURS.get(h, 0) for h in range(24)]
    assert [r["item"] for r in report["items"]] == [r["item"] for r in hand.ITEMS]
    assert report["filter"]["from"] == "2026-10-01"


async def test_the_csv_holds_the_numbers_of_the_json(running: RunningServer) -> None:
    session = await _seeded(running, "admin")
    async with session.get("/api/stats", params=PERIOD) as resp:
        report = await resp.json()
    params = {**PERIOD, "table": "items", "format": "csv"}
    async with session.get("/api/stats/export", params=params) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        raw = await resp.read()
    assert raw.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))
    assert rows[0][:4] == ["事项编码", "事项名称", "审批层级", "受理件数"]
    got = {r[0]: [int(x) for x in r[3:13]] for r in rows[1:]}
    keys = ["received", "at_township", "at_county", "at_city", "approved", "rejected"]
    keys += ["withdrawn", "within_limit", "over_limit", "open_overdue"]
    assert got == {r["item"]: [r[k] for k in keys] for r in report["items"]}
    assert rows[1][1] == "个体工商户设立登记" and rows[1][-1] == "是"

    params = {**PERIOD, "table": "summary", "format": "csv"}
    async with session.get("/api/stats/export", params=params) as resp:
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    summary = {r[0]: r[1] for r in rows[1:]}
    assert summary["受理件数"] == "7" and summary["超期办结"] == "1"
    assert summary["办理时长中位数（小时）"] == str(round(hand.HANDLING["median"] / 3600, 2))
    assert summary["按期办结率"] == "0.75"  # 3 of the 4 decisions


async def test_the_xlsx_opens_with_the_same_numbers(running: RunningServer) -> None:
    session = await _seeded(running)
    params = {**PERIOD, "table": "hours", "format": "xlsx", "lang": "en"}
    async with session.get("/api/stats/export", params=params) as resp:
        assert resp.status == 200
        assert resp.content_type.endswith("spreadsheetml.sheet")
        body = await resp.read()
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Hour", "Cases received")
    assert [r[1] for r in rows[1:]] == [hand.HOURS.get(h, 0) for h in range(24)]
    assert rows[10] == ("09:00–10:00", 3)


async def test_bad_filters_are_refused_naming_the_field(running: RunningServer) -> None:
    session = await _seeded(running)
    for params, field in [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-10-02", "to": "2026-10-01"}, "from"),
        ({"place": "NOWHERE"}, "place"),
        ({"mode": "fax"}, "mode"),
    ]:
        async with session.get("/api/stats", params=params) as resp:
            assert resp.status == 400
            assert (await resp.json())["field"] == field
    bad_exports = [({"table": "nope"}, "table"), ({"table": "items", "format": "pdf"}, "format")]
    for params, field in bad_exports:
        async with session.get("/api/stats/export", params=params) as resp:
            assert resp.status == 400 and (await resp.json())["field"] == field


async def test_the_page_shows_the_figures_and_svg_charts(running: RunningServer) -> None:
    session = await _seeded(running)
    async with session.get("/stats", params=PERIOD, headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert html.count("<svg") == 3 and 'data-chart="hours"' in html
    assert 'data-kpi="received"><strong>7</strong>' in html
    link = "/api/stats/export?from=2026-10-01&amp;to=2026-10-31&amp;table=items&amp;format=csv"
    assert link in html
    async with session.get("/stats", params={"place": "NOWHERE"}) as resp:
        assert resp.status == 400 and 'id="stats-error" data-field="place"' in await resp.text()


async def test_waits_and_spot_checks_on_the_page_json_csv_and_xlsx(
    running: RunningServer,
) -> None:
    register = running.app[K.CASES].register
    hand.insert_sessions(register)
    hand.insert_spot_checks(register)
    session = await _seeded(running)
    async with session.get("/api/stats", params=PERIOD) as resp:
        report = await resp.json()
    assert report["wait_time"] == hand.WAIT
    assert report["spot_checks"] == hand.SPOT

    async with session.get("/stats", params=PERIOD, headers={"Accept": "text/html"}) as resp:
        html = await resp.text()
    assert 'data-kpi="wait_median"><strong>5.0</strong>' in html  # 300 s
    assert 'data-kpi="wait_p90"><strong>13.0</strong>' in html  # 780 s
    assert 'data-table="spot_checks"' in html

    params = {**PERIOD, "table": "summary", "format": "csv"}
    async with session.get("/api/stats/export", params=params) as resp:
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    summary = {r[0]: r[1] for r in rows[1:]}
    assert summary["视频办理场次（有等候记录）"] == "5"
    assert summary["排队等候中位数（分钟）"] == "5.0"
    assert summary["排队等候第90百分位（分钟）"] == "13.0"

    params = {**PERIOD, "table": "spot_checks", "format": "csv"}
    async with session.get("/api/stats/export", params=params) as resp:
        assert resp.status == 200
        raw = await resp.read()
    assert raw.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))
    assert rows[0] == ["项目", "件数／符合", "不符合"]
    assert rows[1:6] == [["抽取件数", "5", ""], ["已检查", "4", ""], ["待检查", "1", ""],
                         ["合格", "2", ""], ["不合格", "2", ""]]  # fmt: skip
    assert rows[6:] == [["材料齐全", "3", "1"], ["决定有据", "4", "0"],
                        ["按时限办理", "3", "1"], ["服务规范", "3", "1"]]  # fmt: skip

    params = {**PERIOD, "table": "spot_checks", "format": "xlsx", "lang": "en"}
    async with session.get("/api/stats/export", params=params) as resp:
        body = await resp.read()
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    got = {r[0]: r[1:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert got["Cases drawn"] == (5, None) and got["Failed"] == (2, None)
    assert got["Time limit kept"] == (3, 1) and got["Conduct"] == (3, 1)
