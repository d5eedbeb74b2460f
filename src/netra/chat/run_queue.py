"""Admission of runs to this process's workers (docs/architecture.md, Performance).

A message is stored, acknowledged and its `agent_started` sent as soon as it arrives;
its run then executes when the process has room: fewer than `RUN_WORKERS` runs going,
and the event loop not saturated (its timers firing more than `RUN_ADMISSION_LAG` late,
smoothed). Runs waiting take turns by user: the next start goes to the user who has
waited longest, so one user's burst (many threads at once) does not hold back everyone
else's first answer. Lag, not a count, is what says a process is saturated: a run bound
by the CPU and the database saturates it with a few dozen going, one waiting on a remote
model hardly at all with hundreds."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netra.agents.runtime import Agent
from netra.chat.legs import Leg

FLOOR = 4  # runs that go on however late the loop is
LAG_INTERVAL = 0.05  # seconds between two measures of the loop's lag
LAG_WEIGHT = 0.1  # of the newest measure in the smoothed lag (~10 measures: 0.5 s)
RAMP = 1  # waiting legs the lag's watcher starts per measure (a finished run is replaced)
MAKE_WAY = 0.1  # seconds a run's write waits at most for messages being admitted


@dataclass(frozen=True)
class Waiting:
    """A leg of a run and the agent that will drive it."""

    leg: Leg
    agent: Agent
    provider: str


class RunQueue:
    """At most `workers` legs execute at once; the rest wait in per-user turns.

    `begin` starts a leg's task; the queue counts it until that task is done."""

    def __init__(
        self,
        workers: int,
        begin: Callable[[Waiting], asyncio.Task[None]],
        lag_limit: float = 0.0,
        pool_exhausted: Callable[[], bool] = lambda: False,
    ) -> None:
        self.workers = workers
        self.begin = begin
        self.running = 0
        self.lag_limit = lag_limit  # seconds; 0: the count alone decides
        self.lag = 0.0  # the event loop's smoothed lag (seconds), set by `watch`
        self.pool_exhausted = pool_exhausted  # every database connection taken
        # Messages being admitted now; runs' writes make way for them (`make_way`).
        self.admissions = 0
        self._no_admissions = asyncio.Event()
        self._no_admissions.set()
        # Users with legs waiting, in turn order (dict order), each with theirs, oldest first.
        self._turns: dict[str, deque[Waiting]] = {}
        self._waiting: dict[str, Waiting] = {}  # by run id

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._waiting

    def run_ids(self) -> list[str]:
        return list(self._waiting)

    @property
    def saturated(self) -> bool:
        """The loop lags past the limit, or every database connection is taken, with
        more than a few runs going (those few always go on, so a lag or a pool taken
        from elsewhere never stops every run)."""
        if not self.lag_limit or self.running < FLOOR:
            return False
        return self.lag > self.lag_limit or self.pool_exhausted()

    @property
    def busy(self) -> bool:
        """A leg submitted now would wait: no room, or others wait already."""
        return self.running >= self.workers or self.saturated or bool(self._waiting)

    @contextlib.contextmanager
    def admitting(self) -> Iterator[None]:
        """Around admitting a message (its rules, its transaction, its `ack`)."""
        self.admissions += 1
        self._no_admissions.clear()
        try:
            yield
        finally:
            self.admissions -= 1
            if not self.admissions:
                self._no_admissions.set()

    async def make_way(self) -> None:
        """Before a run's next write: while messages are being admitted, wait for them
        (up to MAKE_WAY seconds), so a saturated process acknowledges what users send
        before it writes more answers; the answers then wait, not the sending."""
        if self.admissions and self.lag_limit and self.lag > self.lag_limit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_admissions.wait(), MAKE_WAY)

    async def watch(self, interval: float = LAG_INTERVAL) -> None:
        """Measure how late the loop runs a timer, forever (smoothed over about a
        second), and start waiting legs when the lag falls."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(interval)
            late = max(0.0, loop.time() - asked - interval)
            self.lag += LAG_WEIGHT * (late - self.lag)
            self._fill(RAMP)  # one more at a time: the lag shows what each one costs

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
        return [item for run_id in list(self._waiting) if (item := self.withdraw(run_id))]

    def _start(self, item: Waiting) -> None:
        self.running += 1
        task = self.begin(item)
        task.add_done_callback(self._finished)

    def _finished(self, _: asyncio.Task[None]) -> None:
        self.running -= 1
        self._fill()

    def _fill(self, most: int | None = None) -> None:
        """Start waiting legs (at `most` this many), a user's turn at a time, while
        there is room."""
        while self._turns and self.running < self.workers and not self.saturated:
            if most is not None:
                if most <= 0:
                    return
                most -= 1
            user_id, line = next(iter(self._turns.items()))
            item = line.popleft()
            # This user's turn is used: they go to the back of the line.
            del self._turns[user_id]
            if line:
                self._turns[user_id] = line
            del self._waiting[item.leg.run_id]
            self._start(item)
