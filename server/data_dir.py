"""The data dir is private to the server's account: files 0600, folders 0700.

It holds the accounts database, the signing key, the queue journal and every
case (video of applicants, their documents). The code creates each of them
with those modes (recording/canonical.py), the command line and the server
set the process umask to 0077 so libraries that create files by name
(SQLite, the journal's rewrites) do the same, and every start walks the data
dir and takes group and other permissions away from whatever still has them
(a copy, a restore from backup, an older version), logging how many entries
it fixed. Symlinks are left alone (their mode means nothing; the archive
refuses to follow them anyway).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from recording.canonical import DIR_MODE, FILE_MODE

log = logging.getLogger(__name__)
UMASK = 0o077


def private_umask() -> None:
    """New files of this process: no permission for group or others."""
    os.umask(UMASK)


def secure_tree(root: Path) -> list[Path]:
    """Set files to 0600 and folders to 0700 under `root` (itself included) where
    group or others had any permission; returns what was changed."""
    fixed: list[Path] = []

    def check(path: Path, mode: int, wanted: int) -> None:
        if stat.S_IMODE(mode) & 0o077:
            try:
                os.chmod(path, wanted, follow_symlinks=False)
            except OSError as exc:
                log.warning("cannot restrict a data dir entry", extra={"err": exc.strerror})
                return
            fixed.append(path)

    try:
        check(root, os.lstat(root).st_mode, DIR_MODE)
    except FileNotFoundError:
        return fixed
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            path = Path(folder) / name
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue  # removed meanwhile
            if stat.S_ISDIR(mode):
                check(path, mode, DIR_MODE)
            elif stat.S_ISREG(mode):
                check(path, mode, FILE_MODE)
    return fixed


def secure_data_dir(root: Path) -> int:
    """The start check: restrict the data dir, warn when anything had to change.

    The warning names the top-level entries concerned (`archive`,
    `accounts.sqlite3`, ...), never a case folder or a file inside one.
    """
    fixed = secure_tree(root)
    if fixed:
        top = sorted({p.relative_to(root).parts[0] if p != root else "." for p in fixed})
        log.warning(
            "data dir entries were readable by group or others; restricted to the owner",
            extra={"fixed": len(fixed), "where": top},
        )
    return len(fixed)
