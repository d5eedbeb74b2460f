"""Migrations: each service's schema reaches head, and the models agree with them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from netra import db
from netra.auth.schema import AUTH_SCHEMA
from netra.chat.schema import CHAT_SCHEMA
from netra.db import migrations
from tests.support.apps import SettingsFactory

SCHEMAS = [AUTH_SCHEMA, CHAT_SCHEMA]


def _diff(connection: Connection, schema: migrations.Schema) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"include_name": schema.owns_name, "compare_type": True},
    )
    return list(compare_metadata(context, schema.metadata))


async def test_models_and_migrations_agree(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    engine = db.create_engine(make_settings(**database_env))
    await migrations.upgrade(engine, SCHEMAS)
    async with engine.connect() as connection:
        for schema in SCHEMAS:
            assert await connection.run_sync(_diff, schema) == [], schema.name
    await engine.dispose()


async def test_each_service_keeps_its_own_version_table(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    engine = db.create_engine(make_settings(**database_env))
    await migrations.upgrade(engine, [AUTH_SCHEMA])
    auth = await migrations.status(engine, AUTH_SCHEMA)
    chat = await migrations.status(engine, CHAT_SCHEMA)
    assert auth.at_head
    assert (chat.found, chat.at_head) == (None, False)
    assert chat.sentence() == (
        f"chat schema is at no tables (never migrated), this release needs {chat.expected}: "
        "run `netra migrate`"
    )
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert "alembic_version_auth" in tables
    assert "threads" not in tables
    await engine.dispose()


async def test_concurrent_migrate_processes_do_not_collide(
    make_settings: SettingsFactory, database_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        **database_env,
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "netra.cli",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [(await p.communicate())[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    engine = db.create_engine(make_settings(**database_env))
    for schema in SCHEMAS:
        assert (await migrations.status(engine, schema)).at_head
    await engine.dispose()
