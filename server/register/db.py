"""The register's database: engine and sessions, migrations at start.

SQLite in the data dir by default (nothing to install), PostgreSQL when
`database.url` names one. On SQLite every connection runs in WAL mode with
foreign keys on and a busy timeout; write transactions begin IMMEDIATE so
concurrent writers queue up instead of failing on a lock upgrade. The schema
is Alembic's: `prepare()` runs `upgrade head` (on PostgreSQL under an advisory
lock, so two processes starting together do not race).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from recording.canonical import FILE_MODE

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_FILE = "register.sqlite3"
BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 65_536  # page cache per connection: the statistics scan a year of cases
_IMMEDIATE = "rw_immediate"


class RegisterError(RuntimeError):
    """The register cannot be opened or migrated (the message says why)."""


def register_url(configured: str, data_dir: Path) -> str:
    """`database.url`, or the SQLite file in the data dir when it is empty."""
    if configured.strip():
        return configured.strip()
    return f"sqlite:///{data_dir / SQLITE_FILE}"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Register:
    """One database: an engine, read and write sessions, the schema's migrations."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        if self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.sqlite = self.url.get_backend_name() == "sqlite"
        if self.sqlite and self.url.database:
            _create_private(Path(self.url.database))
        self.engine: Engine = create_engine(self.url, pool_pre_ping=not self.sqlite)
        if self.sqlite:
            _sqlite_setup(self.engine)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False
        )

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        return Path(self.url.database) if self.sqlite and self.url.database else None

    def prepare(self) -> None:
        """Bring the schema to the newest migration."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.execution_options(**{_IMMEDIATE: True}).begin() as conn:
                if not self.sqlite:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7007)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except Exception as exc:
            where = self.url.render_as_string(hide_password=True)
            raise RegisterError(f"cannot open the register at {where}: {exc}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries (rolled back at the end)."""
        with self._reads() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        with self._writes() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _create_private(path: Path) -> None:
    """Create the SQLite file owner-only before SQLite does (its WAL and shared
    memory files take the database file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun below, explicitly
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
