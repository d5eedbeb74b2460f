"""`python -m tests.traced SPANS_FILE NETRA_ARGS...`: a `netra` command whose process records
its spans with the OpenTelemetry SDK's in-memory exporter, written to SPANS_FILE (JSON
lines) when it exits. Netra adds its spans to a provider the process already has, as it
would to an operator's `opentelemetry-instrument`; the test reads what each process saw."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from netra.cli import main


def as_json(span: ReadableSpan) -> dict[str, object]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }


def run(spans_file: Path, args: list[str]) -> None:
    exporter = InMemorySpanExporter()
    service = f"netra-{args[1]}" if args[0] == "serve" else "netra"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    sys.argv = ["netra", *args]
    # uvicorn handles SIGTERM, then raises it again for the handler it found: this one,
    # so the process ends through `finally` (the default handler would skip it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        main()
    finally:
        with spans_file.open("w") as out:
            for span in exporter.get_finished_spans():
                out.write(json.dumps(as_json(span), default=str) + "\n")


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2:])
