"""Charts of the statistics page drawn on the server as SVG: no script, no CDN.

Made for a projector: large type (20 px and more), black on white, one dark
colour per series, every bar labelled with its number. Labels carry
data-zh/data-en, so the page's language switch turns them too. Presentation
attributes only (the CSP forbids inline style).
"""

from __future__ import annotations

from html import escape
from typing import Any

from server.catalogue import Catalogue, Names

INK = "#111111"
GRID = "#bbbbbb"
BLUE = "#0b3d91"
ORANGE = "#b34700"
FONT = 'font-family="sans-serif"'


def _text(x: float, y: float, names: Names | str, size: int = 20, anchor: str = "start") -> str:
    if isinstance(names, str):
        names = Names(names, names)
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" text-anchor="{anchor}" '
        f'{FONT} data-zh="{escape(names.zh)}" data-en="{escape(names.en)}">'
        f"{escape(names.zh)}</text>"
    )


def _svg(name: str, width: int, height: int, title: Names, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{name}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-labelledby="chart-{name}">'
        f'<title id="chart-{name}" data-zh="{escape(title.zh)}" data-en="{escape(title.en)}">'
        f"{escape(title.zh)}</title>"
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )


def hours_chart(counts: list[int]) -> str:
    """Cases received per hour of the day: 24 columns."""
    width, height, left, top, bottom = 1200, 420, 60, 30, 60
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max(counts) or 1
    step = plot_w / 24
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{INK}" stroke-width="2"/>'
    ]
    for h, n in enumerate(counts):
        bar = plot_h * n / peak
        x = left + h * step + step * 0.12
        y = top + plot_h - bar
        body.append(
            f'<rect class="bar" data-hour="{h}" data-value="{n}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{step * 0.76:.1f}" height="{bar:.1f}" fill="{BLUE}"/>'
        )
        if n:
            body.append(_text(x + step * 0.38, y - 6, str(n), 16, "middle"))
        if h % 2 == 0:
            body.append(_text(left + h * step + step / 2, height - 28, f"{h}时", 18, "middle"))
    body.append(_text(left, height - 4, Names("时（当地时间）", "hour (local time)"), 18))
    return _svg("hours", width, height, Names("各时段受理量", "Cases received per hour"), body)


def _hbars(
    name: str, title: Names, rows: list[tuple[Names, list[int]]], series: list[Names]
) -> str:
    """Horizontal bars, one group per row, one bar per series, with a legend."""
    colours = (BLUE, ORANGE)
    label_w, bar_h, gap, top = 380, 30, 18, 56
    width = 1200
    group_h = bar_h * len(series) + gap
    height = top + max(len(rows), 1) * group_h + 20
    peak = max((v for _, vals in rows for v in vals), default=0) or 1
    plot_w = width - label_w - 90
    body = []
    for n, s in enumerate(series):
        x = label_w + n * 320
        body.append(f'<rect x="{x}" y="14" width="24" height="24" fill="{colours[n]}"/>')
        body.append(_text(x + 32, 34, s, 20))
    for r, (label, values) in enumerate(rows):
        y0 = top + r * group_h
        body.append(_text(label_w - 12, y0 + bar_h * len(series) / 2 + 7, label, 20, "end"))
        for n, v in enumerate(values):
            w = plot_w * v / peak
            y = y0 + n * bar_h
            body.append(
                f'<rect class="bar" data-value="{v}" x="{label_w}" y="{y}" width="{w:.1f}" '
                f'height="{bar_h - 4}" fill="{colours[n]}"/>'
            )
            body.append(_text(label_w + w + 8, y + bar_h - 9, str(v), 20))
    body.append(
        f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{height - 16}" '
        f'stroke="{INK}" stroke-width="2"/>'
    )
    return _svg(name, width, height, title, body)


def outcome_chart(summary: dict[str, int]) -> str:
    rows = [
        (Names("准予许可", "Approved"), summary["approved"]),
        (Names("不予许可", "Rejected"), summary["rejected"]),
        (Names("申请人撤回", "Withdrawn"), summary["withdrawn"]),
        (Names("在办", "Still open"), summary["open"]),
        (Names("按期办结", "Within the time limit"), summary["within_limit"]),
        (Names("超期办结", "After the time limit"), summary["over_limit"]),
        (Names("在办已超期", "Open past the deadline"), summary["open_overdue"]),
    ]
    return _hbars(
        "outcomes",
        Names("办理结果与时限", "Outcomes and time limits"),
        [(label, [v]) for label, v in rows],
        [Names("件数", "Cases")],
    )


def township_chart(items: list[dict[str, Any]], catalogue: Catalogue, top: int = 10) -> str:
    """Per item (most township demand first): received at township and village
    places against at county and city halls."""
    rows = []
    for r in items[:top]:
        item = catalogue.items.get(r["item"])
        label = item.names if item else Names(r["item"], r["item"])
        rows.append((label, [r["at_township"], r["at_county"] + r["at_city"]]))
    return _hbars(
        "township",
        Names("乡镇受理需求与县市审批", "Township demand of items decided above"),
        rows,
        [
            Names("乡镇（村）受理", "Received at township/village"),
            Names("县市大厅受理", "At county/city hall"),
        ],
    )
