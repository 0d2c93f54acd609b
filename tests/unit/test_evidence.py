"""Evidence stills (云踏勘) in a case folder, their stamp, and the geometry of fixes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from recording.case_folder import CaseFolder
from recording.keys import ArchiveSigner
from recording.verify import verify_path
from server.evidence_stamp import (
    NotAnImage,
    Stamp,
    _font,
    ascii_only,
    has_cjk_font,
    printable,
    stamp_copy,
)
from server.geo import bearing_deg, distance_m
from tests.unit.doc_images import jpeg

STAMP = Stamp(
    server_time=1764730000.0,
    lat=30.2741,
    lon=-120.1551,
    accuracy=12.4,
    inspector="insp-1a2b",
    case="QH-2026-000123",
)


def test_the_stamp_names_time_place_inspector_and_case() -> None:
    first, second = STAMP.lines()
    assert first.startswith("2025-12-03 02:46:40 UTC")
    assert "30.274100N 120.155100W +/-12 m" in first
    assert second == "inspector insp-1a2b  case QH-2026-000123"
    no_fix = Stamp(1.0, None, None, None, "insp-1", "QH-1").lines()[0]
    assert "GPS: no fix" in no_fix
    assert ascii_only("李四 Li Si\n") == "Li Si"


def test_a_chinese_name_is_stamped_as_written() -> None:
    assert has_cjk_font()  # ./dev installs fonts-wqy-microhei, as kiosks and servers need
    assert printable("李四 Li Si\n") == "李四 Li Si"
    font = _font(32)
    # A real glyph, not the empty box a Latin-only font draws for every Chinese character.
    assert font.getmask("李").getbbox() != font.getmask("四").getbbox()


def test_the_stamped_copy_differs_where_the_band_is_and_keeps_the_size() -> None:
    original = jpeg(640, 480)
    copy = stamp_copy(original, STAMP)
    assert copy != original and copy.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(copy)) as stamped, Image.open(io.BytesIO(original)) as plain:
        assert stamped.size == plain.size == (640, 480)
        a, b = stamped.convert("L"), plain.convert("L")
        # The band along the bottom is darker; the top of the picture is (nearly) the same.
        bottom = [abs(a.getpixel((x, 470)) - b.getpixel((x, 470))) for x in range(0, 640, 8)]
        top = [abs(a.getpixel((x, 10)) - b.getpixel((x, 10))) for x in range(0, 640, 8)]
        assert sum(bottom) / len(bottom) > 20 > sum(top) / len(top)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xffnot really", b"GIF89a"])
def test_what_is_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        stamp_copy(data, STAMP)


def test_evidence_in_the_case_folder_is_chained_signed_and_verified(tmp_path: Path) -> None:
    data = tmp_path / "data"
    root, signer = data / "archive", ArchiveSigner.load_or_create(data)
    folder = CaseFolder(root, "QH-2026-000123")
    original = jpeg(64, 48)
    stamped = stamp_copy(original, STAMP)
    meta = {"gps": {"lat": 30.2741, "lon": -120.1551, "accuracy": 12.4}, "point": "后厨"}
    first = folder.store_evidence(original, stamped, "inspector:insp-1a2b", meta, signer)
    second = folder.store_evidence(original, stamped, "inspector:insp-1a2b", {}, signer)
    assert (first["n"], second["n"]) == (1, 2)
    assert (root / "cases/QH-2026-000123/evidence/1.jpg").read_bytes() == original
    assert first["sha256"] == hashlib.sha256(original).hexdigest()
    assert first["stamped"]["sha256"] == hashlib.sha256(stamped).hexdigest()
    records = folder.evidence_records()
    assert [r["n"] for r in records] == [1, 2] and records[0]["point"] == "后厨"
    assert records[0]["stamped"]["file"] == "evidence/1-stamped.jpg"
    assert records[0]["actor"] == "inspector:insp-1a2b"
    [result] = verify_path(root / "cases" / "QH-2026-000123", signer.public_key)
    assert result.problem is None
    # The original changed behind the server's back: verify names it.
    (root / "cases/QH-2026-000123/evidence/1.jpg").write_bytes(stamped[: len(original)])
    [result] = verify_path(root / "cases" / "QH-2026-000123", signer.public_key)
    assert result.problem and "evidence/1.jpg" in result.problem


def test_distance_and_bearing_between_fixes() -> None:
    # 0.001 degree of latitude is about 111 m, due north.
    assert distance_m(30.0, 120.0, 30.001, 120.0) == pytest.approx(111.2, abs=0.3)
    assert bearing_deg(30.0, 120.0, 30.001, 120.0) == pytest.approx(0.0, abs=1e-6)
    assert bearing_deg(30.0, 120.0, 30.0, 120.001) == pytest.approx(90.0, abs=0.01)
    assert bearing_deg(30.0, 120.0, 29.999, 120.0) == pytest.approx(180.0, abs=1e-6)
    assert bearing_deg(30.0, 120.0, 30.0, 119.999) == pytest.approx(270.0, abs=0.01)
    assert distance_m(10.0, 20.0, 10.0, 20.0) == 0.0


def test_an_inspection_token_never_reaches_a_log_line() -> None:
    from server.logs import scrub

    line = scrub("GET /inspect/rwi_AbC-12_xyz path=/inspect/rwi_Q9 and Bearer rwi_zz9")
    assert "AbC-12_xyz" not in line and "Q9" not in line and "zz9" not in line
    assert line.count("[redacted]") == 3
