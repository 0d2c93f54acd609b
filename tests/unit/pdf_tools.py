"""Reading a PDF back as a person would: its text (pypdf) and its QR code, decoded
from the page rasterised by poppler's pdftoppm (OpenCV's QRCodeDetector)."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pypdf


def pdf_text(data: bytes) -> str:
    """The text of every page, pages joined by a newline."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_pages(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def rasterise(data: bytes, page: int = 1, dpi: int = 150) -> np.ndarray:
    """One page as a BGR image, as a printer at `dpi` would see it."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.pdf"
        src.write_bytes(data)
        pages = ["-f", str(page), "-l", str(page)]
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), *pages, "-png", "-singlefile", str(src), f"{tmp}/page"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # missing CJK font data is reported there; no matter
            timeout=60,
        )
        image = cv2.imread(str(Path(tmp) / "page.png"))
    assert image is not None, "pdftoppm wrote no page"
    return image


def decode_qr(image: np.ndarray) -> str:
    """The text of the QR code in the image ('' when none is found).

    OpenCV's classic detector misses some codes a phone reads (3 of 30 generated
    approval PDFs at any DPI); its ArUco-based detector reads those, so it is the
    second try.
    """
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text or cv2.QRCodeDetectorAruco().detectAndDecode(image)[0]


def pdf_qr(data: bytes, page: int = 1) -> str:
    return decode_qr(rasterise(data, page))


_PATH_STEP = re.compile(r"([Mmh])(-?[0-9.]+)(?: (-?[0-9.]+))?")


def svg_qr(svg: str, scale: int = 8) -> str:
    """Decode an inline SVG QR code as segno writes it (one path of horizontal strokes:
    `M x y`, `m dx dy`, `h n`, at `scale(1)`, strokes centred on y + 0.5)."""
    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    path = re.search(r' d="([^"]+)"', svg)
    assert box and path, "not a segno SVG"
    width, height = int(box.group(1)), int(box.group(2))
    image = np.full((height * scale, width * scale), 255, np.uint8)
    x = y = 0.0
    for op, a, b in _PATH_STEP.findall(path.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a dark run from x, on the row whose centre is y
            top = round((y - 0.5) * scale)
            image[top : top + scale, round(x * scale) : round((x + float(a)) * scale)] = 0
            x += float(a)
    return decode_qr(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
