"""Traces (OpenTelemetry): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, or unless the
process already has an SDK tracer provider (an operator's `opentelemetry-instrument`, a
test harness), in which case Netra adds its spans to that one.

One provider per process, as OpenTelemetry intends: every app of the process (`netra up`
runs two) records through the global API. W3C `traceparent` flows in through the request
middleware and out through every httpx client (the auth service, the model server);
database and Redis calls get spans from their instrumentations. Span attributes carry
ids, model names, token counts and outcomes, never a secret or message text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import __version__
from netra.settings import Settings

log = logging.getLogger("netra.tracing")


def tracing_enabled() -> bool:
    """Whether this process records spans (an SDK provider is installed). The API's
    global is read as it is: `get_tracer_provider()` looks up an environment variable
    on every call while no provider is set (a message asks three times). A provider
    named by OTEL_PYTHON_TRACER_PROVIDER is loaded by `configure_tracing` at startup."""
    return isinstance(trace._TRACER_PROVIDER, TracerProvider)


def span_if_tracing(
    tracer: trace.Tracer,
    name: str,
    *,
    carrier: Mapping[str, str] | None = None,
    **options: Any,
) -> AbstractContextManager[trace.Span]:
    """`tracer.start_as_current_span(name, **options)` (continuing the trace in
    `carrier`'s `traceparent`, if given) when this process records spans; else a
    non-recording span and nothing more. With tracing off a no-op span and its context
    still cost ~13 µs, and a message makes three (its socket request, its run, a tool
    call): docs/architecture.md, Performance."""
    if not tracing_enabled():
        return nullcontext(trace.INVALID_SPAN)
    if carrier is not None:
        options["context"] = extract(carrier)
    return tracer.start_as_current_span(name, **options)


def configure_tracing(settings: Settings, service_name: str) -> TracerProvider | None:
    """Install the exporter and instrumentations when tracing is wanted; the provider to
    shut down (flush) at exit, or None when tracing stays off."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        endpoint = settings.otel_exporter_otlp_endpoint
        if endpoint is None:
            return None
        provider = _otlp_provider(str(endpoint), service_name, settings)
        trace.set_tracer_provider(provider)
    _instrument_libraries()
    log.info("tracing on: spans of %s are exported", service_name)
    return provider


def _otlp_provider(endpoint: str, service_name: str, settings: Settings) -> TracerProvider:
    # Imported here: the exporter pulls in protobuf, which a process without tracing
    # does not need to load.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    resource = Resource.create(
        {
            "service.name": service_name,
            "service.version": __version__,
            "deployment.environment.name": settings.environment.value,
        }
    )
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _instrument_libraries() -> None:
    """Spans (and outgoing `traceparent`) for every httpx client and Redis command of the
    process; engines are traced one by one (`trace_engine`)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

    for instrumentor in (HTTPXClientInstrumentor(), RedisInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def flush(timeout: float = 5.0) -> None:
    """Export the spans still batched, as a process stops (uvicorn ends a process it
    stopped on SIGTERM by the signal itself, past any `finally` of the command)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(int(timeout * 1000))


def trace_engine(engine: AsyncEngine) -> None:
    """Spans for the statements of `engine` (parameters never recorded), when tracing is
    on. The instrumentor's own `instrument(engine=...)` works once per process; an app
    has its own engine, so each gets its own tracer hooks."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer  # noqa: PLC0415

    meter = metrics.NoOpMeterProvider().get_meter(__name__)
    EngineTracer(  # type: ignore[no-untyped-call]
        trace.get_tracer("netra.db"),
        engine.sync_engine,
        meter.create_up_down_counter("db.client.connections.usage"),
    )
