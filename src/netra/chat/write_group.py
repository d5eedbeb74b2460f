"""One transaction of the event writer (netra.chat.event_writer): a group of jobs of
concurrent runs, each checked under the locks it would take alone, and written with one
statement per kind of row for the whole group (executemany), not one per job.

- `Append`: a running run's events, with its thread's next seqs.
- `Post`: a user's message, its run and the run's `agent_started`; the thread then shows
  the message. Refused (nothing written) for a thread the user does not own
  (NoSuchThread), or one whose run is going (RunActive: one run per thread).
- `End`: a run's last events and terminal event, its status, its answer (shown if its
  question still is) and its usage rows. Only the first end of a run counts: a run ended
  already gets no envelopes.

Locks, in the order every instance takes them (so groups never deadlock): the rows of the
group's runs in id order, then its threads in id order, then the usage rows in key order.
Under them each job is decided in arrival order, as if alone, and what it writes is seen
by the jobs after it (a post after its thread's run ended in the same group goes in)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON

from netra.agents.events import AgentEvent
from netra.chat import tree
from netra.chat.envelope import Envelope, insert_envelopes, numbered_envelopes
from netra.chat.errors import NoSuchMessage, NoSuchThread, RunActive
from netra.chat.models import (
    ACTIVE,
    ChatBase,
    Message,
    MessageFile,
    Run,
    messages_table,
    runs_table,
    threads_table,
)
from netra.chat.search import insert_searchable
from netra.db.lists import in_list
from netra.usage.records import UsageRows, write_usage


class RunEnded(Exception):
    """A run's events came after its end was recorded (another instance's sweeper ended
    it: its lease expired while this instance was too starved to renew it). They are not
    written: a run's terminal event is its last (docs/protocol.md)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} was ended elsewhere; its later events are dropped")
        self.run_id = run_id


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Append:
    thread_id: str
    run_id: str
    events: Sequence[AgentEvent]
    done: asyncio.Future[Any] = field(default_factory=_future, repr=False)


@dataclass(eq=False)
class Post:
    owner: str
    message: Message
    run: Run
    started: AgentEvent
    # SHOWN_LEAF: what the thread shows; None: a new root; else a message of the thread.
    parent: str | tree.Shown | None = tree.SHOWN_LEAF
    file_ids: Sequence[str] = ()
    done: asyncio.Future[Any] = field(default_factory=_future, repr=False)
    # Read from the message and the run once (a group reads them several times a job).
    thread_id: str = field(init=False)
    run_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.thread_id, self.run_id = self.message.thread_id, self.run.id


@dataclass(eq=False)
class End:
    thread_id: str
    run_id: str
    events: Sequence[AgentEvent]  # the last ones, then the terminal event
    outcome: dict[str, Any]  # b_status, b_error and (completed) b_usage
    answer: Message | None = None  # a completed run's answer, a child of `question`
    question: str | None = None
    usage: UsageRows | None = None
    done: asyncio.Future[Any] = field(default_factory=_future, repr=False)


Job = Append | Post | End


@dataclass
class _Thread:
    """A locked thread row as the group leaves it."""

    owner: str
    last_seq: int
    leaf: str | None
    touched: bool = False


@dataclass
class _Rows:
    """What the group writes, gathered while its jobs are decided."""

    ended: list[dict[str, Any]] = field(default_factory=list)
    completed: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)
    usage: list[UsageRows] = field(default_factory=list)


async def write(session: AsyncSession, jobs: Sequence[Job], now: datetime) -> list[Any]:
    """Decide and write `jobs` in the caller's transaction; each one's result (envelopes,
    or for a post its first envelope) or the exception refusing it, in job order. A
    refused job writes nothing; a failing statement fails the whole group (the caller
    then writes each job alone)."""
    group = _Group(session, now)
    await group.lock(jobs)
    results: list[Any] = []
    for job in jobs:
        thread = group.threads.get(job.thread_id)
        if isinstance(job, Append):
            results.append(group.append(job, thread))
        elif isinstance(job, End):
            results.append(group.end(job, thread))
        else:
            results.append(await group.post(job, thread))
    await _write_rows(session, group.out, group.threads, now)
    return results


