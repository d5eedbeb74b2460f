"""GET /ws: admit the socket, then run its session.

A plain ASGI endpoint rather than a FastAPI route or a Starlette function endpoint: an
idle socket keeps the coroutines it was called through alive for its whole life, and
FastAPI's dependency machinery (exit stacks) or Starlette's exception wrapper per
endpoint held several KB per idle connection for nothing a socket uses."""

from __future__ import annotations

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from netra.chat.backend import ChatBackend
from netra.chat.ws.handshake import admit, refuse
from netra.chat.ws.session import SocketSession
from netra.close_codes import Close
from netra.runtime import runtime_of


class SocketEndpoint:
    """An ASGI app (an instance: Starlette would wrap a function as a function endpoint)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        backend = runtime_of(websocket).get(ChatBackend)
        if backend is None:
            reason = "the chat backend is starting, retry shortly"
            await refuse(websocket, Close.OVERLOADED, reason)
            return
        admitted = await admit(websocket, backend)
        if admitted is not None:
            session = SocketSession(websocket, backend, *admitted)
            del admitted  # this frame lives as long as the socket: not the token with it
            await session.run()


def websocket_route() -> WebSocketRoute:
    return WebSocketRoute("/ws", SocketEndpoint(), name="websocket")
