"""`remote-window serve` as a real child process, its log captured to a file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port
from tests.server_process import stop

CLI = (sys.executable, "-m", "server.cli")
SECRET = "a-long-random-test-secret-0123456789"


@dataclass
class Served:
    port: int
    log: Path
    proc: subprocess.Popen[str]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(
    data_dir: Path,
    *,
    umask: int | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[Served]:
    """Start the server on a free port (or `port`), yield once it listens, stop it
    after; `env` adds variables, `args` adds `serve` arguments (e.g. --redis URL)."""
    port = port or free_port()
    log = data_dir.parent / f"serve-{port}.log"
    env = {
        **os.environ,
        "RW_SERVER__SECRET": SECRET,
        "RW_LOGGING__LEVEL": "DEBUG",
        **(env or {}),
    }
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            umask=-1 if umask is None else umask,
        )
    served = Served(port, log, proc)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the banner (or the process ends)
        assert line.startswith("listening on"), (line, served.log_text())
        yield served
    finally:
        if proc.returncode is None:
            stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()
