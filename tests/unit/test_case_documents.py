"""Material files: type by magic bytes, EXIF removed losslessly; the case file
in the archive is signed, chained and checked by `remote-window verify`."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recording.archive import SessionArchive
from recording.audit import AuditLog, check_chain
from recording.case_folder import CaseFolder
from recording.keys import ArchiveSigner
from recording.verify import main, verify_path
from server.register.doc_files import UnsupportedType, clean, sniff, strip_jpeg
from tests.unit.doc_images import GPS_MARK, decodes, jpeg, with_exif


def test_exif_is_removed_and_the_image_is_unchanged() -> None:
    still = jpeg()
    tagged = with_exif(still)
    assert GPS_MARK in tagged and decodes(tagged) == (64, 48)
    ext, stored = clean(tagged)
    assert ext == "jpg"
    assert GPS_MARK not in stored and b"Exif\x00\x00" not in stored
    assert stored == still  # lossless: every other byte as it was
    assert decodes(stored) == (64, 48)
    assert strip_jpeg(still) == still


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def test_png_loses_its_exif_chunk() -> None:
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = _png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    end = _png_chunk(b"IEND", b"")
    plain = b"\x89PNG\r\n\x1a\n" + ihdr + idat + end
    tagged = b"\x89PNG\r\n\x1a\n" + ihdr + _png_chunk(b"eXIf", b"MM" + GPS_MARK) + idat + end
    assert clean(tagged) == ("png", plain)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a....",
        b"PK\x03\x04 a zip named scan.pdf",
        b"<html>%PDF-1.7",
        b"\xff\xd8\xff",  # JPEG magic, then nothing
        b"\xff\xd8\xff\xe1\xff\xff" + b"x" * 10,  # a segment longer than the file
    ],
)
def test_other_or_damaged_files_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedType) as err:
        clean(data)
    assert err.value.status == 415 and err.value.code == "wrong_type"


def test_pdf_is_recognised_by_its_first_bytes() -> None:
    assert sniff(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj") == "pdf"
    assert clean(b"%PDF-1.4 body") == ("pdf", b"%PDF-1.4 body")


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, ArchiveSigner]:
    data = tmp_path / "data"
    return data / "archive", ArchiveSigner.load_or_create(data)


def _case_with_pages(root: Path, signer: ArchiveSigner) -> CaseFolder:
    folder = CaseFolder(root, "QH-2026-000001")
    folder.store(1, "jpg", jpeg(), "reviewer:wang", {"material": "身份证明", "page": 1}, signer)
    folder.store(
        1, "jpg", jpeg(32, 32), "reviewer:wang", {"material": "身份证明", "page": 2}, signer
    )
    folder.store(2, "pdf", b"%PDF-1.4 scan", "agent:li", {"material": "申请书", "page": 1}, signer)
    folder.log_change("document.unreadable", "reviewer:wang", {"file": "documents/1-2.jpg"}, signer)
    return folder


def test_a_case_file_is_signed_and_every_page_checked(
    signed: tuple[Path, ArchiveSigner], capsys: pytest.CaptureFixture[str]
) -> None:
    root, signer = signed
    folder = _case_with_pages(root, signer).folder
    assert sorted(p.name for p in (folder / "documents").iterdir()) == [
        "1-1.jpg",
        "1-2.jpg",
        "2-1.pdf",
    ]
    manifest = json.loads((folder / "manifest.json").read_bytes())
    assert manifest["case_number"] == folder.name and len(manifest["files"]) == 3
    assert manifest["events"]["lines"] == 5 and check_chain(folder / "events.jsonl").problem is None
    for path in [folder, *folder.rglob("*")]:
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
    [result] = verify_path(folder, signer.public_key)
    assert result.ok and result.kind == "case"

    # A whole archive: session folders and case files side by side.
    session = SessionArchive(root, "s-1", datetime(2026, 3, 5, 9, 30, tzinfo=UTC))
    session.add_document(b"still", "rev7")
    session.finalize({"outcome": "approved"}, signer)
    assert main([str(root)]) == 0
    assert capsys.readouterr().out == "OK 1 session(s) verified, 1 case file(s)\n"


def _verify(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str]:
    code = main([str(folder.parent.parent)])
    return code, capsys.readouterr().out


def test_one_changed_byte_of_a_page_is_caught(
    signed: tuple[Path, ArchiveSigner], capsys: pytest.CaptureFixture[str]
) -> None:
    root, signer = signed
    folder = _case_with_pages(root, signer).folder
    page = folder / "documents" / "1-1.jpg"
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01
    page.write_bytes(bytes(data))
    code, out = _verify(capsys, folder)
    assert code == 1
    assert out == f"BROKEN: {folder}: documents/1-1.jpg: sha256 does not match the manifest\n"


def test_a_later_signature_does_not_absorb_a_tampered_page(
    signed: tuple[Path, ArchiveSigner], capsys: pytest.CaptureFixture[str]
) -> None:
    root, signer = signed
    case = _case_with_pages(root, signer)
    page = case.folder / "documents" / "2-1.pdf"
    page.write_bytes(b"%PDF-1.4 scaN")
    case.store(
        2, "pdf", b"%PDF-1.4 page two", "agent:li", {"material": "申请书", "page": 2}, signer
    )
    code, out = _verify(capsys, case.folder)
    assert code == 1 and "documents/2-1.pdf: sha256 does not match" in out


@pytest.mark.parametrize("change", ["extra_file", "event_after_signing", "dropped_page"])
def test_other_changes_to_a_case_file_are_caught(
    signed: tuple[Path, ArchiveSigner], capsys: pytest.CaptureFixture[str], change: str
) -> None:
    root, signer = signed
    folder = _case_with_pages(root, signer).folder
    if change == "extra_file":
        (folder / "documents" / "3-1.jpg").write_bytes(jpeg())
        expected = "documents/3-1.jpg: not in the manifest"
    elif change == "event_after_signing":
        with AuditLog(folder / "events.jsonl") as log:
            log.append("document.stored", "agent:li", {"file": "documents/9-1.jpg"})
        expected = "'document.stored' added after the manifest was signed"
    else:
        (folder / "documents" / "1-2.jpg").unlink()
        expected = "documents/1-2.jpg missing"
    code, out = _verify(capsys, folder)
    assert code == 1 and out.startswith("BROKEN: ") and expected in out, out
