"""The archive signing key: created once with safe permissions, then reused."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from recording.keys import ArchiveSigner, load_public_key, verify_signature


def test_key_is_created_once_and_reloaded(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    private = tmp_path / "keys" / "archive_ed25519.pem"
    public = tmp_path / "keys" / "archive_ed25519.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes() == signer.public_key_pem()
    assert len(base64.b64decode(signer.public_key_b64())) == 32

    again = ArchiveSigner.load_or_create(tmp_path)
    assert again.public_key_b64() == signer.public_key_b64()
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "archive_ed25519.pem",
        "archive_ed25519.pub.pem",
    ]


def test_sign_and_verify(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    public = load_public_key(tmp_path / "keys" / "archive_ed25519.pub.pem")
    signature = signer.sign(b"manifest")
    assert len(signature) == 64
    assert verify_signature(public, b"manifest", signature)
    assert not verify_signature(public, b"manifest!", signature)
    other = ArchiveSigner.load_or_create(tmp_path / "other")
    assert not verify_signature(other.public_key, b"manifest", signature)


def test_a_missing_public_file_is_rewritten_and_a_foreign_key_refused(tmp_path: Path) -> None:
    signer = ArchiveSigner.load_or_create(tmp_path)
    public = tmp_path / "keys" / "archive_ed25519.pub.pem"
    public.unlink()
    ArchiveSigner.load_or_create(tmp_path)
    assert public.read_bytes() == signer.public_key_pem()
    with pytest.raises(ValueError):
        load_public_key(tmp_path / "keys" / "archive_ed25519.pem")
