"""One group transaction (netra.chat.write_group) on SQLite and, in the slow tier,
PostgreSQL: each job is decided as if it were alone, in arrival order, and sees what the
jobs before it wrote; a refused job writes nothing; a group that fails is written job by
job, so only the bad job's caller fails."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from netra.agents.events import AgentCompleted, AgentStarted, MessageDelta, Usage
from netra.chat.errors import NoSuchMessage, NoSuchThread, RunActive
from netra.chat.eventlog import EventLog
from netra.chat.models import Message, Run, RunEvent, Thread
from netra.chat.run_end import record_end
from netra.chat.store import _new_turn
from netra.chat.write_group import Append, End, Post, RunEnded, write
from netra.db.base import new_id, utcnow
from netra.health.metrics import Metrics
from tests.support.chat import ALICE, Server, new_thread

OWNER = {"id": ""}  # alice's account id, set by the `owner` fixture


@pytest.fixture(autouse=True)
async def owner(server: Server) -> None:
    OWNER["id"] = await server.users.id(ALICE)


def post(thread_id: str, text: str, owner: str | None = None, cid: str | None = None) -> Post:
    message, run = _new_turn(thread_id, text, cid)
    run.provider, run.lease_expires_at = "builtin", utcnow() + timedelta(seconds=30)
    started = AgentStarted(provider="builtin", model="m")
    return Post(owner or OWNER["id"], message, run, started)


def end(thread_id: str, run_id: str, question: str | None, text: str = "done") -> End:
    answer = Message(
        id=new_id(),
        thread_id=thread_id,
        role="assistant",
        content=text,
        run_id=run_id,
        created_at=utcnow(),
        parent_id=question,
    )
    terminal = AgentCompleted(text=text, usage=Usage(), duration_ms=1)
    outcome = {"b_status": "completed", "b_usage": {}, "b_error": None}
    return End(thread_id, run_id, [terminal], outcome, answer=answer, question=question)


async def group(events: EventLog, *jobs: Append | Post | End) -> list[object]:
    async with events.db.begin() as session:
        return await write(session, list(jobs), utcnow())


async def thread_row(events: EventLog, thread_id: str) -> Thread:
    async with events.db() as session:
        found = await session.get(Thread, thread_id)
        assert found is not None
        return found


async def test_jobs_in_one_group_see_what_the_ones_before_them_wrote(server: Server) -> None:
    events = server.backend.events
    tid = await new_thread(server)
    first = post(tid, "one")
    # The same thread twice in a group: the second finds the first's run going.
    started, refused = await group(events, first, post(tid, "two"))
    assert getattr(started, "seq", None) == 1
    assert isinstance(refused, RunActive)
    assert refused.run_id == first.run.id
    # Its run's events, its end, then a post to the freed thread: all in one group.
    closing = end(tid, first.run.id, question=first.message.id)
    after = post(tid, "three")
    late = Append(tid, first.run.id, [MessageDelta(text="late")])
    delta, ended, posted, dropped = await group(
        events, Append(tid, first.run.id, [MessageDelta(text="hi")]), closing, after, late
    )
    assert [e.seq for e in delta] == [2]  # type: ignore[attr-defined]
    assert [e.seq for e in ended] == [3]  # type: ignore[attr-defined]
    assert getattr(posted, "seq", None) == 4
    assert isinstance(dropped, RunEnded)
    # The answer was shown when it landed, so the next message follows it.
    assert after.message.parent_id == closing.answer.id  # type: ignore[union-attr]
    thread = await thread_row(events, tid)
    assert (thread.last_seq, thread.active_leaf_id) == (4, after.message.id)
    async with events.db() as session:
        seqs = list(await session.scalars(select(RunEvent.seq).where(RunEvent.thread_id == tid)))
        statuses = {row[0]: row[1] for row in await session.execute(select(Run.id, Run.status))}
        texts = list(await session.scalars(select(Message.content).where(Message.thread_id == tid)))
    assert sorted(seqs) == [1, 2, 3, 4]  # nothing of the refused post, nor of the late delta
    assert statuses == {first.run.id: "completed", after.run.id: "running"}
    assert sorted(texts) == ["done", "one", "three"]


async def test_refused_jobs_write_nothing(server: Server) -> None:
    events = server.backend.events
    tid, other = await new_thread(server), await new_thread(server)
    theirs = post(tid, "not mine", owner="mallory")
    edit = post(other, "edit")
    edit.parent = "no-such-message"
    ok = post(other, "fine")
    missing = post("no-such-thread", "lost")
    results = await group(events, theirs, edit, ok, missing)
    assert isinstance(results[0], NoSuchThread)
    assert isinstance(results[1], NoSuchMessage)
    assert getattr(results[2], "seq", None) == 1
    assert isinstance(results[3], NoSuchThread)
    # A run ended already: its second end counts for nothing.
    assert await group(events, end(other, ok.run.id, ok.message.id)) != []
    assert await group(events, end(other, ok.run.id, ok.message.id, "again")) == [[]]
    assert (await thread_row(events, tid)).last_seq == 0
    async with events.db() as session:
        count = await session.scalar(select(func.count()).select_from(Message))
    assert count == 2  # "fine" and its one answer


async def test_a_failing_job_fails_only_its_caller(server: Server) -> None:
    """A post repeating a stored client_msg_id breaks its group's INSERT: the group is
    then written job by job, and only that post's caller sees the IntegrityError."""
    events = server.backend.events
    threads = [await new_thread(server) for _ in range(6)]
    done = post(threads[0], "first", cid="c1")
    await events.submit(done)
    await events.submit(end(threads[0], done.run.id, done.message.id))
    assert events.writer.running
    jobs = [post(t, f"to {t}", cid="c1") for t in threads[1:]]
    again = post(threads[0], "first again", cid="c1")
    outcomes = await asyncio.gather(
        *(events.submit(job) for job in [*jobs[:2], again, *jobs[2:]]), return_exceptions=True
    )
    assert isinstance(outcomes[2], IntegrityError)
    fine = [o for i, o in enumerate(outcomes) if i != 2]
    assert [getattr(o, "seq", None) for o in fine] == [1] * 5, fine


async def test_record_end_counts_once(server: Server) -> None:
    events = server.backend.events
    tid = await new_thread(server)
    first = post(tid, "q")
    await events.submit(first)
    metrics = Metrics()
    terminal = AgentCompleted(text="a", usage=Usage(), duration_ms=1)
    kwargs = {"run_id": first.run.id, "thread_id": tid, "terminal": terminal}
    ends = await asyncio.gather(*(record_end(events, metrics, **kwargs) for _ in range(5)))
    assert sorted(len(e) for e in ends) == [0, 0, 0, 0, 1]
    assert metrics.runs.labels("completed")._value.get() == 1


@pytest.mark.parametrize("alone", [True, False])
async def test_a_group_of_one_is_the_same_as_alone(server: Server, alone: bool) -> None:
    events = server.backend.events
    tid = await new_thread(server)
    if alone:
        await events.writer.stop()
    try:
        first = post(tid, "q")
        envelope = await events.submit(first)
        assert (envelope.seq, envelope.type) == (1, "agent_started")
        with pytest.raises(RunActive):
            await events.submit(post(tid, "q2"))
    finally:
        events.writer.start()
