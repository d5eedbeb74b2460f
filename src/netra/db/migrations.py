"""Alembic, driven from code: each service owns its tables and its own version table.

`netra migrate` and AUTO_MIGRATE call `upgrade`; readiness calls `status` and reports the
revision it found beside the one this release needs (docs/incidents.md I-5).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import tempfile
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ALEMBIC_DIR = Path(__file__).parent / "alembic"


@dataclass(frozen=True)
class Schema:
    """One service's tables and the folder of migrations that builds them."""

    name: str
    metadata: MetaData
    versions: Path

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def owns_name(self, name: str | None, type_: str, parent_names: Any) -> bool:
        """Autogenerate and comparisons look only at this service's tables, and never at
        full-text indexes (`fts_*`), which a migration builds per dialect outside the models."""
        if name is not None and name.startswith("fts_"):
            return False
        if type_ == "table":
            return name in self.metadata.tables
        return True

    def config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(ALEMBIC_DIR))
        config.set_main_option("version_locations", str(self.versions))
        config.set_main_option("path_separator", "os")
        config.attributes["schema"] = self
        config.attributes["connection"] = connection
        return config

    def head(self) -> str:
        head = ScriptDirectory.from_config(self.config()).get_current_head()
        if head is None:
            raise RuntimeError(f"schema {self.name} has no migrations in {self.versions}")
        return head


@dataclass(frozen=True)
class SchemaStatus:
    schema: str
    found: str | None
    expected: str

    @property
    def at_head(self) -> bool:
        return self.found == self.expected

    def sentence(self) -> str:
        if self.at_head:
            return f"{self.schema} schema is at head ({self.expected})"
        found = self.found or "no tables (never migrated)"
        return (
            f"{self.schema} schema is at {found}, this release needs {self.expected}: "
            "run `netra migrate`"
        )


def _lock_key(schema: Schema) -> int:
    return zlib.crc32(f"netra-migrate-{schema.name}".encode())


def _upgrade(connection: Connection, schema: Schema) -> None:
    postgres = connection.dialect.name == "postgresql"
    key = {"key": _lock_key(schema)}
    if postgres:
        # Several instances starting at once with AUTO_MIGRATE: one migrates, the others
        # wait here, then find the schema at head and do nothing. The lock belongs to the
        # session, so it is released only after the migration has been committed.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        connection.commit()
    try:
        command.upgrade(schema.config(connection), "head")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """SQLite has no advisory locks: processes migrating one file take turns on a lock file."""
    if engine.url.get_backend_name() != "sqlite":
        yield
        return
    lock_path = Path(f"{engine.url.database}.migrate-lock")
    with lock_path.open("a") as handle:  # noqa: ASYNC230 (a lock file: open is instant)
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def upgrade(engine: AsyncEngine, schemas: list[Schema]) -> None:
    """Bring every given schema to head; safe when several processes do it at once.

    Not re-entrant within one process: Alembic keeps its migration context in module
    globals, so one process runs one upgrade at a time (startup and `netra migrate` do).
    """
    async with _sqlite_file_lock(engine):
        for schema in schemas:
            async with engine.connect() as connection:
                await connection.run_sync(_upgrade, schema)
                await connection.commit()


def _current(connection: Connection, schema: Schema) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": schema.version_table})
    return context.get_current_revision()


async def status(engine: AsyncEngine, schema: Schema) -> SchemaStatus:
    async with engine.connect() as connection:
        found = await connection.run_sync(_current, schema)
    return SchemaStatus(schema.name, found, schema.head())


async def downgrade(engine: AsyncEngine, schema: Schema, revision: str) -> None:
    """Step a schema back (used by tests and by operators undoing a release)."""

    def run(connection: Connection) -> None:
        command.downgrade(schema.config(connection), revision)

    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()


async def write_revision(schema: Schema, message: str) -> str:
    """Autogenerate the next migration of `schema` from its models (a development tool).

    Upgrades a scratch SQLite database to head, compares it with the models and writes
    the difference into the schema's migrations folder. Returns the new revision id.
    """
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            await upgrade(engine, [schema])
            rev_id = f"{schema.name}_{len(list(schema.versions.glob('*.py'))) + 1:04d}"

            def run(connection: Connection) -> None:
                command.revision(
                    schema.config(connection), message=message, autogenerate=True, rev_id=rev_id
                )

            async with engine.connect() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()
    return rev_id
