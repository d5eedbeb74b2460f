"""Per-request observation: a request id (header in, header out, on every log record)
and the request metrics. One pure ASGI middleware, cheap on the hot path."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from netra.health.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
request_id: ContextVar[str | None] = ContextVar("netra_request_id", default=None)


def current_trace_id() -> str | None:
    """The id (32 hex digits) of the trace being recorded, if any: for log lines."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_ID.match(value):
            return str(value.decode())
    return uuid.uuid4().hex


def _name_span(scope: Scope) -> None:
    """The request's span named by route template (before the response ends it), and
    its URL without the query string: a client may put a token or an OIDC code there."""
    span = trace.get_current_span()
    if span.is_recording():
        label = getattr(scope.get("route"), "path", "unmatched")
        span.update_name(f"{scope['method']} {label}")
        span.set_attribute("http.route", label)
        if scope.get("query_string"):
            span.set_attribute("http.target", scope["path"])
            span.set_attribute("http.url", scope["path"])


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, rid)
        finally:
            request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                _name_span(scope)
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            # Label by route template, never the raw path: ids would explode cardinality.
            label = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.metrics.http_requests.labels(method, label, str(status)).inc()
            self.metrics.http_latency.labels(method, label).observe(time.perf_counter() - started)
