"""Reads batched across the messages of one turn of the event loop (netra.chat.lookups),
on SQLite and, in the slow tier, PostgreSQL: many at once cost one statement per kind,
and each caller still gets only what is theirs, read now (nothing cached)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from netra.chat.errors import NoSuchThread
from netra.chat.lookups import MessageLookups, TurnsLoader
from netra.db.base import utcnow
from netra.usage.models import Budget
from tests.support.chat import ALICE, Server, new_thread
from tests.support.usage import principal


@contextmanager
def statements(server: Server) -> Iterator[list[str]]:
    """The SQL statements the backend's engine runs meanwhile."""
    seen: list[str] = []
    engine = server.backend.runtime.engine.sync_engine

    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_look_ups_of_one_turn_are_one_read_each_caller_getting_its_own(
    server: Server,
) -> None:
    lookups = MessageLookups(server.backend.threads.db, server.backend.usage)
    alice = await server.users.id(ALICE)
    bob = await server.users.id("bob")
    theirs = [await new_thread(server, ALICE) for _ in range(5)]
    async with server.backend.threads.db.begin() as session:
        session.add(Budget(scope="user", name=bob, messages_per_day=3, updated_at=utcnow()))
    asked = [(principal(alice), t) for t in theirs] + [(principal(bob), t) for t in theirs]
    asked.append((principal(alice), "no-such-thread"))
    with statements(server) as seen:
        answers = await asyncio.gather(
            *(lookups.look_up(u, t) for u, t in asked), return_exceptions=True
        )
    selects = [sql for sql in seen if "FROM threads" in sql or "FROM budgets" in sql]
    assert len(selects) == 2, selects  # the threads, and the budgets: not 11 of each
    for (user, thread_id), answer in zip(asked, answers, strict=True):
        if user.subject != alice or thread_id == "no-such-thread":
            assert isinstance(answer, NoSuchThread)  # bob's look-up of alice's thread too
            continue
        assert not isinstance(answer, BaseException)
        thread, limits = answer
        assert thread.id == thread_id
        assert limits.messages_per_day is None
    # bob's limits, through a thread of his own
    _, limits = await lookups.look_up(principal(bob), await new_thread(server, "bob"))
    assert limits.messages_per_day == 3
    # Nothing is kept: a budget changed now applies to the next look-up.
    async with server.backend.threads.db.begin() as session:
        session.add(Budget(scope="user", name=alice, messages_per_day=7, updated_at=utcnow()))
    _, limits = await lookups.look_up(principal(alice), theirs[0])
    assert limits.messages_per_day == 7


async def test_turns_of_runs_starting_together_are_one_read(server: Server) -> None:
    alice = await server.users.id(ALICE)
    threads = [await new_thread(server, ALICE) for _ in range(4)]
    async with server.http(ALICE) as client:
        for thread_id in threads:
            posted = await client.post(
                f"/api/threads/{thread_id}/messages", json={"text": f"hi {thread_id}"}
            )
            assert posted.status_code in (200, 201, 202), posted.text
    runs = server.backend.runs
    for _ in range(200):  # their runs read and write no more
        if not runs.tasks and not len(runs.queue):
            break
        await asyncio.sleep(0.05)
    loader = TurnsLoader(server.backend.threads.db)
    with statements(server) as seen:
        found = await asyncio.gather(
            *(loader.turns(alice, t) for t in threads), loader.turns("mallory", threads[0])
        )
    assert len([sql for sql in seen if "FROM messages" in sql]) == 1, seen
    for thread_id, turns in zip(threads, found, strict=False):
        texts = [content for _, role, content in turns.values() if role == "user"]
        assert texts == [f"hi {thread_id}"]
    assert found[-1] == {}  # not mallory's thread
