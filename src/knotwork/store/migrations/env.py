"""Alembic environment: migrates the connection handed over by ``Store.upgrade``."""

from __future__ import annotations

from alembic import context

from knotwork.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
