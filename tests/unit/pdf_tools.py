"""Reading a PDF back as a person would: its text (pypdf) and its QR code, decoded
from the page rasterised by poppler's pdftoppm (OpenCV's QRCodeDetector)."""

from __future__ import annotations

import io
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
    """The text of the QR code in the image ('' when none is found)."""
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def pdf_qr(data: bytes, page: int = 1) -> str:
    return decode_qr(rasterise(data, page))
