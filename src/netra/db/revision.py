"""Write a new migration for one service by comparing its models with its migrations.

`python -m netra.db.revision auth "add api keys"` upgrades a scratch SQLite database to
head, autogenerates the difference and writes it into that service's migrations folder.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from netra.db import migrations


def _schema(name: str) -> migrations.Schema:
    if name == "auth":
        from netra.auth.schema import AUTH_SCHEMA

        return AUTH_SCHEMA
    from netra.chat.schema import CHAT_SCHEMA

    return CHAT_SCHEMA


async def write_revision(schema: migrations.Schema, message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}")
        await migrations.upgrade(engine, [schema])
        existing = len(list(schema.versions.glob("*.py")))
        rev_id = f"{schema.name}_{existing + 1:04d}"
        async with engine.connect() as connection:
            await connection.run_sync(
                lambda sync: command.revision(
                    schema.config(sync), message=message, autogenerate=True, rev_id=rev_id
                )
            )
        await engine.dispose()


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("auth", "chat"):
        sys.exit('usage: python -m netra.db.revision auth|chat "message"')
    asyncio.run(write_revision(_schema(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()
