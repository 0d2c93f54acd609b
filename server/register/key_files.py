"""The register's secret keys: 32 random bytes each in `<data_dir>/keys/`, base64,
0600, made on first use (O_EXCL, so two starting processes agree on one key)."""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from recording.canonical import FILE_MODE
from recording.keys import KEYS_DIR

KEY_BYTES = 32


def load_or_create_key(data_dir: str | os.PathLike[str], file_name: str, what: str) -> bytes:
    """The key in `keys/<file_name>`, made now if there is none; `what` names it in errors."""
    folder = Path(data_dir) / KEYS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / file_name
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.write(fd, base64.b64encode(os.urandom(KEY_BYTES)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError as exc:
        raise ValueError(f"{path}: not a {what} ({exc})") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: not a {what} (expected {KEY_BYTES} bytes)")
    return key
