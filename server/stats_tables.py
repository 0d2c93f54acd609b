"""The statistics report as tables: one shape for the page, CSV and XLSX, so the
three always hold the same numbers.

CSV is UTF-8 with a byte-order mark (Excel then reads the Chinese right) and
CRLF line ends. XLSX is written with openpyxl, the maintained pure-Python
writer of Office Open XML workbooks (no LibreOffice, no native code).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from server.catalogue import Catalogue, Names
from server.register.rating_terms import LEVELS
from server.register.statistics import RATING_LEVELS

BOM = "\ufeff"
Cell = str | int | float | Names | None  # Names: in the language of the export
LEVEL_NAMES = {"county": Names("县级", "County"), "city": Names("市级", "City")}
RATING_EN = tuple(en for _, _, en in LEVELS.values())


@dataclass(frozen=True)
class Table:
    name: str
    title: Names
    columns: tuple[Names, ...]
    rows: list[list[Cell]]

    def header(self, lang: str) -> list[str]:
        return [pick(c, lang) for c in self.columns]

    def values(self, lang: str) -> list[list[str | int | float | None]]:
        """The rows with names in one language (what CSV and XLSX hold)."""
        return [[pick(v, lang) if isinstance(v, Names) else v for v in row] for row in self.rows]


def pick(names: Names, lang: str) -> str:
    return names.en if lang == "en" else names.zh


def hours(seconds: float | None) -> float | None:
    """Seconds as hours with two decimals (the tables' unit of handling time)."""
    return None if seconds is None else round(seconds / 3600, 2)


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes with one decimal (the tables' unit of queue wait)."""
    return None if seconds is None else round(seconds / 60, 1)


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


SUMMARY_ROWS = (
    ("received", Names("受理件数", "Cases received")),
    ("finished", Names("办结件数", "Cases finished")),
    ("approved", Names("准予许可", "Approved")),
    ("rejected", Names("不予许可", "Rejected")),
    ("withdrawn", Names("申请人撤回", "Withdrawn")),
    ("open", Names("在办件数", "Still open")),
    ("within_limit", Names("按期办结", "Decided within the time limit")),
    ("over_limit", Names("超期办结", "Decided after the time limit")),
    ("open_overdue", Names("在办已超期", "Open past the deadline")),
)


def _summary(report: dict[str, Any]) -> Table:
    s, h, w = report["summary"], report["handling_time"], report["wait_time"]
    decided = s["within_limit"] + s["over_limit"]
    extra = (
        (Names("按期办结率", "Share decided within the limit"), rate(s["within_limit"], decided)),
        (Names("作出决定件数", "Cases decided"), h["decided"]),
        (Names("办理时长中位数（小时）", "Median handling time (hours)"), hours(h["median"])),
        (
            Names("办理时长第90百分位（小时）", "90th percentile handling time (hours)"),
            hours(h["p90"]),
        ),
        (Names("视频办理场次（有等候记录）", "Video sessions (with a queue wait)"), w["sessions"]),
        (Names("排队等候中位数（分钟）", "Median queue wait (minutes)"), minutes(w["median"])),
        (
            Names("排队等候第90百分位（分钟）", "90th percentile queue wait (minutes)"),
            minutes(w["p90"]),
        ),
    )
    rows: list[list[Cell]] = [[n, s[k]] for k, n in SUMMARY_ROWS]
    rows += [[n, v] for n, v in extra]
    cols = (Names("指标", "Measure"), Names("数值", "Value"))
    return Table("summary", Names("总体情况", "Overview"), cols, rows)


def _hours(report: dict[str, Any]) -> Table:
    rows: list[list[Cell]] = [
        [f"{h:02d}:00–{(h + 1) % 24:02d}:00", n] for h, n in enumerate(report["hours"])
    ]
    cols = (Names("时段", "Hour"), Names("受理件数", "Cases received"))
    return Table("hours", Names("各时段受理量", "Cases received per hour"), cols, rows)


ITEM_COLUMNS = (
    ("received", Names("受理件数", "Received")),
    ("at_township", Names("乡镇（村）受理", "At township/village")),
    ("at_county", Names("县级大厅受理", "At county hall")),
    ("at_city", Names("市级大厅受理", "At city hall")),
    ("approved", Names("准予", "Approved")),
    ("rejected", Names("不予", "Rejected")),
    ("withdrawn", Names("撤回", "Withdrawn")),
    ("within_limit", Names("按期办结", "Within limit")),
    ("over_limit", Names("超期办结", "Over limit")),
    ("open_overdue", Names("在办超期", "Open overdue")),
)


def _items(report: dict[str, Any], catalogue: Catalogue) -> Table:
    rows: list[list[Cell]] = []
    for r in report["items"]:
        item = catalogue.items.get(r["item"])
        name = item.names if item else r["item"]
        level = LEVEL_NAMES.get(r["level"] or "", "")
        flag = Names("是", "yes") if r["devolve_candidate"] else ""
        rows.append([r["item"], name, level, *(r[k] for k, _ in ITEM_COLUMNS), flag])
    cols = (
        Names("事项编码", "Item code"),
        Names("事项名称", "Service"),
        Names("审批层级", "Decided at"),
        *(n for _, n in ITEM_COLUMNS),
        Names("乡镇有需求、县市审批", "Township demand, decided above"),
    )
    return Table(
        "items", Names("分事项办件与受理地点", "Per item: outcomes and where received"), cols, rows
    )


def _ratings(report: dict[str, Any]) -> Table:
    r = report["ratings"]
    rows: list[list[Cell]] = [
        [Names(zh, en), r["levels"].get(zh, 0)]
        for zh, en in zip(RATING_LEVELS, RATING_EN, strict=True)
    ]
    rows.append([Names("满意率", "Satisfaction rate"), r["satisfaction_rate"]])
    cols = (Names("评价", "Rating"), Names("件数", "Count"))
    return Table("ratings", Names("好差评", "Ratings"), cols, rows)


SPOT_ROWS = (
    ("drawn", Names("抽取件数", "Cases drawn")),
    ("reviewed", Names("已检查", "Reviewed")),
    ("pending", Names("待检查", "Not yet reviewed")),
    ("passed", Names("合格", "Passed")),
    ("failed", Names("不合格", "Failed")),
)
SPOT_POINTS = (
    ("materials_complete", Names("材料齐全", "Materials complete")),
    ("decision_justified", Names("决定有据", "Decision justified")),
    ("time_limit_kept", Names("按时限办理", "Time limit kept")),
    ("conduct", Names("服务规范", "Conduct")),
)


def _spot_checks(report: dict[str, Any]) -> Table:
    """Totals first (count in the first value column), then each checklist point
    with its yes / no among the reviewed."""
    r = report["spot_checks"]
    rows: list[list[Cell]] = [[n, r[k], None] for k, n in SPOT_ROWS]
    rows += [[n, r["points"][k]["yes"], r["points"][k]["no"]] for k, n in SPOT_POINTS]
    cols = (Names("项目", "Measure"), Names("件数／符合", "Count / yes"), Names("不符合", "No"))
    return Table("spot_checks", Names("随机抽查结果", "Random spot checks"), cols, rows)


def tables(report: dict[str, Any], catalogue: Catalogue) -> dict[str, Table]:
    built = [
        _summary(report),
        _hours(report),
        _items(report, catalogue),
        _ratings(report),
        _spot_checks(report),
    ]
    return {t.name: t for t in built}


def to_csv(table: Table, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header(lang))
    writer.writerows([["" if v is None else v for v in row] for row in table.values(lang)])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, lang: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name
    sheet.append(table.header(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.values(lang):
        sheet.append(row)
    for n, col in enumerate(table.columns, start=1):
        width = max(len(pick(col, lang)) * 2, 10)
        sheet.column_dimensions[sheet.cell(1, n).column_letter].width = min(width, 40)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
