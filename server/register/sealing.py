"""Applicants' full ID numbers, sealed at rest with AES-256-GCM.

The key is 32 random bytes in `<data_dir>/keys/register_id.key` (0600),
made on first use, kept out of the database: a copy of the database (a
PostgreSQL dump, a stolen SQLite file) shows only the last four digits,
which sit in a column of their own. Each sealed value is bound to its case
number (associated data), so it cannot be moved to another case. Back the
key up with the data dir: without it the full numbers cannot be read back.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from recording.canonical import FILE_MODE
from recording.keys import KEYS_DIR

KEY_FILE = "register_id.key"
VERSION = "v1:"


class SealError(ValueError):
    """A sealed value that this key cannot open (another key, or altered)."""


class IdSealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the register key is 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> IdSealer:
        folder = data_dir / KEYS_DIR
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / KEY_FILE
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            try:
                os.write(fd, base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        try:
            return cls(base64.b64decode(path.read_bytes().strip(), validate=True))
        except ValueError as exc:
            raise ValueError(f"{path}: not a register key ({exc})") from None

    def seal(self, value: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return VERSION + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith(VERSION):
            raise SealError("not a sealed value")
        raw = base64.b64decode(sealed[len(VERSION) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise SealError("the register key does not open this value") from None