class _Group:
    """The locked rows of a group's runs and threads, as its jobs leave them."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.status: dict[str, str] = {}  # run id -> status
        self.threads: dict[str, _Thread] = {}
        self.busy: dict[str, str] = {}  # thread id -> its active run
        self.out = _Rows()

    async def lock(self, jobs: Sequence[Job]) -> None:
        session = self.session
        run_ids = [job.run_id for job in jobs if not isinstance(job, Post)]
        if run_ids:
            self.status = await lock_runs(session, run_ids)
        thread_ids = sorted({job.thread_id for job in jobs})
        rows = await session.execute(_LOCK_THREADS, {"b_threads": thread_ids})
        self.threads = {id: _Thread(owner, last, leaf) for id, owner, last, leaf in rows}
        posting = sorted({job.thread_id for job in jobs if isinstance(job, Post)})
        if posting:
            found = await session.execute(_BUSY, {"b_threads": posting})
            self.busy = {str(row[0]): str(row[1]) for row in found}

    def numbered(self, job: Job, thread: _Thread, events: Sequence[AgentEvent]) -> list[Envelope]:
        first = thread.last_seq + 1
        thread.last_seq += len(events)
        thread.touched = True
        envelopes = numbered_envelopes(job.thread_id, job.run_id, events, first, self.now)
        self.out.events += envelopes
        return envelopes

    def append(self, job: Append, thread: _Thread | None) -> list[Envelope] | Exception:
        if self.status.get(job.run_id, "running") not in ACTIVE:
            return RunEnded(job.run_id)
        if thread is None:
            return NoSuchThread(job.thread_id)
        return self.numbered(job, thread, job.events)

    def end(self, job: End, thread: _Thread | None) -> list[Envelope]:
        if self.status.get(job.run_id) not in ACTIVE or thread is None:
            return []  # ended already (or gone with its thread)
        self.status[job.run_id] = job.outcome["b_status"]
        if self.busy.get(job.thread_id) == job.run_id:
            del self.busy[job.thread_id]
        out = self.out
        params = {"b_run": job.run_id, "b_now": self.now, **job.outcome}
        (out.completed if "b_usage" in job.outcome else out.ended).append(params)
        if job.answer is not None:
            out.messages.append(_values(job.answer))
            if job.question is not None and thread.leaf == job.question:
                thread.leaf = job.answer.id
        if job.usage is not None:
            out.usage.append(job.usage)
        return self.numbered(job, thread, job.events)

    async def post(self, job: Post, thread: _Thread | None) -> Envelope | Exception:
        if thread is None or thread.owner != job.owner:
            return NoSuchThread(job.thread_id)
        if job.thread_id in self.busy:
            return RunActive(self.busy[job.thread_id], job.thread_id)
        try:
            parent = (
                thread.leaf
                if job.parent is tree.SHOWN_LEAF
                else await tree.parent_for(self.session, job.thread_id, job.parent)
            )
        except NoSuchMessage as refusal:
            return refusal
        job.message.parent_id = parent
        out = self.out
        out.messages.append(_values(job.message))
        out.runs.append(_values(job.run))
        out.files += [
            {"message_id": job.message.id, "file_id": file_id, "position": index}
            for index, file_id in enumerate(job.file_ids)
        ]
        self.busy[job.thread_id] = job.run.id
        thread.leaf = job.message.id
        return self.numbered(job, thread, [job.started])[0]


async def lock_runs(session: AsyncSession, run_ids: Sequence[str]) -> dict[str, str]:
    """Lock these runs' rows (PostgreSQL) in id order, the order every transaction
    that locks several runs takes them (no deadlock); their statuses."""
    found = await session.execute(_LOCK_RUNS, {"b_runs": sorted(set(run_ids))})
    return {str(row[0]): str(row[1]) for row in found}


async def _write_rows(
    session: AsyncSession, out: _Rows, threads: dict[str, _Thread], now: datetime
) -> None:
    """One statement per kind of row (none for a kind with no rows); new messages with
    their search index (netra.chat.search.insert_searchable)."""
    moved = [
        {"b_thread": id, "b_last": t.last_seq, "b_leaf": t.leaf, "b_now": now}
        for id, t in threads.items()
        if t.touched
    ]
    await insert_searchable(session, messages_table, out.messages)
    for statement, params in (
        (_END_RUN, out.ended),
        (_COMPLETE_RUN, out.completed),
        (_INSERT_RUN, out.runs),
        (_INSERT_FILE, out.files),
        (_MOVE_THREAD, moved),
    ):
        if params:
            await session.execute(statement, params)
    await insert_envelopes(session, out.events)
    if out.usage:
        await write_usage(session, out.usage)


def _values(row: ChatBase) -> dict[str, Any]:
    """Every column of a new row, so the group's rows share one statement; a JSON column
    left unset is left out (it must be SQL NULL, not JSON null), as every new row of a
    kind leaves the same ones unset. Read from the object's dict (a new row's attributes
    are all there), not through its instrumented attributes."""
    given = vars(row)
    return {
        key: given.get(key)
        for key, json in _columns(cast(Table, row.__table__))
        if not (json and given.get(key) is None)
    }


@cache
def _columns(table: Table) -> tuple[tuple[str, bool], ...]:
    """A table's column keys, each with whether it is JSON."""
    return tuple((column.key, isinstance(column.type, JSON)) for column in table.columns)


_runs, _threads = runs_table, threads_table
_LOCK_RUNS = (
    select(_runs.c.id, _runs.c.status)
    .where(in_list(_runs.c.id, "b_runs"))
    .order_by(_runs.c.id)
    .with_for_update()
)
_LOCK_THREADS = (
    select(_threads.c.id, _threads.c.user_id, _threads.c.last_seq, _threads.c.active_leaf_id)
    .where(in_list(_threads.c.id, "b_threads"))
    .order_by(_threads.c.id)
    .with_for_update()
)
_BUSY = select(_runs.c.thread_id, _runs.c.id).where(
    in_list(_runs.c.thread_id, "b_threads"), _runs.c.status.in_(ACTIVE)
)
_END_RUN = (
    update(_runs)
    .where(_runs.c.id == bindparam("b_run"))
    .values(
        status=bindparam("b_status"),
        error=bindparam("b_error"),
        finished_at=bindparam("b_now"),
        lease_expires_at=None,
    )
)
_COMPLETE_RUN = _END_RUN.values(usage=bindparam("b_usage"))
_MOVE_THREAD = (
    update(_threads)
    .where(_threads.c.id == bindparam("b_thread"))
    .values(
        last_seq=bindparam("b_last"),
        active_leaf_id=bindparam("b_leaf"),
        updated_at=bindparam("b_now"),
    )
)
_INSERT_RUN = insert(runs_table)
_INSERT_FILE = insert(cast(Table, MessageFile.__table__))
