"""How a Netra service is assembled: components on a shared runtime, started in phases.

`build_app(settings, components)` is the one app factory behind `netra serve auth`,
`netra serve backend` and the embedded `netra up` (both components in one process).
It has no import-time side effects and keeps no module-level state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from netra import __version__, db, http_errors
from netra.db import migrations
from netra.health import Check, CheckResult, HealthRegistry
from netra.health.metrics import Metrics
from netra.health.observe import RequestObserver
from netra.health.routes import metrics_router
from netra.health.routes import router as health_router
from netra.settings import Settings
from netra.tokens import Verifier

log = logging.getLogger("netra.startup")


class Component(Protocol):
    """One service's part of an app: its tables, routes, checks and lifecycle."""

    name: str
    schema: migrations.Schema

    def routers(self) -> Sequence[APIRouter]: ...

    def checks(self, runtime: Runtime) -> Sequence[Check]: ...

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
    schemas: list[migrations.Schema]
    health: HealthRegistry = field(default_factory=HealthRegistry)
    metrics: Metrics = field(default_factory=Metrics)
    # The one token verifier of this process (netra.tokens), set during startup by the
    # component that provides it; request handlers reach it through the runtime.
    verifier: Verifier | None = None
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    phase: str = "created"
    started: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def enter(self, phase: str) -> None:
        self.phase = phase
        log.info("startup phase: %s", phase)

    def spawn(self, coroutine: Any, name: str) -> asyncio.Task[None]:
        """A background task owned by the process, cancelled at shutdown."""
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def _configuration_check(runtime: Runtime, names: str) -> Check:
    # Reaching this point means the contract resolved without a problem (startup refuses
    # otherwise); the check names what was checked so the readiness report says so.
    async def probe() -> CheckResult:
        env = runtime.settings.environment.value
        return CheckResult.ok(f"configuration for {names} in {env} is complete", env)

    return Check("configuration", probe)


async def _log_startup_readiness(runtime: Runtime) -> None:
    readiness = await runtime.health.readiness()
    for name, check in readiness.checks.items():
        if check["status"] != "pass":
            log.warning("not ready yet: %s: %s", name, check["output"])
    log.info("startup complete; readiness: %s", readiness.status.value)


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
        return
    for schema in runtime.schemas:
        status = await migrations.status(runtime.engine, schema)
        if not status.at_head:
            log.error("%s; readiness stays false until then", status.sentence())


def build_app(settings: Settings, components: Sequence[Component]) -> FastAPI:
    """The ASGI app of one process serving `components` with `settings`."""
    engine = db.create_engine(settings)
    runtime = Runtime(
        settings, engine, db.sessionmaker(engine), [component.schema for component in components]
    )
    names = "+".join(component.name for component in components)
    for check in [_configuration_check(runtime, names), *_database_checks(runtime)]:
        runtime.health.register(check)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _prepare_database(runtime)
        started: list[Component] = []
        try:
            for component in components:
                runtime.enter(f"start {component.name}")
                await component.start(runtime)
                started.append(component)
                for check in component.checks(runtime):
                    runtime.health.register(check)
            runtime.enter("ready")
            runtime.started = True
            await _log_startup_readiness(runtime)
            yield
        finally:
            runtime.started = False
            runtime.enter("stopping")
            for component in reversed(started):
                await component.stop()
            for task in list(runtime.tasks):
                task.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            await engine.dispose()

    async def drain() -> None:
        await asyncio.gather(*(component.drain() for component in components))

    app = ServiceApp(title=f"Netra ({names})", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    # Called by `netra.serving.serve` on SIGTERM, before connections are closed.
    app.state.drain = drain
    app.state.settings = settings
    http_errors.install(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    for component in components:
        for router in component.routers():
            app.include_router(router)
            app.sockets += [r for r in router.routes if isinstance(r, WebSocketRoute)]
    app.add_middleware(StartupGate)
    app.add_middleware(RequestObserver, metrics=runtime.metrics)
    return app


ALWAYS_SERVED = ("/health", "/metrics")


class ServiceApp(FastAPI):
    """The app of one process: FastAPI, with the components' WebSocket routes served past
    FastAPI's own middleware (see SocketLane)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sockets: list[WebSocketRoute] = []

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        metrics = self.state.runtime.metrics
        lanes: dict[str, ASGIApp] = {
            r.path: RequestObserver(StartupGate(r.app), metrics=metrics) for r in self.sockets
        }
        return SocketLane(stack, lanes)


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
    (docs/incidents.md I-3: a half-initialised app must not take traffic)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and not path.startswith(ALWAYS_SERVED):
            runtime: Runtime = scope["app"].state.runtime
            if not runtime.started:
                await _refuse(scope, receive, send, runtime.phase)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, phase: str) -> None:
    if scope["type"] == "websocket":
        # Accept, then close with a code: a handshake refused at the HTTP level reaches
        # browsers as a bare 1006, which says nothing (docs/incidents.md I-3).
        await receive()  # websocket.connect
        offered = scope.get("subprotocols") or []
        accept = {"type": "websocket.accept"}
        if "netra.v1" in offered:
            accept["subprotocol"] = "netra.v1"
        await send(accept)
        await send(
            {
                "type": "websocket.close",
                "code": 1013,
                "reason": "service is starting, retry shortly",
            }
        )
        return
    body = f'{{"detail": "service is starting (phase: {phase}), retry shortly"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
        }
    )
    await send({"type": "http.response.body", "body": body})
