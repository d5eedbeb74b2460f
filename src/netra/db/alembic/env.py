"""Alembic environment shared by every service's migrations; driven by netra.db.migrations."""

from __future__ import annotations

from alembic import context

from netra.db.migrations import Schema

schema: Schema = context.config.attributes["schema"]
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=schema.metadata,
    version_table=schema.version_table,
    include_name=schema.owns_name,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
