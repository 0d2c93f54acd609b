"""Canonical JSON, SHA-256 and UTC timestamp helpers shared by the archive modules."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ZERO_HASH = "0" * 64
"""The `prev` of the first line of a hash chain."""
FILE_MODE = 0o600
DIR_MODE = 0o700
"""Everything in the data dir is the server account's alone, whatever the umask."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime (injectable for tests)."""


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def canonical_json(obj: Any) -> bytes:
    """The one byte form of `obj` that hashes are computed over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    """SHA-256 of `data` as 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> tuple[str, int]:
    """Stream a file through SHA-256; return (hex digest, size in bytes)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def iso_utc(when: datetime) -> str:
    """`2026-03-05T08:09:10.123Z`: UTC, millisecond precision, Z suffix."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Inverse of `iso_utc` (accepts any ISO-8601 form Python reads)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_atomic(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write `data` to `path` via a fsynced temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def make_dirs(path: Path) -> None:
    """`mkdir -p` where every folder it creates gets `DIR_MODE` (Path.mkdir gives
    the parents the umask's default)."""
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # made meanwhile by another thread or process


def create_private(path: Path) -> None:
    """Create (or truncate) a file with `FILE_MODE` before a library opens it by name."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE))


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (new, renamed, removed files) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
