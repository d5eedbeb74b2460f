"""UTCDateTime (netra.db.base): aware UTC datetimes in and out on both databases. On
SQLite its one-step text is exactly what SQLAlchemy's DATETIME writes (rows written
before read and compare the same), whole seconds keep their six zeros (text order is
time order), and the datetime it remembers never answers for another one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from netra.db.base import UTCDateTime
from tests.support.apps import SettingsFactory

metadata = MetaData()
stamps = Table(
    "stamps", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
)
PARIS = timezone(timedelta(hours=1))


@pytest.fixture
async def engine(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(make_settings(**database_env))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_aware_datetimes_come_back_in_utc(engine: AsyncEngine) -> None:
    now = datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=UTC)
    given = [now, now, now.astimezone(PARIS), now.replace(microsecond=0), None]
    async with engine.begin() as connection:
        await connection.execute(
            insert(stamps), [{"id": k, "at": at} for k, at in enumerate(given)]
        )
        rows = (await connection.execute(select(stamps.c.at).order_by(stamps.c.id))).all()
    read = [row.at for row in rows]
    assert read == [now, now, now, now.replace(microsecond=0), None]
    assert all(at is None or at.tzinfo is UTC for at in read)
    whole = now.replace(microsecond=0)
    async with engine.connect() as connection:  # compared by the database, as bound
        same = await connection.scalars(select(stamps.c.id).where(stamps.c.at == whole))
        later = await connection.scalars(select(stamps.c.id).where(stamps.c.at > whole))
        assert list(same) == [3]
        assert sorted(later) == [0, 1, 2]


async def test_a_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        with pytest.raises(StatementError, match="naive datetime"):
            await connection.execute(insert(stamps), {"id": 1, "at": datetime(2026, 1, 1)})


def test_sqlite_text_is_sqlalchemys_datetime_text() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    for at in (
        datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # whole seconds: .000000 all the same
        datetime(999, 1, 1, tzinfo=UTC),
    ):
        assert ours(at) == theirs(at.replace(tzinfo=None))
    assert ours(datetime(2026, 1, 1, 1, tzinfo=PARIS)) == "2026-01-01 00:00:00.000000"


def test_sqlite_remembers_only_the_same_datetime() -> None:
    bind = UTCDateTime().bind_processor(sqlite.dialect())
    assert bind is not None
    first = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
    assert bind(first) == bind(first) == "2026-12-06 14:00:00.000000"
    # An equal instant in another zone, then another instant: each its own text.
    assert bind(first.astimezone(PARIS)) == "2026-12-06 14:00:00.000000"
    assert bind(first + timedelta(microseconds=1)) == "2026-12-06 14:00:00.000001"
    with pytest.raises(ValueError, match="naive"):
        bind(first.replace(tzinfo=None))


async def test_sqlite_reads_the_texts_written_before(make_settings: SettingsFactory) -> None:
    engine = db.create_engine(make_settings())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                text(
                    "INSERT INTO stamps (id, at) VALUES (1, '2026-12-06 14:00:00.000001'), "
                    "(2, '2026-12-06 14:00:00'), (3, '2026-12-06T15:00:00+01:00')"
                )
            )
            rows = (await connection.execute(select(stamps.c.at).order_by(stamps.c.id))).all()
    finally:
        await engine.dispose()
    expected = datetime(2026, 12, 6, 14, tzinfo=UTC)
    assert [row.at for row in rows] == [
        expected + timedelta(microseconds=1),
        expected,
        expected,
    ]
