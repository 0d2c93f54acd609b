"""Reading the case archive without following a symlink anywhere.

Only the archive root itself is taken as configured (the data dir may be
placed through a link by whoever deploys it). Below it, every path component
is opened with `O_NOFOLLOW` relative to its parent's descriptor, so a link
planted in the archive (a `media/` pointing outside it, a manifest linked to
another case) is refused instead of followed, and a swap between a check and
the open cannot redirect the read.

Byte ranges for media are parsed here too (`byte_range`), so the handler
knows exactly which bytes it is about to deliver, however the header is
spelled, and can audit a delivery that starts at the first byte.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
# One range, as RFC 9110 writes it: `bytes=first-last`, `bytes=first-`, `bytes=-suffix`.
_RANGE = re.compile(r"bytes=([0-9]{1,18})?-([0-9]{1,18})?", re.ASCII | re.IGNORECASE)


class Unsafe(OSError):
    """A symlink or a special file where the archive has a plain folder or file."""


class Unsatisfiable(ValueError):
    """A Range header this server does not serve (416)."""


@contextmanager
def open_dir(root: Path, parts: Sequence[str]) -> Iterator[int]:
    """A descriptor of `root/parts...`, each part opened without following links."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise Unsafe(f"bad path part {part!r}")
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _refusal(exc, part) from None
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def open_file(dir_fd: int, name: str) -> tuple[int, os.stat_result]:
    """A regular file in an open folder (no link, no fifo or device): (fd, its stat)."""
    if name in ("", ".", "..") or "/" in name:
        raise Unsafe(f"bad file name {name!r}")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise _refusal(exc, name) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise Unsafe(f"{name}: not a regular file")
    return fd, st


def read_file(dir_fd: int, name: str, max_bytes: int = 16 << 20) -> bytes:
    """The bytes of a regular file in an open folder (at most `max_bytes`)."""
    fd, st = open_file(dir_fd, name)
    try:
        if st.st_size > max_bytes:
            raise Unsafe(f"{name}: larger than {max_bytes} bytes")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _refusal(exc: OSError, name: str) -> OSError:
    """ELOOP (a link under O_NOFOLLOW) and ENOTDIR (a link or file where a folder
    should be) become `Unsafe`; a missing entry stays FileNotFoundError."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return Unsafe(f"{name}: a symlink or not a folder")
    return exc


def tree_problem(folder: Path) -> str | None:
    """The first symlink or special file anywhere under `folder` (None when clean).

    `folder` itself must be a real folder, not a link.
    """
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return f"{folder.name}: a symlink or not a folder"
        pending = [folder]
        while pending:
            current = pending.pop()
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        return f"{Path(entry.path).relative_to(folder)}: a symlink"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif not entry.is_file(follow_symlinks=False):
                        return f"{Path(entry.path).relative_to(folder)}: not a regular file"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return None


def is_real_dir(path: Path) -> bool:
    """A folder that is not a symlink."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes `[first, last]` a Range header asks for, or None (no header: all).

    Raises `Unsatisfiable` for anything else: another unit, several ranges,
    spaces, a first byte past the end, an empty suffix (`bytes=-0`). Leading
    zeros are plain digits (`bytes=000-` is the whole file).
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        raise Unsatisfiable("not a single byte range")
    first_text, last_text = match.groups()
    if first_text is None:
        if last_text is None or int(last_text) == 0 or size == 0:
            raise Unsatisfiable("empty suffix range")
        return max(0, size - int(last_text)), size - 1
    first = int(first_text)
    last = size - 1 if last_text is None else min(int(last_text), size - 1)
    if first >= size or (last_text is not None and int(last_text) < first):
        raise Unsatisfiable("range outside the file")
    return first, last
