"""Opening the register for a configuration: migrate the schema, then the old
accounts file if one is still there (the caller audits what moved)."""

from __future__ import annotations

from server.config import Config
from server.register.db import Register, register_url
from server.register.legacy import LEGACY_FILE, Migrated, migrate_accounts_file

MIGRATED_EVENT = "register.accounts_migrated"


def open_register(cfg: Config) -> tuple[Register, Migrated | None]:
    """The configured register at the newest schema, and what a first start migrated."""
    register = Register(register_url(cfg.database.url, cfg.data_dir))
    try:
        register.prepare()
        migrated = migrate_accounts_file(register, cfg.data_dir / LEGACY_FILE)
    except BaseException:
        register.close()
        raise
    return register, migrated
