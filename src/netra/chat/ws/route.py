"""GET /ws: admit the socket, then run its session."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from netra.chat.routes.deps import Backend
from netra.chat.ws.handshake import admit
from netra.chat.ws.session import SocketSession

router = APIRouter(tags=["websocket"])


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, backend: Backend) -> None:
    user = await admit(websocket, backend)
    if user is not None:
        await SocketSession(websocket, backend, user).run()
