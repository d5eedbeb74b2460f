"""One MCP server's client session for the whole process, kept alive.

A supervisor task connects (spawning a stdio server, or opening the streamable HTTP
session), initializes, lists the tools, and then keeps watch: it lists again on
`notifications/tools/list_changed`, pings the server, and when the connection is lost
(a crashed child, a server gone) it marks the server down and reconnects with
exponential backoff. The session is entered and left in that one task, as the SDK's
task groups require; runs call tools on it from their own tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import streamable_http_client

from netra.agents.catalog.schema import McpServerEntry
from netra.agents.mcp.tools import McpTool, RejectedTool
from netra.agents.tools import ToolError
from netra.health.tracing import tracing_enabled

log = logging.getLogger("netra.agents.mcp")
CONNECTION_CLOSED = -32000


@dataclass(frozen=True)
class Timing:
    """How patient the supervisor is; tests shorten it."""

    connect_timeout: float = 30.0
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    # A session that stayed up this long resets the backoff.
    stable_after: float = 60.0


DEFAULT_TIMING = Timing()


class ConnectionLost(Exception):
    pass


class McpConnection:
    """The supervised session of one declared server; `tools` is its current listing
    (empty while it is down), `on_tools` is told of every change."""

    def __init__(
        self,
        entry: McpServerEntry,
        secrets: dict[str, str],
        on_tools: Callable[[McpConnection], None],
        timing: Timing = DEFAULT_TIMING,
    ) -> None:
        self.entry = entry
        self.name = entry.name
        self._secrets = secrets
        self._on_tools = on_tools
        self.timing = timing
        self.tools: dict[str, McpTool] = {}
        # Tools the server listed that Netra refused (bad name, lying schema), and why.
        self.rejected: list[str] = []
        self.up = False
        self.error: str | None = "not connected yet"
        self.connects = 0
        self._session: ClientSession | None = None
        self._changed = asyncio.Event()
        self._lost = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"mcp-{self.name}")

    async def wait_first_attempt(self) -> None:
        """Until the first connection attempt succeeded or failed."""
        await self._first_attempt.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def call(
        self, tool: str, arguments: dict[str, Any], timeout: float
    ) -> types.CallToolResult:
        """One tools/call; raises `ToolError` with words for the model and the user."""
        session = self._session
        if session is None or not self.up:
            raise ToolError(f"The MCP server {self.name} is unavailable: {self.error}.")
        try:
            return await session.call_tool(tool, arguments, read_timeout_seconds=timeout or None)
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                self._lost.set()
                raise ToolError(
                    f"The MCP server {self.name} closed the connection during the call; "
                    "it is being restarted."
                ) from None
            raise ToolError(
                f"The MCP server {self.name} answered an error: {exc.message}"
            ) from None
        except RuntimeError as exc:  # the SDK's check of a result against the output schema
            raise ToolError(f"The MCP server {self.name} sent an unusable result: {exc}") from None

    async def _supervise(self) -> None:
        delay = self.timing.backoff_min
        while True:
            began = time.monotonic()
            try:
                await self._serve()
            except asyncio.CancelledError:
                self._mark_down("stopped")
                raise
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    raise
                reason = _describe(exc)
                if reason != self.error:  # once per new reason, not every retry
                    log.warning("MCP server %s is down: %s", self.name, reason)
                self._mark_down(reason)
            finally:
                self._first_attempt.set()
            if time.monotonic() - began > self.timing.stable_after:
                delay = self.timing.backoff_min
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.timing.backoff_max)

    async def _serve(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(self._transport())
            session = ClientSession(read, write, message_handler=self._on_message)
            await stack.enter_async_context(session)
            async with asyncio.timeout(self.timing.connect_timeout):
                await session.initialize()
            self._lost.clear()
            self._session = session
            await self._list(session)
            self.up, self.error = True, None
            self.connects += 1
            self._on_tools(self)
            self._first_attempt.set()
            log.info("MCP server %s is up with %d tools", self.name, len(self.tools))
            await self._watch(session)

    async def _watch(self, session: ClientSession) -> None:
        while True:
            changed = asyncio.create_task(self._changed.wait())
            lost = asyncio.create_task(self._lost.wait())
            done, pending = await asyncio.wait(
                {changed, lost}, timeout=self.timing.ping_interval, return_when="FIRST_COMPLETED"
            )
            for task in pending:
                task.cancel()
            if lost in done:
                raise ConnectionLost("the connection closed (the server stopped or crashed)")
            if changed in done:
                self._changed.clear()
                await self._list(session)
                self._on_tools(self)
                continue
            async with asyncio.timeout(self.timing.ping_timeout):
                await session.send_ping()

    async def _list(self, session: ClientSession) -> None:
        listed: list[types.Tool] = []
        cursor: str | None = None
        while True:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            async with asyncio.timeout(self.timing.connect_timeout):
                page = await session.list_tools(params=params)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        tools: dict[str, McpTool] = {}
        rejected: list[str] = []
        for item in listed:
            if not self.entry.exposes(item.name):
                continue
            try:
                tool = McpTool.build(
                    self.name,
                    item,
                    timeout=self.entry.timeout,
                    requires_approval=self.entry.needs_approval(item.name),
                    roles=self.entry.roles,
                    call=self.call,
                )
            except RejectedTool as exc:
                rejected.append(str(exc))
                continue
            tools[tool.name] = tool
        for reason in sorted(set(rejected) - set(self.rejected)):
            log.warning("MCP server %s: tool left out: %s", self.name, reason)
        self.tools, self.rejected = tools, rejected

    async def _on_message(self, message: types.ServerNotification | Exception) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._changed.set()

    def _mark_down(self, reason: str) -> None:
        self.up, self.error = False, reason
        self._session = None
        if self.tools:
            self.tools = {}
            self._on_tools(self)

    def _transport(self) -> AbstractAsyncContextManager[Any]:
        entry = self.entry
        if entry.transport == "stdio":
            assert entry.command is not None
            env = dict(entry.env)
            env.update({name: self._secrets[secret] for name, secret in entry.env_secrets.items()})
            parameters = StdioServerParameters(
                command=entry.command, args=list(entry.args), env=env or None, cwd=entry.cwd
            )
            return stdio_client(parameters)
        return self._http()

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[Any]:
        entry = self.entry
        headers = dict(entry.headers)
        headers.update(
            {name: self._secrets[secret] for name, secret in entry.header_secrets.items()}
        )
        timeout = httpx2.Timeout(self.timing.connect_timeout, read=max(entry.timeout, 300.0))
        async with httpx2.AsyncClient(headers=headers, timeout=timeout) as client:
            _trace_requests(client)
            async with streamable_http_client(str(entry.url), http_client=client) as streams:
                yield streams


def _trace_requests(client: httpx2.AsyncClient) -> None:
    """When tracing is on, each request to the server gets a client span and carries
    `traceparent`. The SDK sends a call's POST in the calling task's context, so that
    span is a child of the call's (`execute_tool <name>` → `MCP send tools/call`).
    The SDK speaks `httpx2`, which the process-wide `httpx` instrumentation misses."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor  # noqa: PLC0415

    HTTPX2ClientInstrumentor.instrument_client(client)  # type: ignore[arg-type]  # typed for httpx


def _describe(exc: BaseException) -> str:
    """Words for readiness and runs, from whatever the transport raised (never headers)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(item) for item in exc.exceptions[:3])
    if isinstance(exc, ConnectionLost):
        text = str(exc)
    elif isinstance(exc, TimeoutError):
        text = "it did not answer in time"
    elif isinstance(exc, FileNotFoundError):
        text = f"cannot start it: {exc.strerror or exc} ({exc.filename})"
    elif isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED:
        text = "the connection closed (the server stopped or crashed)"
    elif isinstance(exc, MCPError):
        text = f"it answered an error: {exc.message}"
    else:
        text = f"{type(exc).__name__}: {str(exc) or 'no details'}"
    return text[:300]
