"""Real material files for the case-document tests: JPEG stills encoded by PyAV
(FFmpeg's MJPEG encoder), with an EXIF APP1 segment carrying a GPS position."""

from __future__ import annotations

import struct
from fractions import Fraction

import av

GPS_MARK = b"GPSLAT-N-30.2"


def jpeg(width: int = 64, height: int = 48) -> bytes:
    """A small JPEG still as a document camera's encoder writes one."""
    frame = av.VideoFrame(width, height, "yuvj420p")
    for i, plane in enumerate(frame.planes):
        plane.update(bytes((x * 7 + i * 50) % 256 for x in range(plane.buffer_size)))
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuvj420p"
    ctx.time_base = Fraction(1, 25)
    packets = ctx.encode(frame) + ctx.encode(None)
    return b"".join(bytes(p) for p in packets)


def exif_segment() -> bytes:
    """An APP1 Exif segment: IFD0 pointing at a GPS IFD with GPSLatitudeRef 'N'
    and a GPSLatitude rational (30/1), plus a marker string to look for."""
    tiff = bytearray(b"MM\x00*\x00\x00\x00\x08")
    # IFD0 at 8: one entry, GPSInfo (0x8825) LONG -> offset 26.
    tiff += struct.pack(">H", 1) + struct.pack(">HHII", 0x8825, 4, 1, 26) + struct.pack(">I", 0)
    # GPS IFD at 26: GPSLatitudeRef (1) ASCII "N\0", GPSLatitude (2) RATIONAL x1 at 56.
    tiff += struct.pack(">H", 2)
    tiff += struct.pack(">HHI", 1, 2, 2) + b"N\x00\x00\x00"
    tiff += struct.pack(">HHII", 2, 5, 1, 56) + struct.pack(">I", 0)
    tiff += struct.pack(">II", 30, 1) + GPS_MARK
    body = b"Exif\x00\x00" + bytes(tiff)
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def with_exif(still: bytes) -> bytes:
    """The still with an EXIF segment right after SOI, as cameras write it."""
    return still[:2] + exif_segment() + still[2:]


def decodes(data: bytes) -> tuple[int, int] | None:
    """(width, height) when FFmpeg decodes the JPEG, else None."""
    ctx = av.CodecContext.create("mjpeg", "r")
    try:
        frames = ctx.decode(av.Packet(data))
    except av.error.FFmpegError:
        return None
    return (frames[0].width, frames[0].height) if frames else None
