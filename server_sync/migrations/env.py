"""Alembic environment for the central database; the connection is handed over by server_sync.admin."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table="c360_alembic_version")
with context.begin_transaction():
    context.run_migrations()
