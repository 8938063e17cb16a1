"""Alembic environment for sorawatch's store.

Migrations run from ``SqlStore.open()``, which hands over an open connection inside its own
transaction; there is no alembic.ini to edit.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("sorawatch migrations run from SqlStore.open(), not from the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=None,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
