"""Group commit of the event log (netra.chat.event_writer) on SQLite and, in the slow tier,
PostgreSQL: concurrent appends to many threads and to one thread are written in groups
and stay gap-free, a failing append fails only its own caller, a cancelled caller's
append never lands after what it does next, and stopping writes what was handed over."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select

from netra.agents.events import AgentError, MessageDelta
from netra.chat.errors import NoSuchThread
from netra.chat.eventlog import EventLog
from netra.chat.models import RunEvent, threads_table
from netra.chat.write_group import RunEnded
from tests.support.chat import Server, new_thread

APPENDS = 20  # per thread


def deltas(tag: str, count: int) -> list[MessageDelta]:
    return [MessageDelta(text=f"{tag}.{i}") for i in range(count)]


async def thread_log(events: EventLog, thread_id: str) -> list[RunEvent]:
    async with events.db() as session:
        rows = await session.scalars(
            select(RunEvent).where(RunEvent.thread_id == thread_id).order_by(RunEvent.seq)
        )
        return list(rows)


async def run_appends(events: EventLog, thread_id: str, run_id: str) -> list[int]:
    """APPENDS appends one after the other, as a run does; the seqs it was given."""
    seqs: list[int] = []
    for i in range(APPENDS):
        envelopes = await events.append(thread_id, run_id, deltas(f"{run_id}.{i}", 1 + i % 3))
        seqs += [e.seq for e in envelopes]
    return seqs


async def test_concurrent_runs_share_transactions_and_stay_gap_free(server: Server) -> None:
    events = server.backend.events
    assert events.writer.running
    threads = [await new_thread(server) for _ in range(8)]
    before = (events.writer.groups, events.writer.grouped)
    # Two runs on each of 8 threads at once: 320 appends in all.
    runs = [(t, f"{t[:8]}-{r}") for t in threads for r in range(2)]
    given = await asyncio.gather(*(run_appends(events, t, run) for t, run in runs))
    groups = events.writer.groups - before[0]
    grouped = events.writer.grouped - before[1]
    assert grouped == len(runs) * APPENDS
    assert groups < grouped / 2, (groups, grouped)  # concurrent appends were grouped
    for thread_id in threads:
        rows = await thread_log(events, thread_id)
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        for _, run in [x for x in runs if x[0] == thread_id]:
            mine = [r for r in rows if r.run_id == run]
            # Each run's events in the order it appended them, with the seqs it was told.
            texts = [r.payload["text"] for r in mine]
            assert texts == [f"{run}.{i}.{k}" for i in range(APPENDS) for k in range(1 + i % 3)]
            assert [r.seq for r in mine] == given[runs.index((thread_id, run))]


async def test_two_writers_on_shared_threads_never_deadlock(server: Server) -> None:
    """Two instances' writers (two event logs on one database) group appends to the same
    threads arriving in opposite orders: thread rows are locked in thread-id order, so on
    PostgreSQL no group deadlocks (a deadlock would fail the group into appends alone)."""
    other = EventLog(server.backend.events.db)
    other.writer.start()
    mine = server.backend.events
    try:
        threads = [await new_thread(server) for _ in range(6)]
        before = mine.writer.grouped
        runs = [(mine, t, f"a-{t[:8]}") for t in threads]
        runs += [(other, t, f"b-{t[:8]}") for t in reversed(threads)]
        await asyncio.gather(*(run_appends(log, t, run) for log, t, run in runs))
        assert mine.writer.grouped - before == len(threads) * APPENDS  # none alone
        assert other.writer.grouped == len(threads) * APPENDS
        for thread_id in threads:
            seqs = [r.seq for r in await thread_log(mine, thread_id)]
            assert seqs == list(range(1, 2 * sum(1 + i % 3 for i in range(APPENDS)) + 1))
    finally:
        await other.writer.stop()


async def test_a_failing_append_fails_only_its_caller(server: Server) -> None:
    events = server.backend.events
    kept, gone = await new_thread(server), await new_thread(server)
    async with events.db.begin() as session:
        await session.execute(delete(threads_table).where(threads_table.c.id == gone))
    results = await asyncio.gather(
        *(events.append(kept, "r", deltas(str(i), 2)) for i in range(10)),
        events.append(gone, "r", deltas("lost", 2)),
        *(events.append(kept, "r", deltas(str(i), 2)) for i in range(10, 20)),
        return_exceptions=True,
    )
    assert isinstance(results[10], NoSuchThread)
    fine = [r for i, r in enumerate(results) if i != 10]
    assert all(isinstance(r, list) and len(r) == 2 for r in fine), fine
    assert [r.seq for r in await thread_log(events, kept)] == list(range(1, 41))


async def test_a_cancelled_caller_waits_for_its_group(server: Server) -> None:
    """A cancelled run writes its end right after: whatever of its own is in a group
    lands first (or, not yet in one, not at all), so its end stays its last event."""
    events = server.backend.events
    thread_id = await new_thread(server)
    for _ in range(20):
        task = asyncio.create_task(events.append(thread_id, "r", deltas("x", 3)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        end = await events.append(thread_id, "r", deltas("end", 1))
        assert end[0].seq == max(r.seq for r in await thread_log(events, thread_id))
    seqs = [r.seq for r in await thread_log(events, thread_id)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_stopping_writes_every_append_handed_over(server: Server) -> None:
    events = server.backend.events
    thread_id = await new_thread(server)
    appends = [
        asyncio.create_task(events.append(thread_id, "r", deltas(str(i), 1))) for i in range(50)
    ]
    await asyncio.sleep(0)  # every append is in the writer's hands
    await events.writer.stop()
    assert not events.writer.running
    assert [len(await a) for a in appends] == [1] * 50
    # Stopped, the log still writes, alone.
    assert (await events.append(thread_id, "r", deltas("late", 1)))[0].seq == 51
    assert [r.seq for r in await thread_log(events, thread_id)] == list(range(1, 52))
    events.writer.start()


async def test_events_of_a_run_ended_elsewhere_are_refused(server: Server) -> None:
    """A sweeper that ended a run (its lease lapsed while its instance was starved) has
    the last word: the run's later events are not written, grouped or alone."""
    tid = await new_thread(server)
    async with server.http("alice") as client:
        posted = await client.post(f"/api/threads/{tid}/messages", json={"text": "hang"})
    run_id = posted.json()["run_id"]
    runs = server.backend.runs
    # What another instance's sweeper does: the run's end, recorded while it still runs.
    await runs.finish(run_id, tid, AgentError(reason="lease expired", code="internal"))
    events = server.backend.events
    before = [(r.seq, r.type) for r in await thread_log(events, tid)]
    assert before[-1][1] == "agent_error"
    together = [events.append(tid, run_id, deltas("late", 1))]
    other = await new_thread(server)
    together.append(events.append(other, "another-run", deltas("fine", 1)))
    late, fine = await asyncio.gather(*together, return_exceptions=True)
    assert isinstance(late, RunEnded)
    assert not isinstance(fine, BaseException)
    await events.writer.stop()  # written alone, as when no writer runs
    with pytest.raises(RunEnded):
        await events.append(tid, run_id, deltas("later", 1))
    assert [(r.seq, r.type) for r in await thread_log(events, tid)] == before
    async with events.db() as session:
        last = await session.scalar(
            select(threads_table.c.last_seq).where(threads_table.c.id == tid)
        )
    assert last == before[-1][0]  # no seq taken


