"""Admission of runs to this process's workers (docs/architecture.md, Performance).

A message is stored, acknowledged and its `agent_started` sent as soon as it arrives;
its run then executes when one of `RUN_WORKERS` is free. Runs waiting for a worker take
turns by user: the next worker goes to the user who has waited longest for one, so one
user's burst (many threads at once) does not hold back everyone else's first answer."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from netra.agents.runtime import Agent
from netra.chat.legs import Leg
from netra.chat.lookups import ReadAhead


@dataclass(frozen=True)
class Waiting:
    """A leg of a run and the agent that will drive it."""

    leg: Leg
    agent: Agent
    provider: str
    # Its thread's turns, read while it waits (netra.chat.lookups.TurnsLoader.ahead);
    # None: read when it starts.
    turns: ReadAhead | None = None


class RunQueue:
    """At most `workers` legs execute at once; the rest wait in per-user turns.

    `begin` starts a leg's task; the queue counts it until that task is done."""

    def __init__(self, workers: int, begin: Callable[[Waiting], asyncio.Task[None]]) -> None:
        self.workers = workers
        self.begin = begin
        self.running = 0
        # Users with legs waiting, in turn order (dict order), each with theirs, oldest first.
        self._turns: dict[str, deque[Waiting]] = {}
        self._waiting: dict[str, Waiting] = {}  # by run id

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._waiting

    def run_ids(self) -> list[str]:
        return list(self._waiting)

    def waiting(self, run_id: str) -> Waiting | None:
        return self._waiting.get(run_id)

    @property
    def busy(self) -> bool:
        """A leg submitted now would wait: every worker is taken, or others wait."""
        return self.running >= self.workers or bool(self._waiting)

    def submit(self, item: Waiting) -> bool:
        """Start `item` now if a worker is free and nobody waits; else queue it behind
        its user's earlier legs. True when it waits."""
        if not self.busy:
            self._start(item)
            return False
        self._turns.setdefault(item.leg.user_id, deque()).append(item)
        self._waiting[item.leg.run_id] = item
        return True

    def withdraw(self, run_id: str) -> Waiting | None:
        """Take a waiting leg out of the queue (cancelled, or the process stops)."""
        item = self._waiting.pop(run_id, None)
        if item is None:
            return None
        line = self._turns[item.leg.user_id]
        line.remove(item)
        if not line:
            del self._turns[item.leg.user_id]
        return item

    def withdraw_all(self) -> list[Waiting]:
        items = list(self._waiting.values())
        self._waiting.clear()
        self._turns.clear()
        return items

    def _start(self, item: Waiting) -> None:
        self.running += 1
        task = self.begin(item)
        task.add_done_callback(self._finished)

    def _finished(self, _: asyncio.Task[None]) -> None:
        self.running -= 1
        while self.running < self.workers and self._turns:
            user_id, line = next(iter(self._turns.items()))
            item = line.popleft()
            # This user's turn is used: they go to the back of the line.
            del self._turns[user_id]
            if line:
                self._turns[user_id] = line
            del self._waiting[item.leg.run_id]
            self._start(item)
