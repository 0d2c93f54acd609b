"""ID numbers sealed at rest: the key file, binding to the case, wrong keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.register.sealing import IdSealer, SealError


def test_sealed_values_open_only_with_their_key_and_case(tmp_path: Path) -> None:
    sealer = IdSealer.load_or_create(tmp_path)
    key = tmp_path / "keys" / "register_id.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    sealed = sealer.seal("110105194912310021", "QH-2026-000001")
    assert "1949" not in sealed and sealed != sealer.seal("110105194912310021", "QH-2026-000001")
    assert IdSealer.load_or_create(tmp_path).open(sealed, "QH-2026-000001") == "110105194912310021"
    with pytest.raises(SealError):
        sealer.open(sealed, "QH-2026-000002")  # moved to another case
    with pytest.raises(SealError):
        IdSealer.load_or_create(tmp_path / "other").open(sealed, "QH-2026-000001")


def test_a_broken_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "register_id.key").write_text("not base64!!\n")
    with pytest.raises(ValueError, match="not a register key"):
        IdSealer.load_or_create(tmp_path)
