"""Codes of the public verification page (`/verify/{code}`), one per case.

A code is the case number followed by a keyed MAC of it:
`QH-2026-000123-<24 base32 characters>` (HMAC-SHA256, 120 bits kept). It is
stable (the same number always gives the same code, so a printed QR code keeps
working) and cannot be guessed or made from a case number without the key,
which is 32 random bytes in `<data_dir>/keys/verify_code.key` (0600, made on
first use). The number inside the code tells which case to look up, so no
table of codes is kept; a code whose MAC does not match is refused before
the register is asked, so a caller cannot probe which case numbers exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Self

from server.register.key_files import load_or_create_key

KEY_FILE = "verify_code.key"
MAC_BYTES = 15  # 24 base32 characters, no padding
NUMBER = re.compile(r"[A-Z]{2,8}-\d{4}-\d{6}")
CODE = re.compile(rf"({NUMBER.pattern})-([a-z2-7]{{{MAC_BYTES * 8 // 5}}})")


class VerifyCodes:
    # The MAC input's prefix: one key serves several kinds of code, none made from another.
    PURPOSE = b"verify:"

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the verification key is 32 bytes")
        self._key = key

    @classmethod
    def load_or_create(cls, data_dir: str | os.PathLike[str]) -> Self:
        return cls(load_or_create_key(data_dir, KEY_FILE, "verification key"))

    def _mac(self, number: str) -> str:
        digest = hmac.new(self._key, self.PURPOSE + number.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:MAC_BYTES]).decode().lower()

    def code(self, number: str) -> str:
        """The verification code of a case number."""
        return f"{number}-{self._mac(number)}"

    def number_of(self, code: str) -> str | None:
        """The case number a genuine code names, or None (malformed or forged)."""
        found = CODE.fullmatch(code)
        if found is None:
            return None
        number, mac = found.groups()
        return number if hmac.compare_digest(mac, self._mac(number)) else None
