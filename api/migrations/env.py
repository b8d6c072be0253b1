"""Alembic environment: always given an open connection by :func:`api.migrate.upgrade`."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
schema = config.attributes.get("schema")

context.configure(
    connection=connection,
    version_table="mediation_accounts_version",
    version_table_schema=schema,
    mediation_schema=schema,
)
with context.begin_transaction():
    context.run_migrations()
