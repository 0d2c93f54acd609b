"""What an uploaded material file is (by its magic bytes) and its metadata removal.

The type comes from the first bytes, never from a name or a Content-Type.
JPEG loses its APP1 segments (EXIF, with GPS and camera serials, and XMP) by a
marker walk that copies every other byte unchanged, so the image is not
re-encoded; PNG loses its `eXIf` chunk the same way. PDF is stored as it is.
"""

from __future__ import annotations

import struct

from server.register.case_types import CaseError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7: markers without a length


class UnsupportedType(CaseError):
    status = 415

    def __init__(self, message: str) -> None:
        super().__init__("file", "wrong_type", message)


def sniff(data: bytes) -> str:
    """The stored extension (jpg, png, pdf) for these bytes, or UnsupportedType."""
    if data.startswith(JPEG_MAGIC):
        return "jpg"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(PDF_MAGIC):
        return "pdf"
    raise UnsupportedType("expected a JPEG, PNG or PDF file (checked by its first bytes)")


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without its APP1 segments; the rest, from SOS on, byte for byte."""
    out = bytearray(data[:2])
    i = 2
    while True:
        if i + 2 > len(data) or data[i] != 0xFF:
            raise UnsupportedType("damaged JPEG: a segment marker is missing")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in _STANDALONE:
            out += data[i : i + 2]
            i += 2
            continue
        if marker == 0xD9:  # EOI before any scan
            raise UnsupportedType("damaged JPEG: no image data")
        if i + 4 > len(data):
            raise UnsupportedType("damaged JPEG: a segment is cut off")
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise UnsupportedType("damaged JPEG: a segment is longer than the file")
        if marker == 0xDA:  # start of scan: entropy-coded data follows, copy the rest
            out += data[i:]
            return bytes(out)
        if marker != 0xE1:
            out += data[i:end]
        i = end


def strip_png(data: bytes) -> bytes:
    """The PNG without its eXIf chunk (every other chunk unchanged)."""
    out = bytearray(data[:8])
    i = 8
    while i < len(data):
        if i + 12 > len(data):
            raise UnsupportedType("damaged PNG: a chunk is cut off")
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise UnsupportedType("damaged PNG: a chunk is longer than the file")
        if kind != b"eXIf":
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    raise UnsupportedType("damaged PNG: no IEND chunk")


def clean(data: bytes) -> tuple[str, bytes]:
    """(extension, bytes to store): the type by magic bytes, metadata removed."""
    ext = sniff(data)
    if ext == "jpg":
        return ext, strip_jpeg(data)
    if ext == "png":
        return ext, strip_png(data)
    return ext, data
