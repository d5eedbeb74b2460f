"""A thread's events over /ws as an async iterator that reconnects and resumes from the
last seq it delivered: no gaps, no duplicates, across restarts (1012), overload (1013),
dropped connections and expired tokens (4401, after a refresh)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from netra.agents.events import TERMINAL_TYPES, AgentEvent, parse_event
from netra.client.errors import NetraError, StreamClosed
from netra.close_codes import Close

# 1000 and 1006 are not Netra's to send: a normal close and a dropped connection.
RETRY = frozenset(
    {1000, 1006, Close.GOING_AWAY, Close.INTERNAL, Close.RESTARTING, Close.OVERLOADED}
)
TokenSource = Callable[[bool], Awaitable[str]]


@dataclass(frozen=True)
class ServerEvent:
    """One persisted agent event of a thread, as the server numbered it."""

    type: str
    thread_id: str
    run_id: str
    seq: int
    ts: str
    payload: dict[str, Any]

    @property
    def event(self) -> AgentEvent:
        """The typed agent event (netra.agents.events)."""
        return parse_event({"type": self.type, **self.payload})

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES


async def open_socket(ws_url: str, token: str) -> ClientConnection:
    """A /ws connection authenticated in the handshake: the token travels as a
    subprotocol (browsers cannot set headers), never in the URL."""
    protocols: Any = ["netra.v1", f"bearer.{token}"]
    return await connect(ws_url, subprotocols=protocols, open_timeout=10)


class EventStream:
    """`async for event in stream`: events of `thread_id` after `after_seq`, forever (or
    until the terminal event of `until_run`)."""

    def __init__(
        self,
        ws_url: str,
        token: TokenSource,
        thread_id: str,
        *,
        after_seq: int = 0,
        until_run: str | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        self.ws_url = ws_url
        self.token = token
        self.thread_id = thread_id
        self.last_seq = after_seq
        self.until_run = until_run
        self.max_backoff = max_backoff
        self.reconnects = 0

    def __aiter__(self) -> AsyncIterator[ServerEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[ServerEvent]:
        refresh, delay, refused = False, 0.1, ""
        while True:
            try:
                try:
                    socket = await self._open(refresh)
                except NetraError as exc:  # no fresh token to be had: say both reasons
                    raise StreamClosed(Close.UNAUTHORIZED, f"{refused}; {exc.message}") from None
                async with socket as ws:
                    refresh, delay = False, 0.1
                    async for event in self._follow(ws):
                        yield event
                        if self.until_run == event.run_id and event.terminal:
                            return
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                reason = closed.rcvd.reason if closed.rcvd else "connection lost"
                if code == Close.UNAUTHORIZED:
                    if refresh:  # a fresh token was refused too
                        raise StreamClosed(code, reason) from None
                    refresh, refused = True, reason
                elif code not in RETRY:
                    raise StreamClosed(code, reason) from None
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                if isinstance(exc, InvalidStatus) and exc.response.status_code < 500:
                    raise StreamClosed(exc.response.status_code, str(exc)) from None
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    async def _open(self, refresh: bool) -> ClientConnection:
        return await open_socket(self.ws_url, await self.token(refresh))

    async def _follow(self, ws: ClientConnection) -> AsyncIterator[ServerEvent]:
        request = {"type": "subscribe", "thread_id": self.thread_id, "after_seq": self.last_seq}
        await ws.send(json.dumps(request))
        async for frame in ws:
            data = json.loads(frame)
            kind = data["type"]
            if kind == "heartbeat":
                await ws.send('{"type":"ping"}')
            elif kind == "error" and data["payload"].get("request") == "subscribe":
                payload = data["payload"]
                raise StreamClosed(Close.BAD_REQUEST, f"{payload['code']}: {payload['message']}")
            elif data.get("seq") == self.last_seq + 1 and data["thread_id"] == self.thread_id:
                # Anything else is a duplicate or another thread: the server fills gaps.
                self.last_seq = data["seq"]
                yield ServerEvent(**data)
