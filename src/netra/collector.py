"""Python's cycle collector in a server process (docs/architecture.md, Performance).

Most objects are freed by reference counting the moment they are dropped; the cycle
collector exists for the rest, and it pauses the whole event loop while it traces every
young object still alive. Two rules keep those pauses off the paths people wait on:

- `settle_heap`: once startup has completed, what it made (modules, schemas, compiled
  statements) is frozen, never traced again, and young objects are collected every
  10,000 net allocations instead of 700.
- `CollectorHold`: while messages are being stored (a thousand people pressing Send at
  once), every object of every message in flight is alive, and each collection traces
  them all (15-30 ms of a first wave of 1,000 messages) only to free none. The collector
  waits until a moment after the last one is stored, when most of them are gone, and
  never longer than `MAX_HOLD` at a time: garbage in cycles waits at most that long.

Both are a server process's (`netra serve`/`up`, the benches' servers: settle_heap runs
once they have started); elsewhere (tests, the CLI) the collector runs as Python runs it.
A test's event loop ends with the test, and a hold's timer with it."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import ClassVar

# Young objects are collected every 10,000 net allocations instead of 700.
GC_THRESHOLD = (10_000, 10, 10)
MAX_HOLD = 0.5  # seconds the collector waits at most, however busy the process stays
GRACE = 0.05  # after the last holder left: its answers are out, its objects mostly freed


def settle_heap() -> None:
    """Once startup has completed. What it made lives as long as the process: frozen, no
    collection scans it again. Under the burst of bench/ws_latency.py, full collections
    had been a quarter of a second each and most of the backend's collector time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    CollectorHold.in_server = True


class CollectorHold:
    """`hold()` while latency-bound work is in flight, `release()` once it is done: the
    collector waits from the first hold until `grace` after the last release, `max_hold`
    at most. It is held again only once it has collected (the allocations counted while
    it waited make that happen at once when it resumes). A collector disabled by someone
    else is left alone. Only in a server process (`in_server`, set by `settle_heap`)."""

    in_server: ClassVar[bool] = False  # settle_heap has run: a server process (see above)

    def __init__(self, max_hold: float = MAX_HOLD, grace: float = GRACE) -> None:
        self.max_hold, self.grace = max_hold, grace
        self.holders = 0
        self.held_since: float | None = None  # we disabled the collector then
        self.timer: asyncio.TimerHandle | None = None

    def hold(self) -> None:
        self.holders += 1
        if not self.in_server:
            return
        if self.held_since is not None and time.monotonic() - self.held_since > self.max_hold:
            self.resume()  # its timer never ran (its loop ended meanwhile): collect now
        if self.held_since is not None or not gc.isenabled():
            return
        if gc.get_count()[0] >= gc.get_threshold()[0]:
            return  # owes a collection (the last hold's): let it run first
        gc.disable()
        self.held_since = time.monotonic()
        self._resume_in(self.max_hold)

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0 and self.held_since is not None:
            self._resume_in(self.grace)

    @property
    def held(self) -> bool:
        return self.held_since is not None

    def _resume_in(self, delay: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(delay, self.resume)

    def resume(self) -> None:
        """Let the collector run again (now, and at once if it owes a collection)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.held_since is not None:
            self.held_since = None
            gc.enable()
