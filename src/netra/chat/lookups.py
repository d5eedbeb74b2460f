"""Reads that every message makes, for all the messages of one turn of the event loop
at once: before it is posted, its thread and its user's budget limits; when its run
starts, its thread's turns (the run's history). A thousand people pressing Send at once
cost a few dozen reads, not a thousand pool checkouts (aiodataloader batches the keys;
nothing is cached across batches, so what changed just now applies to the next one)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat import tree
from netra.chat.errors import NoSuchThread
from netra.chat.models import threads_table
from netra.db.lists import in_list
from netra.tokens import Principal
from netra.usage.budgets import Limits
from netra.usage.store import UsageStore

MAX_BATCH = 500  # keys per read: bounds one statement's parameters
ReadAhead = asyncio.Future[tree.Turns]  # a thread's turns being read (TurnsLoader.ahead)


@dataclass(frozen=True, slots=True)
class ThreadDefaults:
    """What a message takes from its thread: the model and assistant its run uses
    unless it names others (netra.chat.choice.ModelChoice.for_run). Read as four
    columns, not as the ORM's `Thread`: 500 threads loaded as objects cost the event
    loop ~7 ms, as rows ~3 ms (docs/architecture.md, Performance)."""

    id: str
    model: str | None
    assistant_id: str | None


@dataclass(frozen=True)
class Asked:
    user_id: str
    roles: tuple[str, ...]
    thread_id: str


class MessageLookups:
    def __init__(self, db: async_sessionmaker[AsyncSession], usage: UsageStore) -> None:
        self.db, self.usage = db, usage
        self._loader: DataLoader[Asked, tuple[ThreadDefaults | None, Limits]] | None = None

    async def look_up(self, user: Principal, thread_id: str) -> tuple[ThreadDefaults, Limits]:
        """What the user's thread gives its messages (NoSuchThread if it is not theirs) and
        the user's limits."""
        if self._loader is None:  # made on the running loop, at first use
            self._loader = DataLoader(self._load, cache=False, max_batch_size=MAX_BATCH)
        asked = Asked(user.subject, tuple(sorted(user.roles)), thread_id)
        thread, limits = await self._loader.load(asked)
        if thread is None:
            raise NoSuchThread(thread_id)
        return thread, limits

    async def _load(self, keys: Sequence[Asked]) -> list[tuple[ThreadDefaults | None, Limits]]:
        users = [(key.user_id, key.roles) for key in keys]
        async with self.db() as session:
            found = await session.execute(_THREADS, {"b_ids": sorted({k.thread_id for k in keys})})
            threads = {
                id: (owner, ThreadDefaults(id, model, assistant))
                for id, owner, model, assistant in found
            }
            limits = await self.usage.limits_of(session, users)
        answers: list[tuple[ThreadDefaults | None, Limits]] = []
        for key, user in zip(keys, users, strict=True):
            owner, thread = threads.get(key.thread_id, (None, None))
            answers.append((thread if owner == key.user_id else None, limits[user]))
        return answers


class TurnsLoader:
    """Threads' turns (netra.chat.tree.Turns), for runs starting together."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db
        self._loader: DataLoader[tuple[str, str], tree.Turns] | None = None

    async def turns(self, user_id: str, thread_id: str) -> tree.Turns:
        """The thread's turns; none unless it is `user_id`'s."""
        return await self.ahead(user_id, thread_id)

    def ahead(self, user_id: str, thread_id: str) -> ReadAhead:
        """The thread's turns, read now for a run that waits for a worker, so that it
        starts with its history instead of holding a worker through the read. What it
        reads stays true while the run waits: a thread takes no message while its run
        is going (RunActive), and the run's own answer is written at its end. The
        batch's own future for this thread: no task of its own."""
        if self._loader is None:  # made on the running loop, at first use
            self._loader = DataLoader(self._load, cache=False, max_batch_size=MAX_BATCH)
        return self._loader.load((user_id, thread_id))

    async def _load(self, keys: Sequence[tuple[str, str]]) -> list[tree.Turns]:
        threads = sorted({thread_id for _, thread_id in keys})
        found: dict[tuple[str, str], tree.Turns] = {}
        async with self.db() as session:
            rows = await session.execute(tree.TURNS_OF_THREADS, {"b_threads": threads})
            for thread_id, owner, id, parent, role, content in rows:
                found.setdefault((owner, thread_id), {})[id] = (parent, role, content)
        return [found.get(key, {}) for key in keys]


_t = threads_table.c
_THREADS = select(_t.id, _t.user_id, _t.model, _t.assistant_id).where(in_list(_t.id, "b_ids"))


def forget(read: ReadAhead | None) -> None:
    """A read ahead whose run will not start (cancelled while it waited, or the process
    stops): stopped, and a failure it met is not reported as unretrieved."""
    if read is None:
        return
    read.cancel()
    read.add_done_callback(lambda done: done.cancelled() or done.exception())
