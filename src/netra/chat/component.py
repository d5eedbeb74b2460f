"""The chat backend as a component of an app (alone, or embedded beside auth)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route

from netra.agents import Agent
from netra.agents.builtin_tools import default_tools
from netra.agents.catalog import ModelSet, build_models, load_catalog
from netra.agents.mcp import McpConnection, McpManager
from netra.chat.assistants import Assistants
from netra.chat.backend import ChatBackend
from netra.chat.bus import create_bus
from netra.chat.choice import ModelChoice
from netra.chat.event_writer import LANES
from netra.chat.eventlog import EventLog
from netra.chat.files import DatabaseFileStore, FileLibrary
from netra.chat.hub import Hub
from netra.chat.lookups import MessageLookups
from netra.chat.mcp_server import PATH as MCP_PATH
from netra.chat.mcp_server import McpEndpoint
from netra.chat.routes import (
    assistants,
    branches,
    events,
    files,
    models,
    runs,
    search,
    sharing,
    threads,
)
from netra.chat.runs import RunManager
from netra.chat.schema import CHAT_SCHEMA
from netra.chat.search import SearchIndex
from netra.chat.sharing import FeedbackStore, Shares
from netra.chat.store import ThreadStore
from netra.chat.streams import Streams
from netra.chat.ws.protocol import SUBPROTOCOL
from netra.chat.ws.route import websocket_route
from netra.close_codes import Close
from netra.db import create_read_engine, fill_pool, sessionmaker
from netra.health import Check, CheckResult
from netra.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from netra.runtime import Runtime
from netra.settings import Settings
from netra.tokens import AuthServiceTokens
from netra.usage import dashboard
from netra.usage import routes as usage_routes
from netra.usage.store import UsageStore
from netra.web import router as web_router

log = logging.getLogger("netra.chat")
AgentFactory = Callable[[Settings], Agent]
# How long a stopping backend lets runs under way finish: inside Cloud Run's 10 s from
# SIGTERM to SIGKILL, and the local target's (netra.deploy.targets.processes).
DRAIN_GRACE = 8.0


class ChatComponent:
    """Requests and sockets reach its `ChatBackend` through the runtime
    (netra.chat.routes.deps.get_backend), once started."""

    name = "backend"
    schema = CHAT_SCHEMA
    subprotocol = SUBPROTOCOL

    def __init__(self, agent_factory: AgentFactory | None = None) -> None:
        """`agent_factory`: one agent of your own instead of the catalog's models."""
        self.agent_factory = agent_factory
        self.models: ModelSet | None = None
        self.mcp: McpManager | None = None
        self.backend: ChatBackend | None = None
        # Netra's own MCP server (`/mcp`), not to be confused with `mcp`, its MCP clients.
        self.mcp_endpoint = McpEndpoint()
        self._tokens: AuthServiceTokens | None = None
        self._read_engine: AsyncEngine | None = None

    def routers(self) -> Sequence[APIRouter]:
        api = APIRouter()
        modules = (sharing, threads, files, branches, runs, events, search, models, assistants)
        for module in (*modules, usage_routes, dashboard):
            api.include_router(module.router)
        api.routes.append(websocket_route())
        api.routes.append(Route(MCP_PATH, self.mcp_endpoint))
        return [api, web_router()]

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        backend = self.backend
        checks = list(self._tokens.checks()) if self._tokens is not None else []
        if backend is None:
            return checks

        async def bus() -> CheckResult:
            return CheckResult.ok(await backend.bus.ping())

        return [*checks, Check("bus", bus), *self._model_checks(), *self._mcp_checks()]

    def _model_checks(self) -> list[Check]:
        """One check per catalog model: the default one fails readiness (no answers
        without it), another one only warns (its runs fall back or say why)."""
        models = self.models
        if models is None:
            return []
        default = models.catalog.default.id

        def probe(model_id: str) -> Check:
            agent = models.agent(model_id)

            async def answer() -> CheckResult:
                try:
                    return CheckResult.ok(await agent.probe(), agent.name)
                except Exception as exc:  # the provider's own words: what to check
                    return CheckResult.fail(str(exc), agent.name)

            if model_id == default:
                return Check("agent", answer)
            return Check(f"model:{model_id}", answer, required=False)

        return [probe(entry.id) for entry in models.catalog.models]

    def _mcp_checks(self) -> list[Check]:
        """One check per MCP server; a server that is down warns and is named (its
        tools are left out of runs, which say so)."""
        if self.mcp is None:
            return []

        def probe(connection: McpConnection) -> Check:
            async def listed() -> CheckResult:
                if not connection.up:
                    return CheckResult.fail(f"{connection.name} is down: {connection.error}")
                count = len(connection.tools)
                return CheckResult.ok(f"{connection.name} is up with {count} tools", count)

            return Check(f"mcp:{connection.name}", listed, required=False)

        return [probe(connection) for connection in self.mcp.connections.values()]

    async def start(self, runtime: Runtime) -> None:
        settings = runtime.settings
        # Embedded (`netra up`): the auth component already set its in-process verifier.
        # Deployed apart: verify against the auth service's JWKS (docs/auth.md).
        if runtime.verifier is None:
            self._tokens = AuthServiceTokens(settings)
            await self._tokens.start()
            runtime.verifier = self._tokens.verifier
        if self.agent_factory is not None:
            models = ModelSet.single(self.agent_factory(settings))
        else:
            models = await self._start_models(settings)
        self.models = models
        # SQLite has one connection: its groups go one at a time.
        lanes = 1 if runtime.engine.dialect.name == "sqlite" else LANES
        events_log = EventLog(runtime.db, linger=settings.event_linger / 1000, lanes=lanes)
        bus = create_bus(settings, runtime.instance_id)
        limiter: RateLimiter = MemoryRateLimiter()
        client = getattr(bus, "client", None)
        if client is not None:
            limiter = RedisRateLimiter(client)
        usage = UsageStore(runtime.db)
        self._read_engine = create_read_engine(settings, runtime.engine.url)
        if self._read_engine is not None:
            await fill_pool(self._read_engine)
        reads = runtime.db if self._read_engine is None else sessionmaker(self._read_engine)
        files = FileLibrary(runtime.db, DatabaseFileStore(runtime.db), settings)
        backend = ChatBackend(
            runtime=runtime,
            events=events_log,
            threads=ThreadStore(runtime.db, events_log),
            bus=bus,
            hub=Hub(events_log, runtime.spawn, runtime.metrics),
            runs=RunManager(
                settings=settings,
                db=runtime.db,
                events=events_log,
                bus=bus,
                agent=models.default,
                instance_id=runtime.instance_id,
                metrics=runtime.metrics,
                usage=usage,
                catalog=models.catalog,
                files=files,
                agents=models.agent,
                reads=reads,
            ),
            limiter=limiter,
            streams=Streams(settings.ws_max_per_user, settings.api_key_cache_ttl),
            search=SearchIndex(runtime.db),
            shares=Shares(runtime.db),
            feedback=FeedbackStore(runtime.db),
            usage=usage,
            files=files,
            choice=ModelChoice(models, Assistants(runtime.db, models)),
            lookups=MessageLookups(reads, usage),
        )
        # Revocations end open streams (docs/auth.md): the verifier's list says when.
        backend.streams.attach(getattr(runtime.verifier, "revocations", None))
        await bus.start(backend.on_notice)
        runtime.spawn(backend.runs.leases.maintain(), "run-leases")
        runtime.spawn(backend.streams.run(lambda: runtime.verifier), "stream-revalidation")
        await self.mcp_endpoint.start(backend)
        events_log.writer.start()  # until then (and after stop), appends write alone
        self.backend = backend
        runtime.provide(ChatBackend, backend)

    async def _start_models(self, settings: Settings) -> ModelSet:
        """The catalog's models over one tool registry: the built-in tools and those of
        the declared MCP servers (connected now, kept up for the process's life)."""
        catalog = load_catalog(settings)
        tools = default_tools(timeout=settings.tool_timeout)
        self.mcp = McpManager(catalog.mcp_servers, catalog.secrets, tools)
        await self.mcp.start()
        return build_models(settings, tools, catalog, notices=self.mcp.notices)

    async def drain(self) -> None:
        """Stopping, sockets still open: no new runs here (a message closes its socket
        with 1012, so it is sent again to another instance); runs under way finish and
        are delivered where they were asked, up to DRAIN_GRACE; the rest are ended and
        recorded now, before the sockets close, so a client resuming elsewhere reads
        every event from the log."""
        backend = self.backend
        if backend is None:
            return
        backend.draining = True
        running = list(backend.runs.tasks.values())
        if running:
            log.info("stopping: %d run(s) under way may finish first", len(running))
            await asyncio.wait(running, timeout=DRAIN_GRACE)
        await backend.runs.shutdown()

    async def stop(self) -> None:
        await self.mcp_endpoint.stop()
        backend = self.backend
        if backend is not None:
            backend.streams.detach()
            # Sockets first (1012: reconnect elsewhere and resume), then the runs, recorded.
            for outbox in list(backend.sockets):
                outbox.fail(Close.RESTARTING, "server restarting; reconnect and resume")
            await backend.runs.shutdown()
            # Every append handed to the writer is committed (and sent) before the bus closes.
            await backend.events.writer.stop()
            await backend.bus.close()
        if self.mcp is not None:
            await self.mcp.stop()
        if self._tokens is not None:
            await self._tokens.stop()
        if self._read_engine is not None:
            await self._read_engine.dispose()
