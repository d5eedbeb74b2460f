"""SQLite through aiosqlite in one trip per statement.

aiosqlite runs a connection's calls on its own thread; SQLAlchemy's adapter makes one
call per cursor step: open a cursor, execute, fetch the rows, close. Each call is a trip
to that thread and back through the event loop, and under load the way back waits for
the loop's turn: a write group of ten statements spent 28 of its 31 ms in those waits
(docs/architecture.md, Performance). This cursor does a statement's steps in a single
call, on the same thread and connection, so its database work and its results are the
same; only the trips are fewer. Server-side cursors (streamed results) keep the
adapter's own cursor.

It uses what SQLAlchemy's own adapter uses of aiosqlite beyond its public API (the
connection's queue of calls and its sqlite3 connection): `_execute` and `_conn`.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_


class _Outcome:
    """What an executed statement leaves for SQLAlchemy once its cursor is closed: the
    rows are read in the same call."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(
        self, description: Any = None, rowcount: int = -1, lastrowid: int | None = None
    ) -> None:
        self.description, self.rowcount, self.lastrowid = description, rowcount, lastrowid
        self.arraysize = 1

    def close(self) -> None:
        """Closed already, in the call that ran the statement."""


def _run(
    connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Outcome, list[Any]]:
    """On the connection's thread: the whole of one statement."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(cursor.description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one call to aiosqlite's thread instead of three or four."""

    __slots__ = ()
    _awaitable_cursor_close = False  # nothing is left open to close

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> None:
        try:
            await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome, rows = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection, operation, parameters, many
            )
        self._cursor = outcome
        self._rows = collections.deque(rows)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI whose connections make `OneTripCursor`s; given to
    `create_async_engine(module=...)` for a SQLite URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        return _Connection(self, super().connect(*arg, **kw)._connection)
