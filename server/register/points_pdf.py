"""A month's points statement as PDF (积分月度台账), for the 奖补 payment.

A4 pages set like the approval document (server/register/approval_pdf.py):
reportlab's CID font STSong-Light for Chinese, Helvetica for codes. One line
per entry, then each agent's total and, once confirmed, who confirmed it,
when, and the statement's SHA-256 and Ed25519 signature.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from server.register.approval_pdf import LATIN, SONG  # registers the CID font
from server.register.points_statement import KIND_ZH

MARGIN = 18 * mm
RIGHT = A4[0] - MARGIN
LINE = 6.5 * mm
COLUMNS = (  # (title, x offset in mm)
    ("编号", 0),
    ("代办员", 14),
    ("类型", 44),
    ("积分", 64),
    ("办件/记录", 80),
    ("理由", 120),
)


def _row_values(e: dict[str, Any]) -> list[str]:
    link = e["case"] or (f"记录 {e['record']}" if e["record"] else "")
    if e["corrects"]:
        link = f"{link} 更正#{e['corrects']}".strip()
    return [
        str(e["id"]),
        e["agent"][:14],
        KIND_ZH.get(e["kind"], e["kind"]),
        f"{e['points']:+d}",
        link[:22],
        (e["reason"] or "")[:24],
    ]


def render_statement(body: dict[str, Any], signature: str | None = None) -> bytes:
    """`body`: the month view (StatementService.month), `signature` when confirmed."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"积分月度台账 {body['point']} {body['month']}")
    y = A4[1] - MARGIN - 6 * mm

    def header() -> float:
        top = A4[1] - MARGIN - 6 * mm
        c.setFont(SONG, 16)
        c.drawCentredString(A4[0] / 2, top, "乡村随身办代办员积分月度台账")
        c.setFont(SONG, 11)
        c.drawString(MARGIN, top - 10 * mm, f"服务点：{body['point_name']}（{body['point']}）")
        c.drawString(MARGIN, top - 16 * mm, f"月份：{body['month']}")
        top -= 26 * mm
        c.setFont(SONG, 10)
        for title, x in COLUMNS:
            c.drawString(MARGIN + x * mm, top, title)
        c.line(MARGIN, top - 2 * mm, RIGHT, top - 2 * mm)
        return top - LINE

    y = header()
    for e in body["entries"]:
        if y < MARGIN + 50 * mm:
            c.showPage()
            y = header()
        for (_, x), value in zip(COLUMNS, _row_values(e), strict=True):
            c.setFont(SONG, 9)
            c.drawString(MARGIN + x * mm, y, value)
        y -= LINE
    y -= 4 * mm
    c.line(MARGIN, y + 3 * mm, RIGHT, y + 3 * mm)
    c.setFont(SONG, 11)
    for agent, total in body["totals"].items():
        c.drawString(MARGIN, y, f"代办员 {agent} 合计：{total} 分")
        y -= LINE
    c.drawString(MARGIN, y, f"服务点合计：{body['total']} 分，共 {len(body['entries'])} 条")
    y -= LINE * 1.5
    confirmed = body.get("confirmed")
    if confirmed:
        c.drawString(MARGIN, y, f"已确认：{confirmed['by']}  {confirmed['at']}")
        y -= LINE
        c.setFont(LATIN, 8)
        c.drawString(MARGIN, y, f"SHA-256 {confirmed['sha256']}")
        y -= LINE
        if signature:
            c.drawString(MARGIN, y, f"Ed25519 {signature[:64]}")
            c.drawString(MARGIN, y - 4 * mm, f"        {signature[64:]}")
    else:
        c.drawString(MARGIN, y, "本月尚未确认（草稿），不得作为奖补依据。")
    c.showPage()
    c.save()
    return out.getvalue()
