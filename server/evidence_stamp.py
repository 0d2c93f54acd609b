"""The visible stamp of an evidence still (云踏勘): a copy with the facts burned in.

The original the phone sent is kept byte for byte; this makes the copy people
look at, with a dark band along the bottom naming the server time, the GPS fix
and its accuracy, the inspector and the case. With a Chinese font on the server
(`./dev` installs WenQuanYi Micro Hei) the inspector's name is stamped as
written; without one the stamp keeps to ASCII (`printable`). The full identity,
in any script, is in the audit chain beside it. Decoding and re-encoding
happen here only, on demand, never on the live media path. Blocking: call from a thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Fonts with Chinese glyphs, tried first, then Latin-only ones.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
FONT_FILES = (
    *CJK_FONT_FILES,
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
JPEG_QUALITY = 90


class NotAnImage(ValueError):
    """The bytes are not a JPEG or PNG image Pillow can read."""


@dataclass(frozen=True)
class Stamp:
    server_time: float  # epoch seconds, from the server's clock
    lat: float | None
    lon: float | None
    accuracy: float | None
    inspector: str  # the inspection's id and the name (`printable`)
    case: str

    def lines(self) -> list[str]:
        when = datetime.fromtimestamp(self.server_time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if self.lat is None or self.lon is None:
            where = "GPS: no fix"
        else:
            ns, ew = ("N" if self.lat >= 0 else "S"), ("E" if self.lon >= 0 else "W")
            where = f"GPS {abs(self.lat):.6f}{ns} {abs(self.lon):.6f}{ew}"
            if self.accuracy is not None:
                where += f" +/-{self.accuracy:.0f} m"
        return [f"{when}  {where}", f"inspector {self.inspector}  case {self.case}"]


def ascii_only(text: str) -> str:
    """`text` with every non-ASCII or control character left out."""
    return "".join(ch for ch in text if 32 <= ord(ch) < 127).strip()


def has_cjk_font() -> bool:
    return any(Path(p).is_file() for p in CJK_FONT_FILES)


def printable(text: str) -> str:
    """`text` as the stamp can draw it: as written with a Chinese font, else ASCII only."""
    if has_cjk_font():
        return "".join(ch for ch in text if ch.isprintable()).strip()
    return ascii_only(text)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_FILES:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def stamp_copy(data: bytes, stamp: Stamp) -> bytes:
    """A JPEG copy of the image `data` with the stamp's lines burned into the bottom."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from None
    width, height = image.size
    size = max(12, min(width, height) // 28)
    font = _font(size)
    lines = stamp.lines()
    pad = size // 2
    band = pad * 2 + len(lines) * (size + pad // 2)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle([(0, height - band), (width, height)], fill=(0, 0, 0, 170))
    y = height - band + pad
    for line in lines:
        draw.text((pad, y), line, font=font, fill=(255, 255, 255, 255))
        y += size + pad // 2
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
