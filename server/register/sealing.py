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
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.register.key_files import load_or_create_key

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
        return cls(load_or_create_key(data_dir, KEY_FILE, "register key"))

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
