"""GET /ws: admit the socket, then run its session.

A plain ASGI endpoint rather than a FastAPI route or a Starlette function endpoint: an
idle socket keeps the coroutines it was called through alive for its whole life, and
FastAPI's dependency machinery (exit stacks) or Starlette's exception wrapper per
endpoint held several KB per idle connection for nothing a socket uses."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from netra.chat.backend import ChatBackend
from netra.chat.ws.handshake import admit, refuse
from netra.chat.ws.session import SocketSession


class SocketEndpoint:
    def __init__(self, backend: Callable[[], ChatBackend | None]) -> None:
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        chat = self.backend()
        if chat is None:
            await refuse(websocket, 1013, "the chat backend is starting, retry shortly")
            return
        admitted = await admit(websocket, chat)
        if admitted is not None:
            await SocketSession(websocket, chat, *admitted).run()


def websocket_route(backend: Callable[[], ChatBackend | None]) -> WebSocketRoute:
    return WebSocketRoute("/ws", SocketEndpoint(backend), name="websocket")
