"""The generated approval document (回传批件): one A4 page, as PDF bytes.

Set with reportlab's built-in CID font STSong-Light (Adobe-GB1), which every
PDF reader resolves to a Song typeface without a font file being shipped or
embedded; the case number and the verification URL are set in Helvetica, so
they are plain, extractable text in any reader. The QR code is drawn as
vector squares from segno's module matrix: sharp at any print resolution.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

SONG = "STSong-Light"
LATIN = "Helvetica"
TITLE = "办理结果通知书"
MARGIN = 25 * mm
RIGHT = A4[0] - MARGIN
QR_SIZE = 38 * mm
FOOT = (
    "扫描二维码或访问下列网址，可核验本通知书的",
    "办件编号、办理事项、办理结果和文件摘要（SHA-256）：",
    "本通知书由远程虚拟窗口系统生成，存入办件电子档案并签名留存。",
)
QR_QUIET = 4  # modules of white border the QR standard asks for
NO_LINE_START = frozenset("，。、；：！？）》」』”’,.;:!?)")

pdfmetrics.registerFont(UnicodeCIDFont(SONG))


@dataclass(frozen=True)
class ApprovalFields:
    """What the document says; every value is already checked and masked."""

    number: str
    item_name: str
    item_code: str
    department: str
    place_name: str
    applicant_name: str
    applicant_id: str  # masked: ************1234
    received_on: date
    decided_on: date
    reasons: str
    verify_url: str


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_approval(f: ApprovalFields) -> bytes:
    """The approval document as PDF bytes (a long text of reasons runs onto more pages;
    every page carries the case number and the verification QR code at its foot)."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"{TITLE} {f.number}")
    c.setAuthor(f.department)
    c.setSubject(f"{f.item_name} {f.number}")
    page = _Page(c, f)
    c.setFont(SONG, 22)
    c.drawCentredString(A4[0] / 2, page.y, TITLE)
    page.y -= 12 * mm
    c.setFont(SONG, 12)
    label = "办件编号："
    c.drawString(MARGIN, page.y, label)
    c.setFont(LATIN + "-Bold", 13)
    c.drawString(MARGIN + pdfmetrics.stringWidth(label, SONG, 12), page.y, f.number)
    page.y -= 12 * mm

    page.paragraph(f"{f.applicant_name}（身份证号 {f.applicant_id}）：", size=13, indent=0)
    page.y -= 2 * mm
    page.paragraph(
        f"你于{cn_date(f.received_on)}在{f.place_name}提出的“{f.item_name}”"
        f"（事项编码 {f.item_code}）申请，经{f.department}审查，"
        "符合法定条件和标准，决定：准予办理。",
        size=13,
        indent=2,
    )
    if f.reasons:
        page.y -= 3 * mm
        page.paragraph(f"理由：{f.reasons}", size=13, indent=2)

    page.y -= 6 * mm
    c.setLineWidth(0.6)
    for name, value in (
        ("办理事项", f.item_name),
        ("承办部门", f.department),
        ("受理地点", f.place_name),
        ("受理日期", cn_date(f.received_on)),
        ("办理结果", "准予办理"),
        ("决定日期", cn_date(f.decided_on)),
    ):
        page.room(8 * mm)
        c.setFont(SONG, 11)
        c.drawString(MARGIN, page.y, f"{name}：")
        c.drawString(MARGIN + 22 * mm, page.y, value[:48])
        c.line(MARGIN, page.y - 2.5 * mm, RIGHT, page.y - 2.5 * mm)
        page.y -= 8 * mm

    # The signature block (落款): department and date, right-aligned.
    page.y -= 8 * mm
    page.room(16 * mm)
    c.setFont(SONG, 13)
    c.drawRightString(RIGHT, page.y, f.department)
    c.drawRightString(RIGHT, page.y - 8 * mm, cn_date(f.decided_on))
    page.finish()
    c.save()
    return out.getvalue()


class _Page:
    """The text cursor over pages: a full page gets its foot and a new page begins."""

    def __init__(self, c: Canvas, f: ApprovalFields) -> None:
        self.c, self.f = c, f
        self.top = A4[1] - MARGIN - 10 * mm
        self.bottom = MARGIN + 6 * mm + QR_SIZE + 10 * mm
        self.y = self.top

    def room(self, needed: float) -> None:
        if self.y - needed < self.bottom:
            self.finish()
            self.y = self.top

    def paragraph(self, text: str, *, size: int, indent: int) -> None:
        """`text` wrapped to the text width (first line indented `indent` characters)."""
        for line in wrap("\u3000" * indent + text, SONG, size, RIGHT - MARGIN):
            self.room(size * 1.7)
            self.c.setFont(SONG, size)
            self.c.drawString(MARGIN, self.y, line)
            self.y -= size * 1.7

    def finish(self) -> None:
        """The foot (the QR code, the same URL as text, the case number), then the page ends."""
        c, f = self.c, self.f
        qr_y = MARGIN + 6 * mm
        _qr(c, f.verify_url, MARGIN, qr_y, QR_SIZE)
        x = MARGIN + QR_SIZE + 6 * mm
        c.setFont(SONG, 11)
        c.drawString(x, qr_y + QR_SIZE - 8 * mm, FOOT[0])
        c.drawString(x, qr_y + QR_SIZE - 14 * mm, FOOT[1])
        size = 9.0
        while pdfmetrics.stringWidth(f.verify_url, LATIN, size) > RIGHT - x and size > 5:
            size -= 0.5
        c.setFont(LATIN, size)
        c.drawString(x, qr_y + QR_SIZE - 21 * mm, f.verify_url)
        c.setFont(SONG, 9)
        c.drawString(x, qr_y + 2 * mm, FOOT[2])
        c.setFont(LATIN, 8)
        c.drawRightString(RIGHT, MARGIN - 4 * mm, f"{f.number}  {c.getPageNumber()}")
        c.showPage()


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points, broken anywhere (Chinese has no spaces to break at);
    a line break in `text` starts a new line. Closing punctuation never starts a line
    (it hangs in the margin instead, as Chinese typesetting does)."""
    lines: list[str] = []
    for part in text.splitlines() or [""]:
        line = ""
        for char in part:
            too_wide = pdfmetrics.stringWidth(line + char, font, size) > width
            if line and too_wide and char not in NO_LINE_START:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
    return lines


def _qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code of `data` as filled squares in a `size` square at (x, y), quiet zone inside."""
    matrix = segno.make(data, error="m", micro=False).matrix
    count = len(matrix)
    module = size / (count + 2 * QR_QUIET)
    c.setFillColorRGB(0, 0, 0)
    for row, bits in enumerate(matrix):
        for col, dark in enumerate(bits):
            if dark:
                c.rect(
                    x + (col + QR_QUIET) * module,
                    y + size - (row + QR_QUIET + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )
