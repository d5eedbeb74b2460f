"""The lifecycle of one process, in one place: what its components share (`Runtime`),
what a component declares (`Component`), startup in logged phases, readiness of the
database and schema, drain on SIGTERM, stop; and the two edges that keep traffic off a
process that has not started (`StartupGate`, with its refusal, and `SocketLane`).

Components and request handlers import this module, never the composition root
(`netra.service.build_app`); they reach process state one way: `runtime_of(...)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from netra import db, http_errors
from netra.close_codes import Close
from netra.db import migrations
from netra.health import Check, CheckResult, HealthRegistry, tracing
from netra.health.metrics import Metrics
from netra.settings import Settings
from netra.tokens import Verifier

log = logging.getLogger("netra.startup")
T = TypeVar("T")


class Component(Protocol):
    """One service's part of an app. Everything the lifecycle needs is declared here,
    explicitly, by every component (none is discovered or hard-coded elsewhere)."""

    name: str
    schema: migrations.Schema

    @property
    def subprotocol(self) -> str | None:
        """The WebSocket subprotocol its sockets speak (None: it serves no sockets); the
        startup gate answers a socket it refuses in it, as the component itself would."""
        ...

    def routers(self) -> Sequence[APIRouter]: ...

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        """Its readiness checks, registered once it has started."""
        ...

    async def start(self, runtime: Runtime) -> None: ...

    async def drain(self) -> None:
        """The process is stopping and still connected: finish what was started."""
        ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    """What the components of one process share; lives on `app.state.runtime`."""

    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[Any]
    components: Sequence[Component]
    health: HealthRegistry = field(default_factory=HealthRegistry)
    metrics: Metrics = field(default_factory=Metrics)
    # The one token verifier of this process (netra.tokens), set during startup by the
    # component that provides it; request handlers reach it through the runtime.
    verifier: Verifier | None = None
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    phase: str = "created"
    started: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # What components serve requests with (ChatBackend, AuthState), by type: see `get`.
    services: dict[type, object] = field(default_factory=dict)

    @property
    def schemas(self) -> list[migrations.Schema]:
        return [component.schema for component in self.components]

    @property
    def names(self) -> str:
        return "+".join(component.name for component in self.components)

    def provide(self, kind: type[T], service: T) -> None:
        """Make `service` what `get(kind)` answers from now on."""
        self.services[kind] = service

    def get(self, kind: type[T]) -> T | None:
        """The `kind` a component provided, or None while it has not (still starting)."""
        service = self.services.get(kind)
        return service if isinstance(service, kind) else None

    def enter(self, phase: str) -> None:
        self.phase = phase
        log.info("startup phase: %s", phase)

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A background task owned by the process, cancelled at shutdown."""
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The app's lifespan: start every component in phases, serve, stop in reverse."""
        await _prepare_database(self)
        started: list[Component] = []
        try:
            for component in self.components:
                self.enter(f"start {component.name}")
                await component.start(self)
                started.append(component)
                for check in component.checks(self):
                    self.health.register(check)
            self.enter("ready")
            self.started = True
            await _log_startup_readiness(self)
            yield
        finally:
            self.started = False
            self.enter("stopping")
            for component in reversed(started):
                await component.stop()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.engine.dispose()
            tracing.flush()

    async def drain(self) -> None:
        """SIGTERM, connections still open (netra.serving): every component's drain hook."""
        await asyncio.gather(*(component.drain() for component in self.components))


def runtime_of(where: HTTPConnection | Starlette) -> Runtime:
    """The runtime of the app serving a request or socket (or of an app)."""
    app = where.app if isinstance(where, HTTPConnection) else where
    runtime = app.state.runtime
    if not isinstance(runtime, Runtime):
        raise TypeError(f"{app!r} was not built by netra.service.build_app")
    return runtime


def readiness_checks(runtime: Runtime) -> list[Check]:
    """What every process checks, whatever its components: configuration, database, schemas."""
    return [_configuration_check(runtime), *_database_checks(runtime)]


def _configuration_check(runtime: Runtime) -> Check:
    # Reaching this point means the contract resolved without a problem (startup refuses
    # otherwise); the check names what was checked so the readiness report says so.
    async def probe() -> CheckResult:
        env = runtime.settings.environment.value
        return CheckResult.ok(f"configuration for {runtime.names} in {env} is complete", env)

    return Check("configuration", probe)


def _database_checks(runtime: Runtime) -> list[Check]:
    async def database() -> CheckResult:
        try:
            await db.ping(runtime.engine, timeout=2.0)
        except db.DatabaseUnavailable as exc:
            return CheckResult.fail(str(exc))
        return CheckResult.ok(f"{db.describe(runtime.engine.url)} answers")

    def schema_probe(schema: migrations.Schema) -> Check:
        async def probe() -> CheckResult:
            try:
                status = await migrations.status(runtime.engine, schema)
            except (OSError, SQLAlchemyError):
                return CheckResult.fail("cannot read the schema version: database unavailable")
            value = {"found": status.found, "expected": status.expected}
            if status.at_head:
                return CheckResult.ok(status.sentence(), value)
            return CheckResult.fail(status.sentence(), value)

        return Check(f"schema:{schema.name}", probe)

    return [Check("database", database), *(schema_probe(s) for s in runtime.schemas)]


async def _log_startup_readiness(runtime: Runtime) -> None:
    readiness = await runtime.health.readiness()
    for name, check in readiness.checks.items():
        if check["status"] != "pass":
            log.warning("not ready yet: %s: %s", name, check["output"])
    log.info("startup complete; readiness: %s", readiness.status.value)


async def _migrate_when_reachable(runtime: Runtime) -> None:
    """AUTO_MIGRATE with the database not yet up: keep trying; readiness says why meanwhile."""
    delay = 0.5
    while True:
        try:
            await db.ping(runtime.engine)
            await migrations.upgrade(runtime.engine, runtime.schemas)
        except db.DatabaseUnavailable as exc:
            log.warning("database not reachable yet, will migrate when it is: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)
            continue
        runtime.health.invalidate()
        log.info(
            "schema upgraded to head: %s",
            ", ".join(f"{s.name}={s.head()}" for s in runtime.schemas),
        )
        return


async def _prepare_database(runtime: Runtime) -> None:
    runtime.enter("database")
    try:
        await db.ping(runtime.engine, timeout=runtime.settings.db_connect_timeout)
    except db.DatabaseUnavailable as exc:
        # Can heal by itself (a database still starting): keep the process, fail readiness.
        log.error("%s; readiness reports it until it recovers", exc)
        if runtime.settings.auto_migrate:
            runtime.spawn(_migrate_when_reachable(runtime), "auto-migrate")
        return
    runtime.enter("migrations")
    if runtime.settings.auto_migrate:
        await migrations.upgrade(runtime.engine, runtime.schemas)
    else:
        for schema in runtime.schemas:
            status = await migrations.status(runtime.engine, schema)
            if not status.at_head:
                log.error("%s; readiness stays false until then", status.sentence())
    await db.fill_pool(runtime.engine)


ALWAYS_SERVED = ("/health", "/metrics")


class SocketLane:
    """WebSockets on their own lane. An idle socket keeps every coroutine of the ASGI stack
    it came through alive for its whole life, and FastAPI's (error pages, telemetry, body
    limits, exit stacks, nested routers) held ~7 KB per socket for nothing a socket uses.
    A socket on a component's path goes through the request observer and the startup gate
    only; everything else through the whole stack."""

    def __init__(self, app: ASGIApp, sockets: dict[str, ASGIApp]) -> None:
        self.app = app
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            lane = self.sockets.get(scope["path"])
            if lane is not None:
                await lane(scope, receive, send)
                return
        await self.app(scope, receive, send)


class StartupGate:
    """Nothing but liveness is served until every startup phase has completed
    (docs/incidents.md I-3: a half-initialised app must not take traffic). A socket
    refused here is answered in `subprotocol`, the one its component speaks."""

    def __init__(self, app: ASGIApp, subprotocol: str | None = None) -> None:
        self.app = app
        self.subprotocol = subprotocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and not path.startswith(ALWAYS_SERVED):
            runtime = runtime_of(scope["app"])
            if not runtime.started:
                await self._refuse(scope, receive, send, runtime.phase)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, phase: str) -> None:
        if scope["type"] == "websocket":
            # Accept, then close with a code: a handshake refused at the HTTP level reaches
            # browsers as a bare 1006, which says nothing (docs/incidents.md I-3).
            await receive()  # websocket.connect
            accept: dict[str, Any] = {"type": "websocket.accept"}
            if self.subprotocol in (scope.get("subprotocols") or []):
                accept["subprotocol"] = self.subprotocol
            await send(accept)
            reason = "service is starting, retry shortly"
            await send({"type": "websocket.close", "code": Close.OVERLOADED, "reason": reason})
            return
        message = f"service is starting (phase: {phase}), retry shortly"
        body = json.dumps(http_errors.body("unavailable", message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
            }
        )
        await send({"type": "http.response.body", "body": body})
