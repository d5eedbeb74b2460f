"""Apps in the test's process: settings resolved like a process would, lifespan started,
an HTTP client talking to it over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from netra.settings import Settings

SettingsFactory = Callable[..., Settings]


@asynccontextmanager
async def running(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with its lifespan started, and an HTTP client talking to it in-process."""
    async with LifespanManager(app, startup_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


# `async with factory(**ENV) as client`: an app with these settings, served in process.
EmbeddedFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
