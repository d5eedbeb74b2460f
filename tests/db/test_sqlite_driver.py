"""SQLite statements in one trip to aiosqlite's thread (netra.db.sqlite_driver): each
statement is one call there, whatever it returns, and SQLAlchemy sees what the stock
adapter gives it: rows and their columns, row counts, the last row id, errors as its own
exceptions, streamed results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from tests.support.apps import SettingsFactory


@pytest.fixture
async def engine(make_settings: SettingsFactory) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(make_settings())
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE NOT NULL)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made on aiosqlite's threads, by name."""
    made: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_each_statement_is_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # connected, transaction begun
        trips.clear()
        inserted = await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        selected = await connection.execute(text("SELECT id, body FROM notes"))
        assert trips == ["_run", "_run"]  # not cursor, execute, fetchall, close each
        assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
        assert list(selected.keys()) == ["id", "body"]
        assert selected.all() == [(1, "a")]
        await connection.commit()


async def test_many_rows_in_one_statement(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.begin() as connection:
        trips.clear()
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": b} for b in "xyz"]
        )
        assert trips == ["_run"]
        assert many.rowcount == 3
        updated = await connection.execute(text("UPDATE notes SET body = body || '!'"))
        assert updated.rowcount == 3
        assert updated.returns_rows is False
    async with engine.connect() as connection:
        streamed = await connection.stream(text("SELECT body FROM notes ORDER BY id"))
        assert [row.body async for row in streamed] == ["x!", "y!", "z!"]


async def test_errors_are_sqlalchemy_s_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
    with pytest.raises(OperationalError, match="no such table"):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT * FROM missing"))
    async with engine.connect() as connection:  # the one connection still works
        assert await connection.scalar(text("SELECT count(*) FROM notes")) == 1
