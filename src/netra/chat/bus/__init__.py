"""The event bus: how instances learn that a thread has new events, or that a run
should stop. Notices carry references (thread id and seq range), never event bodies
across processes: readers fetch bodies from the event log."""

from netra.chat.bus.base import EventBus, Handler, Notice
from netra.chat.bus.memory import MemoryBus
from netra.chat.bus.redis import RedisBus
from netra.settings import Settings


def create_bus(settings: Settings, instance_id: str) -> EventBus:
    """Redis pub/sub when REDIS_URL is set, else in-process."""
    if settings.redis_url is not None:
        return RedisBus(settings.redis_url.get_secret_value(), instance_id)
    return MemoryBus()


__all__ = ["EventBus", "Handler", "MemoryBus", "Notice", "RedisBus", "create_bus"]
