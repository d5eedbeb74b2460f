"""SQLite through aiosqlite in one trip per statement.

aiosqlite runs a connection's calls on its own thread; SQLAlchemy's adapter makes one
call per cursor step: open a cursor, execute, fetch the rows, close. Each call is a trip
to that thread and back through the event loop, and under load the way back waits for
the loop's turn: a write group of ten statements spent 28 of its 31 ms in those waits
(docs/architecture.md, Performance). This cursor does a statement's steps in a single
call, on the same thread and connection, so its database work and its results are the
same; only the trips are fewer. Server-side cursors (streamed results) keep the
adapter's own cursor.

Within `batched_writes()` even fewer: a statement that returns no rows (an INSERT,
UPDATE or DELETE without RETURNING) is held, and sent with the next statement that
returns rows, or with the commit, in the same single call. The event writer's group
(docs/architecture.md, Performance) writes six or seven kinds of rows after its reads;
each trip's way back waited behind every message the loop was busy with, while the
database's thread had nothing to do.

It uses what SQLAlchemy's own adapter uses of aiosqlite beyond its public API (the
connection's queue of calls and its sqlite3 connection): `_execute` and `_conn`.
"""

from __future__ import annotations

import collections
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_

_BATCHED: ContextVar[bool] = ContextVar("netra_sqlite_batched_writes", default=False)
Held = tuple[str, Any, bool]  # a statement not sent yet: operation, parameters, many


@contextmanager
def batched_writes() -> Iterator[None]:
    """Statements of this context that return no rows go to SQLite with the next one
    that does, or with the commit: one call to the connection's thread for all of them,
    in their order. A held statement's error (a constraint it breaks) is raised by that
    later statement or by the commit, which then does not happen; a rollback drops what
    is held. Other databases' drivers do not look at it."""
    token = _BATCHED.set(True)
    try:
        yield
    finally:
        _BATCHED.reset(token)


@lru_cache(maxsize=512)
def _returns_nothing(operation: str) -> bool:
    """An INSERT, UPDATE or DELETE without RETURNING (anything else is sent at once)."""
    head = operation.lstrip()[:6].upper()
    return head in ("INSERT", "UPDATE", "DELETE") and not _RETURNING.search(operation)


_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


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
    connection: aiosqlite.Connection,
    held: list[Held],
    operation: str,
    parameters: Any,
    many: bool,
) -> tuple[_Outcome, list[Any]]:
    """On the connection's thread: the statements held for it, then the whole of one
    statement."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        for statement in held:
            _execute(cursor, *statement)
        _execute(cursor, operation, parameters, many)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(cursor.description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


def _send(connection: aiosqlite.Connection, held: list[Held], commit: bool) -> None:
    """On the connection's thread: the statements held, then (`commit`) the commit, not
    reached if one of them fails."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        for statement in held:
            _execute(cursor, *statement)
    finally:
        cursor.close()
    if commit:
        connection._conn.commit()


async def _held() -> None:
    """What a held statement awaits: nothing."""


def _execute(cursor: sqlite3.Cursor, operation: str, parameters: Any, many: bool) -> None:
    if many:
        cursor.executemany(operation, parameters)
    elif parameters is None:
        cursor.execute(operation)
    else:
        cursor.execute(operation, parameters)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one call to aiosqlite's thread instead of three or four."""

    __slots__ = ()
    _awaitable_cursor_close = False  # nothing is left open to close

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._statement(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._statement(operation, seq_of_parameters, many=True)

    def _statement(self, operation: str, parameters: Any, many: bool) -> None:
        adapted: _Connection = self._adapt_connection  # type: ignore[assignment]
        if _BATCHED.get() and _returns_nothing(operation):
            adapted.held.append((operation, parameters, many))
            self._cursor = _Outcome()  # type: ignore[assignment]
            self._rows = collections.deque()
            # SQLAlchemy's async API requires each statement to await something: this
            # completes without giving the loop away.
            await_(_held())
            return
        try:
            await_(self._trip(adapted, operation, parameters, many))
        except Exception as error:
            adapted._handle_exception(error)

    async def _trip(
        self, adapted: _Connection, operation: str, parameters: Any, many: bool
    ) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            held, adapted.held = adapted.held, []
            outcome, rows = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection, held, operation, parameters, many
            )
        self._cursor = outcome
        self._rows = collections.deque(rows)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("held",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.held: list[Held] = []  # statements not sent yet (batched_writes)

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self.held:  # a streamed read comes after what is held
            self._send_held(commit=False)
        return super().cursor(server_side)

    def commit(self) -> None:
        if self.held:
            self._send_held(commit=True)
        else:
            super().commit()

    def _send_held(self, *, commit: bool) -> None:
        held, self.held = self.held, []
        try:
            await_(self._connection._execute(_send, self._connection, held, commit))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        self.held = []  # never sent: nothing of them to undo
        super().rollback()

    def close(self) -> None:
        self.held = []
        super().close()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI whose connections make `OneTripCursor`s; given to
    `create_async_engine(module=...)` for a SQLite URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        return _Connection(self, super().connect(*arg, **kw)._connection)
