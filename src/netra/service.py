"""The composition root: components on a shared runtime, in one app.

`build_app(settings, components)` is the one app factory behind `netra serve auth`,
`netra serve backend` and the embedded `netra up` (both components in one process).
Only the app factories compose; components import `netra.runtime`, never this module.
It has no import-time side effects and keeps no module-level state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp

from netra import __version__, apidocs, db, http_errors
from netra.body_limit import UPLOAD_PATH, BodyLimit
from netra.health import tracing
from netra.health.observe import RequestObserver
from netra.health.routes import metrics_router
from netra.health.routes import router as health_router
from netra.runtime import (
    Component,
    Runtime,
    SocketLane,
    StartupGate,
    readiness_checks,
    runtime_of,
)
from netra.settings import Settings


def build_app(settings: Settings, components: Sequence[Component]) -> FastAPI:
    """The ASGI app of one process serving `components` with `settings`."""
    engine = db.create_engine(settings)
    tracing.trace_engine(engine)
    runtime = Runtime(settings, engine, db.sessionmaker(engine), components)
    for check in readiness_checks(runtime):
        runtime.health.register(check)

    title = f"Netra ({runtime.names})"
    # FastAPI's /docs and /redoc load scripts from a CDN: ours serves them from a package.
    app = ServiceApp(runtime, title=title, version=__version__, docs_url=None, redoc_url=None)
    http_errors.install(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(apidocs.router(title))
    for component in components:
        for router in component.routers():
            app.include_router(router)
            sockets = [r for r in router.routes if isinstance(r, WebSocketRoute)]
            app.sockets += [(route, component.subprotocol) for route in sockets]
    app.add_middleware(StartupGate)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger=[(UPLOAD_PATH, settings.upload_max_body_bytes)],
    )
    app.add_middleware(RequestObserver, metrics=runtime.metrics)
    if tracing.tracing_enabled():
        # Outermost: one trace per request (continuing an incoming `traceparent`), so
        # everything below, log lines included, happens inside its span.
        app.add_middleware(OpenTelemetryMiddleware, exclude_spans=["receive", "send"])
    return app


class ServiceApp(FastAPI):
    """The app of one process: FastAPI, its lifespan the runtime's, with the components'
    WebSocket routes served past FastAPI's own middleware (see netra.runtime.SocketLane)."""

    def __init__(self, runtime: Runtime, **options: Any) -> None:
        super().__init__(lifespan=lambda _app: runtime.running(), **options)
        # The one place process state lives; reached through netra.runtime.runtime_of.
        self.state.runtime = runtime
        self.sockets: list[tuple[WebSocketRoute, str | None]] = []

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        metrics = runtime_of(self).metrics
        lanes: dict[str, ASGIApp] = {
            route.path: RequestObserver(StartupGate(route.app, subprotocol), metrics=metrics)
            for route, subprotocol in self.sockets
        }
        return SocketLane(stack, lanes)