async def test_a_run_ended_elsewhere_stops_with_its_end_last(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        posted = await client.post(
            f"/api/threads/{tid}/messages", json={"text": "slow " + "word " * 40}
        )
        run_id = posted.json()["run_id"]
        runs = server.backend.runs
        task = runs.tasks[run_id]
        await asyncio.sleep(0.3)  # some deltas written
        await runs.finish(run_id, tid, AgentError(reason="lease expired", code="internal"))
        await asyncio.wait_for(task, 10)  # the run notices at its next write and stops
        logged = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
        run = (await client.get(f"/api/runs/{run_id}")).json()
    types = [e["type"] for e in logged]
    assert types[0] == "agent_started"
    assert "message_delta" in types
    assert types[-1] == "agent_error"
    assert types.count("agent_error") + types.count("agent_completed") == 1
    assert logged[-1]["payload"] == {"reason": "lease expired", "code": "internal"}
    assert [e["seq"] for e in logged] == list(range(1, len(logged) + 1))
    assert (run["status"], run["error"]) == ("failed", "lease expired")


def group_sizes(events: EventLog) -> list[int]:
    """The sizes of the groups `events`' writer writes from now on, in order."""
    sizes: list[int] = []
    write = events.writer._write

    async def counted(group: list) -> None:  # type: ignore[type-arg]
        sizes.append(len(group))
        await write(group)

    events.writer._write = counted  # type: ignore[method-assign]
    return sizes


async def test_groups_are_larger_with_one_lane(server: Server) -> None:
    """One lane (SQLite) takes up to MAX_GROUP_ONE_LANE jobs a transaction; several lanes
    (PostgreSQL) MAX_GROUP each."""
    from netra.chat.event_writer import MAX_GROUP, MAX_GROUP_ONE_LANE

    assert EventLog(server.backend.events.db, lanes=1).writer.max_group == MAX_GROUP_ONE_LANE
    assert EventLog(server.backend.events.db, lanes=3).writer.max_group == MAX_GROUP
    events = EventLog(server.backend.events.db, lanes=1)
    events.writer.start()
    try:
        threads = [await new_thread(server) for _ in range(3)]
        jobs = MAX_GROUP_ONE_LANE + 100  # all handed over in one turn of the loop
        sizes = group_sizes(events)
        await asyncio.gather(
            *(events.append(threads[k % 3], f"r{k % 3}", deltas(f"j{k}", 1)) for k in range(jobs))
        )
        assert sum(sizes) == jobs
        assert max(sizes) == MAX_GROUP_ONE_LANE
    finally:
        await events.writer.stop()


async def test_a_small_group_lingers_and_a_crowd_goes_at_once(server: Server) -> None:
    """After a group with company, a group that would be small waits EVENT_LINGER for
    jobs about to come; LINGER_UNDER jobs or more already waiting go at once."""
    from netra.chat.event_writer import LINGER_UNDER, MAX_LINGER

    events = EventLog(server.backend.events.db, linger=MAX_LINGER, lanes=1)
    events.writer.start()
    try:
        threads = [await new_thread(server) for _ in range(2)]
        sizes = group_sizes(events)

        async def late(k: int) -> None:  # handed over well within the linger
            await asyncio.sleep(MAX_LINGER / 10)
            await events.append(threads[1], "late", deltas(f"late{k}", 1))

        async def batch(count: int) -> None:
            await asyncio.gather(
                *(events.append(threads[0], "r", deltas(f"j{k}", 1)) for k in range(count))
            )

        await batch(2)  # company: the next group may linger
        await asyncio.gather(batch(1), late(1))
        assert sizes[-1] == 2  # the late job joined the lingering one
        await asyncio.gather(batch(LINGER_UNDER), late(2))
        assert sizes[-2:] == [LINGER_UNDER, 1]  # the crowd did not wait for it
    finally:
        await events.writer.stop()
