"""The register's database file: migrated at open, private, WAL, foreign keys on."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from server.app import config_summary
from server.register.db import MIGRATIONS, Register, RegisterError, register_url
from tests.conftest import make_config


def _head() -> str:
    """The newest migration (one head: the chain is linear)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return head


def test_default_url_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "data")
    assert cfg.database.url == ""
    assert register_url(cfg.database.url, cfg.data_dir) == (
        f"sqlite:///{cfg.data_dir / 'register.sqlite3'}"
    )
    assert register_url(" postgresql://u@h/db ", cfg.data_dir) == "postgresql://u@h/db"


def test_prepare_creates_the_schema_once_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "register.sqlite3"
    reg = Register(f"sqlite:///{path}")
    reg.prepare()
    reg.prepare()  # already at head: nothing to do
    tables = set(inspect(reg.engine).get_table_names())
    assert {
        "users",
        "kiosks",
        "cases",
        "case_history",
        "case_documents",
        "recordings",
        "recording_reviewers",
        "ratings",
        "followups",
        "spot_draws",
        "spot_checks",
        "alembic_version",
    } <= tables
    with reg.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    reg.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    reg = Register(f"sqlite:///{path}")
    with pytest.raises(RegisterError, match="cannot open the register"):
        reg.prepare()
    reg.close()
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_the_audit_summary_hides_a_database_password(tmp_path: Path) -> None:
    url = "postgresql://rw:s3cret-pass@db.example:5432/rw"
    cfg = make_config(tmp_path, database={"url": url})
    summary = str(config_summary(cfg))
    assert "s3cret-pass" not in summary and "db.example" in summary


def test_a_register_at_0001_gets_case_documents_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite3"
    reg = Register(f"sqlite:///{path}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO users (username, role, display_name, password_hash, items, disabled,"
            " created_at) VALUES ('wang', 'reviewer', 'Wang', 'h', '[]', 0, 1.0)"
        )
    assert "case_documents" not in inspect(reg.engine).get_table_names()
    reg.prepare()
    assert "case_documents" in inspect(reg.engine).get_table_names()
    with reg.read() as s:
        assert s.execute(text("SELECT username FROM users")).scalars().all() == ["wang"]
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    reg.close()


def test_0008_turns_admins_into_system_admins_and_adds_the_account_security_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "register.sqlite3"
    reg = Register(f"sqlite:///{path}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
        for name, role in (("root", "admin"), ("wang", "reviewer")):
            conn.exec_driver_sql(
                "INSERT INTO users (username, role, display_name, password_hash, items,"
                f" disabled, created_at) VALUES ('{name}', '{role}', 'x', 'h', '[]', 0, 1.0)"
            )
    reg.prepare()
    with reg.read() as s:
        rows = s.execute(
            text("SELECT username, role, must_change_password, totp_secret FROM users")
        ).all()
        assert sorted(tuple(r) for r in rows) == [
            ("root", "sysadmin", 0, None),
            ("wang", "reviewer", 0, None),
        ]
    assert "password_history" in inspect(reg.engine).get_table_names()
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    with reg.read() as s:
        roles = s.execute(text("SELECT role FROM users ORDER BY username")).scalars().all()
        assert roles == ["admin", "reviewer"]
    assert "password_history" not in inspect(reg.engine).get_table_names()
    reg.close()
