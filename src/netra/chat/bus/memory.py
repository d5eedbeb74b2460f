"""The in-process bus: one instance, nothing to join."""

from __future__ import annotations

from collections.abc import Sequence

from netra.chat.bus.base import Handler, Notice


class MemoryBus:
    name = "memory"

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, notice: Notice) -> None:
        if self._handler is not None:
            self._handler(notice)

    async def publish_many(self, notices: Sequence[Notice]) -> None:
        if self._handler is not None:
            for notice in notices:
                self._handler(notice)

    async def ping(self) -> str:
        return "in-process bus (single instance)"

    async def close(self) -> None:
        self._handler = None
