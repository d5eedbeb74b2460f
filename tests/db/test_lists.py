"""`in_list` (netra.db.lists): the same rows as IN on both databases, the list bound as
one parameter (PostgreSQL: an array; SQLite: a JSON text read by `json_each`), so lists
of any length share one statement text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from netra.db.lists import in_list
from tests.support.apps import SettingsFactory
from tests.support.databases import create_pg_database, drop_pg_database

_meta = MetaData()
_items = Table("items", _meta, Column("id", String(36), primary_key=True), Column("n", Integer))
_ODD = ['say "hi"', "back\\slash", "é ✓ 😀", "[1, 2]", "7"]
_BY_IDS = select(_items.c.n).where(in_list(_items.c.id, "b_ids")).order_by(_items.c.n)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[AsyncEngine]:
    name = None
    if request.param == "postgresql":
        name = await create_pg_database()
        settings = make_settings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}")
    else:
        settings = make_settings()
    engine = db.create_engine(settings)
    async with engine.begin() as connection:
        await connection.run_sync(_meta.create_all)
        await connection.execute(_items.insert(), [{"id": f"i{n}", "n": n} for n in range(50)])
        # Ids that JSON must escape, and one JSON would read as a number were it not quoted.
        odd = [{"id": id, "n": 100 + n} for n, id in enumerate(_ODD)]
        await connection.execute(_items.insert(), odd)
    try:
        yield engine
    finally:
        await engine.dispose()
        if name is not None:
            await drop_pg_database(name)


async def test_the_rows_whose_column_is_in_the_list(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        found = await connection.scalars(_BY_IDS, {"b_ids": ["i3", "i1", "nothing", "i40"]})
        assert list(found) == [1, 3, 40]
        assert list(await connection.scalars(_BY_IDS, {"b_ids": []})) == []
        # It composes with other conditions, and its statement is cached as one.
        both = _BY_IDS.where(_items.c.n > 2)
        assert list(await connection.scalars(both, {"b_ids": ["i1", "i3", "i4"]})) == [3, 4]
        # Each odd id matches itself only (a number-like "7" is not the number 7).
        for n, id in enumerate(_ODD):
            assert list(await connection.scalars(_BY_IDS, {"b_ids": [id, "i2"]})) == [2, 100 + n]


async def test_the_list_is_one_parameter(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        short = await connection.execute(_BY_IDS, {"b_ids": ["i1"]})
        long = await connection.execute(_BY_IDS, {"b_ids": [f"i{n}" for n in range(30)]})
        texts = {short.context.statement, long.context.statement}
        # One text for every length: compiled once, prepared once by the database.
        assert len(texts) == 1
        if engine.dialect.name == "postgresql":
            assert "= ANY ($1::VARCHAR(36)[])" in texts.pop()
        else:
            assert "IN (SELECT anon_1.value \nFROM json_each(?) AS anon_1)" in texts.pop()
        assert await connection.scalar(text("SELECT count(*) FROM items")) == 55
