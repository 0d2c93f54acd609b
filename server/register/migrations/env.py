"""Alembic environment: run programmatically by Register.prepare() on its connection."""

from __future__ import annotations

from alembic import context

from server.register.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the register's migrations run through Register.prepare()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying a table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
