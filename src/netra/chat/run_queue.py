"""Admission of runs to this process's workers (docs/architecture.md, Performance).

A message is stored, acknowledged and its `agent_started` sent as soon as it arrives;
its run then executes when one of `RUN_WORKERS` is free. Runs waiting for a worker take
turns by user: the next worker goes to the user who has waited longest for one, so one
user's burst (many threads at once) does not hold back everyone else's first answer.

Messages arriving come first: while any is being stored (from its arrival to its
commit, `Arrival`), a run waits rather than take a worker, for `HOLD_MAX` at most. What
a person waits on after pressing Send is the ack and `agent_started`; a run's own events
can follow a moment later. When a thousand send at once this takes the runs off the
event loop while their messages are stored (docs/architecture.md, Performance). It
cannot starve the runs: a thread takes no message while its run waits (RunActive), so
the posts that can come first are at most one per thread, and HOLD_MAX bounds the rest.
Python's cycle collector waits for arriving messages too (netra.collector)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from netra.agents.runtime import Agent
from netra.chat.legs import Leg
from netra.chat.lookups import ReadAhead
from netra.collector import CollectorHold


@dataclass(frozen=True)
class Waiting:
    """A leg of a run and the agent that will drive it."""

    leg: Leg
    agent: Agent
    provider: str
    # Its thread's turns, read while it waits (netra.chat.lookups.TurnsLoader.ahead);
    # None: read when it starts.
    turns: ReadAhead | None = None
    # Its leg's first events were published when it was queued (not when it starts).
    announced: bool = False
    since: float = field(default_factory=time.monotonic)


# Seconds a waiting run gives way to arriving messages, at most. Longer than a run waits
# for a worker at saturation (about users / messages per second: 1.7 s for the bench's
# 1,000 users), or the hold would never apply there; short enough that a flood of posts
# beyond what the process can answer still lets the runs through.
HOLD_MAX = 5.0


class Arrival:
    """A message being stored (RunQueue.arrive): runs wait for it until `stored` (or
    until the `with` block ends, whichever is first)."""

    __slots__ = ("queue", "waiting")

    def __init__(self, queue: RunQueue) -> None:
        self.queue, self.waiting = queue, True
        queue.arriving += 1
        queue.collector.hold()

    def stored(self) -> None:
        if self.waiting:
            self.waiting = False
            self.queue.arriving -= 1
            self.queue.collector.release()
            self.queue.fill()

    def __enter__(self) -> Arrival:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stored()


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
        self.arriving = 0  # messages being stored (Arrival)
        # The cycle collector waits for them too (netra.collector).
        self.collector = CollectorHold()
        self._timer: asyncio.TimerHandle | None = None

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
        """A leg submitted now would wait: every worker is taken, others wait, or
        messages are being stored."""
        return self.running >= self.workers or bool(self._waiting) or self.arriving > 0

    def arrive(self) -> Arrival:
        """A message arrives: runs wait until it is stored (`with queue.arrive() as a:`,
        `a.stored()` once committed, before its own run is submitted)."""
        return Arrival(self)

    def submit(self, item: Waiting) -> bool:
        """Start `item` now if a worker is free, nobody waits and no message is being
        stored; else queue it behind its user's earlier legs. True when it waits."""
        if not self.busy:
            self._start(item)
            return False
        self._turns.setdefault(item.leg.user_id, deque()).append(item)
        self._waiting[item.leg.run_id] = item
        self.fill()  # held by arrivals only: the hold's timer starts now
        return item.leg.run_id in self._waiting

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
        self.fill()

    def fill(self) -> None:
        """Give free workers to waiting legs, users taking turns, unless messages are
        being stored and the next leg has waited less than HOLD_MAX."""
        while self.running < self.workers and self._turns:
            user_id, line = next(iter(self._turns.items()))
            if self.arriving and self._hold(line[0]):
                return
            item = line.popleft()
            # This user's turn is used: they go to the back of the line.
            del self._turns[user_id]
            if line:
                self._turns[user_id] = line
            del self._waiting[item.leg.run_id]
            self._start(item)

    def _hold(self, item: Waiting) -> bool:
        """True while `item` gives way to arriving messages; a timer then ends the hold
        by HOLD_MAX even if they keep coming."""
        left = item.since + HOLD_MAX - time.monotonic()
        if left <= 0:
            return False
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(left, self._held_long)
        return True

    def _held_long(self) -> None:
        self._timer = None
        self.fill()
