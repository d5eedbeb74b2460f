"""SQLite's read-only connections: the reads on a message's path go on while the one
writing connection holds a transaction, see what it committed, and cannot write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from netra import db
from tests.support.apps import SettingsFactory


async def test_reads_go_on_while_the_writer_holds_a_transaction(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    writer = db.create_engine(settings)
    reader = db.create_read_engine(settings, writer.url)
    assert reader is not None
    try:
        async with writer.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
        async with writer.connect() as writing:
            await writing.execute(text("BEGIN IMMEDIATE"))
            await writing.execute(text("INSERT INTO notes VALUES (2)"))
            # The writer's one connection is taken: a read through it would wait.
            async with reader.connect() as reading:
                seen = await asyncio.wait_for(
                    reading.scalar(text("SELECT group_concat(n) FROM notes")), 2
                )
            assert seen == "1"  # what is committed, not the open transaction
            await writing.execute(text("COMMIT"))
        async with reader.connect() as reading:
            assert await reading.scalar(text("SELECT group_concat(n) FROM notes")) == "1,2"
            with pytest.raises(OperationalError, match="readonly"):
                await reading.execute(text("INSERT INTO notes VALUES (3)"))
    finally:
        await reader.dispose()
        await writer.dispose()


def test_postgresql_and_in_memory_sqlite_read_through_the_one_pool(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    postgres = make_url("postgresql+asyncpg://postgres@127.0.0.1:5432/netra")
    assert db.create_read_engine(settings, postgres) is None
    assert db.create_read_engine(settings, make_url("sqlite+aiosqlite://")) is None
    assert db.create_read_engine(settings, make_url("sqlite+aiosqlite:///:memory:")) is None
