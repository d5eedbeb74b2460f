"""Messages arriving come first (netra.chat.run_queue): while one is being stored a run
waits rather than take a free worker, and starts once it is stored, or after HOLD_MAX
if messages keep arriving. A message's own run is not held by it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import pytest

from netra.agents.runtime import Agent
from netra.chat import run_queue
from netra.chat.legs import Leg
from netra.chat.run_queue import RunQueue, Waiting
from netra.testing import eventually


class Workers:
    """A RunQueue whose legs run until `finish`; `started` lists their run ids."""

    def __init__(self, workers: int) -> None:
        self.started: list[str] = []
        self.done = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.queue = RunQueue(workers, self._begin)

    def _begin(self, item: Waiting) -> asyncio.Task[None]:
        self.started.append(item.leg.run_id)
        task = asyncio.create_task(self._work(), name=item.leg.run_id)
        self.tasks.append(task)
        return task

    async def _work(self) -> None:
        await self.done.wait()

    async def finish(self) -> None:
        self.done.set()
        await asyncio.gather(*self.tasks)


def leg(user: str, run: str) -> Waiting:
    return Waiting(
        cast(Leg, SimpleNamespace(user_id=user, run_id=run)), cast(Agent, None), "builtin"
    )


@pytest.fixture
async def two() -> AsyncIterator[Workers]:
    workers = Workers(2)
    yield workers
    await workers.finish()


async def test_a_run_waits_while_a_message_is_stored(two: Workers) -> None:
    queue = two.queue
    with queue.arrive() as arrival:
        assert queue.busy  # a worker is free, but a message is on its way in
        assert queue.submit(leg("alice", "r1")) is True
        assert two.started == []
        assert queue.run_ids() == ["r1"]
        arrival.stored()
        assert two.started == ["r1"]
    assert not queue.busy
    assert queue.run_ids() == []


async def test_every_arrival_is_waited_for(two: Workers) -> None:
    queue = two.queue
    first, second = queue.arrive(), queue.arrive()
    queue.submit(leg("alice", "r1"))
    first.stored()
    first.stored()  # once only: the second arrival still holds the run
    assert two.started == []
    second.stored()
    assert two.started == ["r1"]


async def test_a_message_s_own_run_starts_at_once_once_it_is_stored(two: Workers) -> None:
    queue = two.queue
    with queue.arrive() as arrival:
        arrival.stored()  # as post_message does, before it submits the run
        assert queue.submit(leg("alice", "r1")) is False
    assert two.started == ["r1"]


async def test_a_failed_arrival_holds_nothing(two: Workers) -> None:
    queue = two.queue

    def refused() -> None:
        with queue.arrive():
            queue.submit(leg("alice", "r1"))
            raise RuntimeError("refused: rate limited")

    with pytest.raises(RuntimeError, match="refused"):
        refused()
    assert two.started == ["r1"]
    assert queue.arriving == 0


async def test_arrivals_hold_a_run_for_hold_max_at_most(
    two: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_queue, "HOLD_MAX", 0.5)
    queue = two.queue
    with queue.arrive():  # never stored while the run waits: messages keep arriving
        submitted = time.monotonic()
        queue.submit(leg("alice", "r1"))
        assert two.started == []

        async def started() -> list[str] | None:
            return two.started or None

        assert await eventually(started, 5.0, "the held run's start") == ["r1"]
        assert time.monotonic() - submitted >= 0.5  # held until then, not before
        queue.submit(leg("bob", "r2"))  # a new one waits its own HOLD_MAX
        assert two.started == ["r1"]
    assert two.started == ["r1", "r2"]


async def test_held_runs_take_their_turns_by_user_when_released(two: Workers) -> None:
    queue = two.queue
    with queue.arrive():
        for user, run in [("alice", "a1"), ("alice", "a2"), ("bob", "b1")]:
            queue.submit(leg(user, run))
    assert two.started == ["a1", "b1"]  # two workers: Bob's turn before Alice's second
    assert queue.run_ids() == ["a2"]
