"""Pools: SQLite writers take turns on one connection; a PostgreSQL connection dropped
while idle in the pool is replaced before use, without a ping on every checkout."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from netra import db
from netra.db import engine as engine_module
from tests.support.apps import SettingsFactory
from tests.support.databases import create_pg_database, drop_pg_database


async def test_sqlite_writers_take_turns_instead_of_failing_locked(
    make_settings: SettingsFactory,
) -> None:
    engine = db.create_engine(make_settings())
    sessions = db.sessionmaker(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        await connection.execute(text("INSERT INTO counter VALUES (0)"))

    async def bump() -> None:
        async with sessions.begin() as session:
            n = await session.scalar(text("SELECT n FROM counter"))
            await asyncio.sleep(0)  # another writer would slip in here with a pool
            await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(200)))
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT n FROM counter")) == 200
    await engine.dispose()


async def test_a_connection_dropped_while_idle_is_replaced(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = await create_pg_database()
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = db.create_engine(make_settings(DATABASE_URL=url))
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
        await engine.dispose()
    finally:
        await drop_pg_database(name)


async def test_a_burst_waits_for_the_pools_connections_instead_of_opening_more(
    make_settings: SettingsFactory,
) -> None:
    """More transactions at once than DB_POOL_SIZE take turns on the same connections:
    none is opened for the burst and closed after it (that churn cost more CPU than the
    rest of a message)."""
    name = await create_pg_database()
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = db.create_engine(make_settings(DATABASE_URL=url, DB_POOL_SIZE="3"))

        async def backend_pid() -> int:
            async with engine.connect() as connection:
                pid = await connection.scalar(text("SELECT pg_backend_pid()"))
                await asyncio.sleep(0.01)  # held, while the others want one
                return int(pid)

        first = set(await asyncio.gather(*(backend_pid() for _ in range(30))))
        again = set(await asyncio.gather(*(backend_pid() for _ in range(30))))
        assert len(first) == 3
        assert again == first  # the same connections, kept open
        await engine.dispose()
    finally:
        await drop_pg_database(name)


async def test_fill_pool_opens_every_connection_before_the_first_request(
    make_settings: SettingsFactory,
) -> None:
    name = await create_pg_database()
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = db.create_engine(make_settings(DATABASE_URL=url, DB_POOL_SIZE="4"))
        assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]
        await db.fill_pool(engine)
        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]
        async with engine.connect() as a, engine.connect() as b:
            pids = {await c.scalar(text("SELECT pg_backend_pid()")) for c in (a, b)}
        assert len(pids) == 2
        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]  # none opened more
        await engine.dispose()
        # A database that cannot be reached: nothing opened, nothing raised (readiness says).
        gone = db.create_engine(make_settings(DATABASE_URL=url.replace("5432", "1")))
        await db.fill_pool(gone)
        assert gone.pool.checkedin() == 0  # type: ignore[attr-defined]
        await gone.dispose()
    finally:
        await drop_pg_database(name)
