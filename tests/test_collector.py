"""netra.collector.CollectorHold: the cycle collector waits while messages are being
stored, until a moment after the last one (or `max_hold`), and never past a collection
it owes; a collector someone else disabled is left alone."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest

from netra.chat.run_queue import RunQueue
from netra.collector import CollectorHold


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    # An earlier test's hold may have outlived its event loop (its timer never ran): the
    # next hold would end it (test_a_hold_whose_loop_ended_is_ended_by_the_next_one).
    gc.enable()
    threshold = gc.get_threshold()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CollectorHold, "in_server", True)  # as settle_heap leaves a server
        yield
    gc.set_threshold(*threshold)
    gc.enable()


async def test_held_from_the_first_hold_until_a_moment_after_the_last_release() -> None:
    hold = CollectorHold(max_hold=5.0, grace=0.05)
    hold.hold()
    hold.hold()
    assert not gc.isenabled()
    assert hold.held
    hold.release()
    await asyncio.sleep(0.1)
    assert not gc.isenabled()  # one holder is left
    hold.release()
    assert not gc.isenabled()  # for `grace` yet
    await asyncio.sleep(0.1)
    assert gc.isenabled()
    assert not hold.held


async def test_a_hold_ends_by_max_hold_however_long_the_holders_stay() -> None:
    hold = CollectorHold(max_hold=0.1, grace=5.0)
    hold.hold()
    started = time.monotonic()
    while not gc.isenabled():
        await asyncio.sleep(0.01)
        assert time.monotonic() - started < 2.0, "the hold outlived max_hold"
    assert hold.holders == 1
    assert not hold.held
    hold.release()
    assert gc.isenabled()


async def test_not_held_again_before_the_collection_it_owes() -> None:
    gc.set_threshold(100, 10, 10)
    hold = CollectorHold(max_hold=5.0, grace=0.0)
    hold.hold()
    kept = [[] for _ in range(1_000)]  # counted while the collector waits
    hold.resume()
    assert gc.get_count()[0] >= 100
    hold.release()
    hold.hold()  # owes a collection: not held
    assert gc.isenabled()
    assert not hold.held
    hold.release()
    gc.collect()
    hold.hold()
    assert not gc.isenabled()
    assert hold.held
    hold.resume()
    assert len(kept) == 1_000


async def test_a_collector_disabled_elsewhere_is_left_alone() -> None:
    gc.disable()
    hold = CollectorHold(max_hold=0.05, grace=0.0)
    hold.hold()
    assert not hold.held
    hold.release()
    await asyncio.sleep(0.1)
    assert not gc.isenabled()


async def test_a_hold_whose_loop_ended_is_ended_by_the_next_one() -> None:
    hold = CollectorHold(max_hold=0.05, grace=0.0)
    hold.hold()
    assert hold.timer is not None
    hold.timer.cancel()  # as if its loop had ended before the timer ran
    hold.release()
    hold.timer = None
    hold.held_since = time.monotonic() - 1.0
    hold.hold()  # stale: resumed (it owes nothing here, so it is held anew)
    assert hold.held_since is not None
    assert time.monotonic() - hold.held_since < 0.5
    hold.resume()
    assert gc.isenabled()


async def test_messages_being_stored_hold_the_collector_of_a_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def never(_: object) -> None:
        raise AssertionError("no leg starts here")

    queue = RunQueue(2, never)  # type: ignore[arg-type]
    queue.collector.grace = 0.0
    monkeypatch.setattr(CollectorHold, "in_server", False)
    with queue.arrive():  # not a server process (settle_heap has not run): not held
        assert gc.isenabled()
    monkeypatch.setattr(CollectorHold, "in_server", True)
    with queue.arrive() as first:
        assert not gc.isenabled()
        with queue.arrive():
            first.stored()
            assert not gc.isenabled()
    await asyncio.sleep(0.02)
    assert gc.isenabled()
