"""An ASGI app under uvicorn on a free 127.0.0.1 port: in the caller's event loop
(`async with AppServer(app)`), or in a thread of its own for synchronous callers
(`with AppServer(app).in_thread()`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from netra.serving import SERVER_OPTIONS
from netra.testing.ports import free_port
from netra.testing.waiting import eventually, wait_until

STARTUP_TIMEOUT = 30.0


class AppServer:
    """`app` served by uvicorn at `url`; `config` goes to `uvicorn.Config`."""

    def __init__(self, app: Any, port: int | None = None, **config: Any) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = {"log_config": None, "lifespan": "on", **SERVER_OPTIONS, **config}
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, **options)
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve in the running loop; returns once startup completed (raises if it failed)."""
        task = self.task = asyncio.create_task(self.server.serve())

        async def started() -> bool | None:  # uvicorn has no event for it
            if self.server.started:
                return True
            if task.done():
                task.result()
                raise RuntimeError(f"uvicorn stopped during startup on {self.url}")
            return None

        await eventually(started, STARTUP_TIMEOUT, f"uvicorn did not start on {self.url}", 0.02)

    async def stop(self) -> None:
        """Stop as SIGTERM would (lifespan shutdown included) and wait for it."""
        self.server.should_exit = True
        if self.task is not None:
            await self.task

    async def __aenter__(self) -> AppServer:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @contextmanager
    def in_thread(self) -> Iterator[AppServer]:
        """Serve from a thread with its own event loop, for synchronous callers."""
        thread = threading.Thread(target=asyncio.run, args=(self.server.serve(),), daemon=True)
        thread.start()

        def started() -> bool | None:
            if self.server.started:
                return True
            if not thread.is_alive():
                raise RuntimeError(f"uvicorn stopped during startup on {self.url}")
            return None

        try:
            wait_until(started, STARTUP_TIMEOUT, f"uvicorn did not start on {self.url}", 0.02)
            yield self
        finally:
            self.server.should_exit = True
            thread.join(timeout=STARTUP_TIMEOUT)
