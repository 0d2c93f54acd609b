"""The register's backends for contract tests: SQLite in a temp dir, and a real
PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) in a fresh database
`rw_test_<random>` dropped afterwards. No PostgreSQL there: the test fails
(CI starts one in .ci/run); it is never skipped."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from server.register.db import Register

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REGISTER_BACKENDS = ["sqlite", "postgresql"]


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(
            host=PG_HOST,
            port=PG_PORT,
            user=PG_USER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}. "
            "The register contract tests need it (.ci/run starts it)."
        )


def postgres_database() -> Iterator[str]:
    """Create a throwaway database; yields its URL, drops it at the end."""
    name = f"rw_test_{secrets.token_hex(6)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=REGISTER_BACKENDS)
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'register.sqlite3'}"
    else:
        yield from postgres_database()


@pytest.fixture
def register(register_url: str) -> Iterator[Register]:
    reg = Register(register_url)
    reg.prepare()
    try:
        yield reg
    finally:
        reg.close()
