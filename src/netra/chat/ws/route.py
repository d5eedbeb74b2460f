"""GET /ws: admit the socket, then run its session.

A plain Starlette route rather than a FastAPI one: FastAPI's dependency machinery keeps
exit stacks alive for the whole life of a socket (several KB per idle connection)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from netra.chat.backend import ChatBackend
from netra.chat.ws.handshake import admit, refuse
from netra.chat.ws.session import SocketSession


def websocket_route(backend: Callable[[], ChatBackend | None]) -> WebSocketRoute:
    async def endpoint(websocket: WebSocket) -> None:
        chat = backend()
        if chat is None:
            await refuse(websocket, 1013, "the chat backend is starting, retry shortly")
            return
        user = await admit(websocket, chat)
        if user is not None:
            await SocketSession(websocket, chat, user).run()

    return WebSocketRoute("/ws", endpoint, name="websocket")
