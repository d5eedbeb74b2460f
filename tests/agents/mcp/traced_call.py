"""`python -m tests.agents.mcp.traced_call SPANS_FILE MCP_URL`: one tool call (`echo`) to
a streamable-HTTP MCP server from a process that records its spans with the SDK's
in-memory exporter, inside a span standing for the agent run. The spans go to
SPANS_FILE (JSON lines) and the call's result to stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from netra.agents.catalog import McpServerEntry
from tests.support.mcp import call, managed
from tests.traced import as_json


async def call_once(url: str) -> str:
    entry = McpServerEntry(name="recorder", transport="streamable_http", url=url)  # type: ignore[arg-type]
    async with managed(entry) as manager:
        with trace.get_tracer("tests").start_as_current_span("invoke_agent test"):
            outcome = await call(manager, "recorder__echo", {"text": "traced"})
    return str(outcome.error or outcome.result)


def main(spans_file: Path, url: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "netra"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    print(asyncio.run(call_once(url)))
    with spans_file.open("w") as out:
        for span in exporter.get_finished_spans():
            out.write(json.dumps(as_json(span), default=str) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
