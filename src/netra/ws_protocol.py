"""uvicorn's websockets-sansio protocol, holding less per idle connection.

An idle socket is mostly the server's bookkeeping, and uvicorn keeps some it never uses
again once the handshake is done (bench/ws_memory.py; docs/architecture.md, Performance):
- the handshake's `Request` and `Response` (their headers, the access token among them,
  as a dict of lists beside a list of pairs: ~5 KB), dropped (the request's headers
  emptied) once the socket is accepted: the ASGI scope has its own copy of the headers;
- an `asyncio.Queue` of received events (three deques and an Event: ~2.4 KB) and an
  `asyncio.Event` for "the transport can take more" (a deque: ~0.8 KB), replaced by
  `Inbox` and `Flag` below: a list, and a future only while someone waits.
Behaviour is uvicorn's: same events, same order, same flow control (reading pauses while
the app has a message it has not taken), same close handshake.

One addition, offered in the scope's extensions as `SEND_MANY`: a `websocket.send` with
`texts` (a list of strings) writes them as that many text frames in one write to the
socket, where uvicorn makes one write (a system call) per frame; and the extension's
`write_now(texts)` does the same at once, without a coroutine, when the socket can take
them without waiting (False when it cannot: not accepted yet, closing or closed, or the
transport paused). A socket's queued frames are written that way (netra.chat.ws.session):
a write that needs no wait needs no task."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

SEND_MANY = "netra.websocket.send_many"  # the scope extension (see above)


class Inbox:
    """The part of `asyncio.Queue` uvicorn uses (put_nowait, get, empty), for one reader:
    the ASGI app, which awaits `receive()` once at a time."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    async def get(self) -> Any:
        while not self.items:
            if self.waiter is not None:
                raise RuntimeError("receive() awaited by two coroutines at once")
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)


class Flag:
    """The part of `asyncio.Event` uvicorn uses (set, clear, wait, is_set); its waiters'
    list exists only while someone waits."""

    __slots__ = ("value", "waiters")

    def __init__(self, value: bool = False) -> None:
        self.value = value
        self.waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self.value = False

    async def wait(self) -> bool:
        if self.value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)
        try:
            await waiter
        finally:
            if self.waiters is not None and waiter in self.waiters:
                self.waiters.remove(waiter)
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """`uvicorn.Config(ws=LeanWebSocketProtocol)`: see the module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        self.scope["extensions"][SEND_MANY] = {"write_now": self.write_now}

    async def send(self, message: Any) -> None:
        texts = message.get("texts") if message["type"] == "websocket.send" else None
        if texts is None:
            await super().send(message)
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        if not self._open:
            raise RuntimeError("websocket.send with texts before the accept or after a close")
        try:
            self._write(texts)
        except InvalidState as exc:
            raise ClientDisconnected() from exc

    def write_now(self, texts: Sequence[str]) -> bool:
        """Write `texts` as text frames in one write if the socket takes them now; else
        write nothing and say False (the caller then awaits `websocket.send`)."""
        if self.disconnected or not self._open or not self.writable.is_set():
            return False
        try:
            self._write(texts)
        except InvalidState:  # closing: the awaited send reports it
            return False
        return True

    @property
    def _open(self) -> bool:
        """Accepted, and no close sent."""
        return self.handshake_complete and not self.close_sent and self.initial_response is None

    def _write(self, texts: Sequence[str]) -> None:
        for text in texts:  # the first one raises InvalidState if the socket is not open
            self.conn.send_text(text.encode())
        self.transport.write(b"".join(self.conn.data_to_send()))

    def start_keepalive(self) -> None:
        # uvicorn calls this once, right after it has written the 101 response: the
        # handshake's request and response are never read again.
        super().start_keepalive()
        request = self.__dict__.pop("request", None)
        if request is not None:
            # websockets' parser generator keeps the Request alive as a local for the
            # connection's life: empty its headers (the ASGI scope has its own copy).
            request.headers.clear()
        self.__dict__.pop("response", None)
