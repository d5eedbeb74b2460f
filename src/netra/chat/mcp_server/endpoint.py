"""`/mcp`: Netra as an MCP server over streamable HTTP (the SDK's server and transport),
behind the chat routes' one credential check.

Stateless transport (a fresh one per request, the SDK's `stateless_http`): nothing of a
conversation lives in one process, so any instance answers any request, as the rest of
the backend does (docs/architecture.md decision 4); a tool's progress rides on the
response stream of the request that called it. The SDK's session manager runs in a task
of its own for the component's life (it must be entered and left in one task)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from netra.chat.backend import ChatBackend
from netra.chat.mcp_server.identity import NetraUser
from netra.chat.mcp_server.tools import build_server
from netra.errors import Unavailable

PATH = "/mcp"


def bearer_token(scope: Scope) -> str | None:
    """The credential of `Authorization: Bearer ...`, if the request has one."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


class McpEndpoint:
    """The ASGI app at `/mcp`. A missing, invalid or revoked credential is refused
    before the SDK sees the request (401 with WWW-Authenticate, from the one error
    table); what each tool may do is its scope's business (netra.chat.mcp_server.tools)."""

    def __init__(self) -> None:
        self.backend: ChatBackend | None = None
        self.app: ASGIApp | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, backend: ChatBackend) -> None:
        """Serve the tools of `backend`, until `stop`."""
        server = build_server(backend)
        self.app = server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            max_request_body_size=backend.settings.max_body_bytes,
            # Host and Origin checks guard servers that trust whoever reaches them; this
            # one trusts only a bearer credential, which a rebound page does not have.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._stopping = asyncio.Event()
        running = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(server, running), name="mcp-server")
        await running
        self.backend = backend

    async def _run(self, server: MCPServer[Any], running: asyncio.Future[None]) -> None:
        try:
            async with server.session_manager.run():
                running.set_result(None)
                await self._stopping.wait()
        except BaseException as exc:
            if not running.done():
                running.set_exception(exc)
            raise

    async def stop(self) -> None:
        """Refuse new requests (503) and end those under way."""
        self.backend = None
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        backend, app = self.backend, self.app
        if backend is None or app is None:
            raise Unavailable("the MCP server is stopping; retry shortly", retry_after=1.0)
        token = bearer_token(scope)
        principal = await backend.authenticate(token)
        assert token is not None  # authenticate refuses a missing credential
        user = NetraUser(principal, token)
        scope["user"], scope["auth"] = user, AuthCredentials(user.scopes)
        await app(scope, receive, send)
