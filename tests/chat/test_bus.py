"""The event buses: notices reach this instance at once (with their envelopes) and,
over Redis, every other instance (without them), in the order they were published."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from netra.chat.bus.base import Notice
from netra.chat.bus.memory import MemoryBus
from netra.chat.bus.redis import RedisBus
from netra.testing import eventually

REDIS_URL = "redis://127.0.0.1:6379/0"  # scripts/ensure-services starts it


def _notices(origin: str) -> list[Notice]:
    return [Notice("events", origin, thread_id=f"t{k}", first_seq=k, last_seq=k) for k in (1, 2, 3)]


async def test_memory_bus_hands_many_notices_over_in_order() -> None:
    bus, got = MemoryBus(), list[Notice]()
    await bus.publish_many(_notices("a"))  # not started: nobody to hand them to
    await bus.start(got.append)
    await bus.publish_many(_notices("a"))
    await bus.publish(_notices("a")[0])
    assert [n.thread_id for n in got] == ["t1", "t2", "t3", "t1"]


async def test_redis_bus_publishes_many_here_at_once_and_there_in_order() -> None:
    channel = f"netra:test:{uuid.uuid4()}"
    here, there = RedisBus(REDIS_URL, "a", channel), RedisBus(REDIS_URL, "b", channel)
    mine: list[Notice] = []
    theirs: list[Notice] = []

    def keep(into: list[Notice]) -> Callable[[Notice], None]:
        def handle(notice: Notice) -> None:
            # A bus asks for a resync once subscribed (pub/sub replays nothing): not ours.
            if notice.kind != "resync":
                into.append(notice)

        return handle

    await here.start(keep(mine))
    await there.start(keep(theirs))
    try:
        notices = _notices("a")
        await here.publish_many(notices)
        assert mine == notices  # handled before the round trip, as they were
        await here.publish(Notice("cancel", "a", run_id="r1"))

        async def all_arrived() -> bool | None:
            return len(theirs) == 4 or None

        await eventually(all_arrived, 5.0, "the other instance's notices", 0.01)
        assert [(n.kind, n.thread_id, n.first_seq) for n in theirs[:3]] == [
            ("events", "t1", 1),
            ("events", "t2", 2),
            ("events", "t3", 3),
        ]
        assert theirs[3].run_id == "r1"
        assert all(n.envelopes == () for n in theirs)
    finally:
        await here.close()
        await there.close()
