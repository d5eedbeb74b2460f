"""SQLite statements in one trip to aiosqlite's thread (netra.db.sqlite_driver): each
statement is one call there, whatever it returns, and SQLAlchemy sees what the stock
adapter gives it: rows and their columns, row counts, the last row id, errors as its own
exceptions, streamed results. Within `batched_writes`, statements that return no rows go
with the next one that does or with the commit: in order, their errors stopping the
commit, dropped by a rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from netra.db.sqlite_driver import batched_writes
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


INSERT = text("INSERT INTO notes (body) VALUES (:body)")
BODIES = text("SELECT body FROM notes ORDER BY id")


async def stored(engine: AsyncEngine) -> list[str]:
    """The notes' bodies as committed, read on a connection of their own."""
    async with engine.connect() as connection:
        return list((await connection.execute(BODIES)).scalars())


async def test_held_writes_go_with_the_next_read_or_the_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    with batched_writes():
        async with engine.begin() as connection:
            await connection.execute(text("SELECT 1"))
            trips.clear()
            await connection.execute(INSERT, {"body": "a"})
            await connection.execute(INSERT, [{"body": "b"}, {"body": "c"}])
            await connection.execute(text("UPDATE notes SET body = body || '!'"))
            assert trips == []  # held
            assert (await connection.execute(BODIES)).scalars().all() == ["a!", "b!", "c!"]
            assert trips == ["_run"]  # the three writes, then the read, in one call
            returned = await connection.execute(
                text("INSERT INTO notes (body) VALUES ('d') RETURNING id")
            )
            assert returned.scalar() == 4  # a statement returning rows is sent at once
            await connection.execute(text("DELETE FROM notes WHERE body = 'b!'"))
            trips.clear()
        # The delete with the commit, in one call (then the pool's reset, as always).
        assert trips == ["_send", "rollback"]
    assert await stored(engine) == ["a!", "c!", "d"]


async def _batched(engine: AsyncEngine, bodies: list[str], *, read: bool = False) -> None:
    """Insert `bodies` in one transaction within batched_writes (then a read, if `read`)."""
    with batched_writes():
        async with engine.begin() as connection:
            for body in bodies:
                await connection.execute(INSERT, {"body": body})
            if read:
                await connection.execute(BODIES)


async def test_a_held_write_s_error_stops_the_commit(engine: AsyncEngine) -> None:
    await _batched(engine, ["once"])
    # The duplicate is held (no error yet): the commit raises it and does not happen.
    with pytest.raises(IntegrityError, match="UNIQUE"):
        await _batched(engine, ["new", "once", "after"])
    assert await stored(engine) == ["once"]  # nothing of it committed; it goes on
    with pytest.raises(IntegrityError, match="UNIQUE"):  # raised by the read it went with
        await _batched(engine, ["once"], read=True)


async def test_a_rollback_drops_what_is_held_and_streams_come_after_it(
    engine: AsyncEngine, trips: list[str]
) -> None:
    with batched_writes():
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            trips.clear()
            await connection.execute(INSERT, {"body": "never"})
            await connection.rollback()
            assert "_send" not in trips  # never sent
            assert "_run" not in trips
        async with engine.begin() as connection:
            await connection.execute(INSERT, {"body": "seen"})
            streamed = await connection.stream(BODIES)
            assert [row.body async for row in streamed] == ["seen"]
    assert await stored(engine) == ["seen"]
