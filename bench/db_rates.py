"""The database's own rate for the writes of a run, beside which bench/ws_latency.py prints
Netra's messages/s: the same tables (migrated by the server under test, so their indexes
and full-text columns count), written by the bare driver with no Python of Netra's in the
way; on SQLite with the full-text rows Netra writes beside each message
(netra.chat.search.FTS5_INSERTS).

A message is written as a run writes it: the thread's seqs taken (UPDATE ... RETURNING),
the user's message, its run, 7 event rows, the run completed and the answer. Two
patterns: one transaction per message (CONCURRENCY connections on PostgreSQL; SQLite has
one writer), and group commit (GROUP messages per transaction)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from netra.chat.search import FTS5_INSERTS

EVENTS = 7
GROUP = 100
CONCURRENCY = 10
PAYLOAD = json.dumps({"text": "x" * 150})

_TAKE_SEQS = "UPDATE threads SET last_seq = last_seq + {n}, updated_at = {p} WHERE id = {p}"
_TAKE_MANY = "UPDATE threads SET last_seq = last_seq + {n}, updated_at = $1 WHERE id = ANY($2)"
_MESSAGE = (
    "INSERT INTO messages (id, thread_id, role, content, client_msg_id, run_id, created_at) "
    "VALUES ({ps})"
)
_RUN = (
    "INSERT INTO runs (id, thread_id, user_message_id, status, provider, instance_id, "
    "lease_expires_at, started_at, created_at) VALUES ({ps})"
)
_EVENT = "INSERT INTO run_events (thread_id, seq, run_id, type, payload, ts) VALUES ({ps})"
_END_RUN = "UPDATE runs SET status = 'completed', finished_at = {p} WHERE id = {p}"
_THREAD = "INSERT INTO threads (id, user_id, title, last_seq, updated_at, created_at) VALUES ({ps})"


def _sql(template: str, style: Callable[[int], str], count: int = 0) -> str:
    """A statement with `style(k)` placeholders ($1 for asyncpg, ? for sqlite3)."""
    marks = iter(range(1, 100))
    text = template.replace("{n}", str(EVENTS))
    while "{p}" in text:
        text = text.replace("{p}", style(next(marks)), 1)
    return text.replace("{ps}", ", ".join(style(next(marks)) for _ in range(count)))


class Message:
    """The rows of one message of a thread whose last seq is `last`."""

    def __init__(self, thread_id: str, last: int, now: Any) -> None:
        self.thread_id, self.last, self.now = thread_id, last, now
        self.run_id, self.message_id = str(uuid.uuid4()), str(uuid.uuid4())

    def take_seqs(self) -> tuple[Any, ...]:
        return (self.now, self.thread_id)

    def user_message(self) -> tuple[Any, ...]:
        return (
            self.message_id,
            self.thread_id,
            "user",
            "What is 1 + 1?",
            None,
            self.run_id,
            self.now,
        )

    def run(self) -> tuple[Any, ...]:
        row = (self.run_id, self.thread_id, self.message_id, "running", "builtin", "bench")
        return (*row, self.now, self.now, self.now)

    def events(self) -> list[tuple[Any, ...]]:
        return [
            (self.thread_id, self.last + k, self.run_id, "message_delta", PAYLOAD, self.now)
            for k in range(1, EVENTS + 1)
        ]

    def end_run(self) -> tuple[Any, ...]:
        return (self.now, self.run_id)

    def answer(self) -> tuple[Any, ...]:
        return (str(uuid.uuid4()), self.thread_id, "assistant", "2", None, self.run_id, self.now)


class PostgresRates:
    """Messages/s on PostgreSQL through asyncpg, on threads of a user of its own."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
        dollar = lambda k: f"${k}"  # noqa: E731
        self.take = _sql(_TAKE_SEQS, dollar) + " RETURNING last_seq"
        self.take_many = _TAKE_MANY.format(n=EVENTS)
        self.message, self.run = _sql(_MESSAGE, dollar, 7), _sql(_RUN, dollar, 9)
        self.event, self.end = _sql(_EVENT, dollar, 6), _sql(_END_RUN, dollar)

    async def _threads(self, conn: asyncpg.Connection, count: int) -> list[str]:
        now = datetime.now(UTC)
        ids = [str(uuid.uuid4()) for _ in range(count)]
        owner = f"baseline-{uuid.uuid4().hex[:8]}"
        await conn.executemany(
            _sql(_THREAD, lambda k: f"${k}", 6), [(i, owner, "baseline", 0, now, now) for i in ids]
        )
        return ids

    async def per_message(self, messages: int) -> float:
        """One transaction per message, CONCURRENCY connections at once."""
        conns = [await asyncpg.connect(self.dsn) for _ in range(CONCURRENCY)]
        try:
            threads = await self._threads(conns[0], CONCURRENCY)
            began = time.perf_counter()
            share = messages // CONCURRENCY
            pairs = zip(conns, threads, strict=True)
            await asyncio.gather(*(self._serial(c, t, share) for c, t in pairs))
            return share * CONCURRENCY / (time.perf_counter() - began)
        finally:
            await asyncio.gather(*(c.close() for c in conns))

    async def _serial(self, conn: asyncpg.Connection, thread_id: str, count: int) -> None:
        for _ in range(count):
            async with conn.transaction():
                now = datetime.now(UTC)
                last = await conn.fetchval(self.take, now, thread_id)
                m = Message(thread_id, last - EVENTS, now)
                await conn.execute(self.message, *m.user_message())
                await conn.execute(self.run, *m.run())
                await conn.executemany(self.event, m.events())
                await conn.execute(self.end, *m.end_run())
                await conn.execute(self.message, *m.answer())

    async def grouped(self, messages: int) -> float:
        """GROUP messages (of GROUP threads) per transaction, one connection."""
        conn = await asyncpg.connect(self.dsn)
        try:
            threads = await self._threads(conn, GROUP)
            began = time.perf_counter()
            for batch in range(messages // GROUP):
                async with conn.transaction():
                    now = datetime.now(UTC)
                    await conn.execute(self.take_many, now, threads)
                    group = [Message(t, batch * EVENTS, now) for t in threads]
                    await conn.executemany(self.message, [m.user_message() for m in group])
                    await conn.executemany(self.run, [m.run() for m in group])
                    await conn.executemany(self.event, [e for m in group for e in m.events()])
                    await conn.executemany(self.end, [m.end_run() for m in group])
                    await conn.executemany(self.message, [m.answer() for m in group])
            return messages // GROUP * GROUP / (time.perf_counter() - began)
        finally:
            await conn.close()


class SqliteRates:
    """Messages/s on the embedded SQLite file through sqlite3, with Netra's pragmas."""

    def __init__(self, path: str) -> None:
        self.path = path
        ask = lambda _: "?"  # noqa: E731
        self.take = _sql(_TAKE_SEQS, ask) + " RETURNING last_seq"
        self.message, self.run = _sql(_MESSAGE, ask, 7), _sql(_RUN, ask, 9)
        self.event, self.end = _sql(_EVENT, ask, 6), _sql(_END_RUN, ask)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _threads(self, conn: sqlite3.Connection, count: int) -> list[str]:
        now = datetime.now(UTC).isoformat()
        ids = [str(uuid.uuid4()) for _ in range(count)]
        owner = f"baseline-{uuid.uuid4().hex[:8]}"
        rows = [(i, owner, "baseline", 0, now, now) for i in ids]
        conn.executemany(_sql(_THREAD, lambda _: "?", 6), rows)
        return ids

    def _write(self, conn: sqlite3.Connection, group: list[Message]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for m in group:
            conn.execute(self.take, m.take_seqs()).fetchall()
        self._messages(conn, [m.user_message() for m in group])
        conn.executemany(self.run, [m.run() for m in group])
        conn.executemany(self.event, [e for m in group for e in m.events()])
        conn.executemany(self.end, [m.end_run() for m in group])
        self._messages(conn, [m.answer() for m in group])
        conn.execute("COMMIT")

    def _messages(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Messages with their full-text rows, as Netra writes them on SQLite."""
        conn.executemany(self.message, rows)
        keys, contents = FTS5_INSERTS["messages"]
        ids = {"ids": json.dumps([row[0] for row in rows])}
        conn.execute(keys, ids)
        conn.execute(contents, ids)

    def rate(self, messages: int, group: int) -> float:
        """Messages/s writing `group` messages (of `group` threads) per transaction."""
        conn = self._open()
        try:
            threads = self._threads(conn, group)
            began = time.perf_counter()
            for batch in range(messages // group):
                now = datetime.now(UTC).isoformat()
                self._write(conn, [Message(t, batch * EVENTS, now) for t in threads])
            return messages // group * group / (time.perf_counter() - began)
        finally:
            conn.close()

    async def per_message(self, messages: int) -> float:
        return await asyncio.to_thread(self.rate, messages, 1)

    async def grouped(self, messages: int) -> float:
        return await asyncio.to_thread(self.rate, messages, GROUP)
