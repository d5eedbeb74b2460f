"""Admitting a socket: origin, capacity, subprotocol and token, before anything else.
Every refusal is accepted then closed with a code and reason a client can show
(a handshake refused at the HTTP level reaches browsers as a bare 1006)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from fastapi import WebSocket

from netra.chat.backend import ChatBackend
from netra.chat.ws.errors import close_for
from netra.chat.ws.protocol import BEARER_PREFIX, SUBPROTOCOL, ProtocolError
from netra.close_codes import Close
from netra.errors import DomainError
from netra.tokens import Principal


def origin_allowed(websocket: WebSocket, backend: ChatBackend) -> bool:
    """Browsers send Origin; other clients (the SDK) do not and are not at risk."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    allowed = backend.settings.allowed_origins
    if allowed:
        return origin.rstrip("/") in {o.rstrip("/") for o in allowed} or "*" in allowed
    own = {websocket.headers.get("host", "")}
    if backend.settings.public_url is not None:
        own.add(urlsplit(str(backend.settings.public_url)).netloc)
    return urlsplit(origin).netloc in own


def bearer_token(websocket: WebSocket) -> str:
    offered = websocket.scope.get("subprotocols") or []
    if SUBPROTOCOL not in offered:
        raise ProtocolError(Close.BAD_REQUEST, f"offer the subprotocol {SUBPROTOCOL}")
    for item in offered:
        if item.startswith(BEARER_PREFIX) and len(item) > len(BEARER_PREFIX):
            return str(item[len(BEARER_PREFIX) :])
    raise ProtocolError(Close.UNAUTHORIZED, "missing access token")


async def admit(websocket: WebSocket, backend: ChatBackend) -> tuple[Principal, str] | None:
    """The socket's user and credential, the socket accepted; or None, the socket closed."""
    settings = backend.settings
    try:
        if not origin_allowed(websocket, backend):
            raise ProtocolError(Close.FORBIDDEN, "origin not allowed")
        if len(backend.sockets) >= settings.ws_max_connections:
            raise ProtocolError(Close.OVERLOADED, "too many connections; retry later")
        if backend.authenticating >= settings.ws_max_pending:
            raise ProtocolError(Close.OVERLOADED, "too many sockets authenticating; retry later")
        token = bearer_token(websocket)
        backend.authenticating += 1
        try:
            async with asyncio.timeout(settings.ws_auth_timeout):
                principal = await backend.authenticate(token)
        finally:
            backend.authenticating -= 1
        backend.streams.check_room(principal)  # WS_MAX_PER_USER, before accepting
    except ProtocolError as exc:
        await _refuse(websocket, backend, exc.code, exc.reason)
        return None
    except DomainError as exc:
        await _refuse(websocket, backend, *close_for(exc))
        return None
    except TimeoutError:
        await _refuse(websocket, backend, Close.OVERLOADED, "authentication timed out; retry")
        return None
    await websocket.accept(subprotocol=SUBPROTOCOL)
    return principal, token


async def _refuse(websocket: WebSocket, backend: ChatBackend, code: int, reason: str) -> None:
    backend.runtime.metrics.ws_closes.labels(str(int(code))).inc()
    await refuse(websocket, code, reason)


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept (with the protocol the client offered) and close with a code and reason: a
    handshake refused at the HTTP level reaches a browser as a bare 1006."""
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    await websocket.close(code, reason[:120])
