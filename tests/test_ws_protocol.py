"""netra.ws_protocol: uvicorn's WebSocket protocol holding less per idle socket, with
uvicorn's behaviour (events in order, flow control, close codes both ways)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from netra.testing import AppServer, eventually
from netra.ws_protocol import SEND_MANY, Flag, Inbox, LeanWebSocketProtocol


class EchoApp:
    """Echoes text frames; "close" closes with 4001; remembers what it saw."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.disconnects: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        self.scopes.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        offered = "echo.v1" in scope["subprotocols"]
        await send({"type": "websocket.accept", "subprotocol": "echo.v1" if offered else None})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message["code"])
                return
            if message.get("text") == "close":
                await send({"type": "websocket.close", "code": 4001, "reason": "asked to"})
                continue
            await send({"type": "websocket.send", "text": message.get("text")})


def connections(server: AppServer) -> list[Any]:
    return list(server.server.server_state.connections)


async def test_the_handshake_state_is_let_go_and_messages_keep_their_order() -> None:
    app = EchoApp()
    async with AppServer(app) as server:
        url = server.url.replace("http", "ws") + "/ws"
        async with websockets.connect(
            url,
            subprotocols=["echo.v1", "bearer.secret-token"],  # type: ignore[list-item]
        ) as ws:
            for k in range(50):  # sent at once: reading pauses while the app lags
                await ws.send(f"m{k}")
            assert [await ws.recv() for _ in range(50)] == [f"m{k}" for k in range(50)]
            (protocol,) = connections(server)
            assert isinstance(protocol, LeanWebSocketProtocol)
            assert not hasattr(protocol, "request")
            assert not hasattr(protocol, "response")
            headers = dict(app.scopes[0]["headers"])
            assert headers[b"sec-websocket-protocol"] == b"echo.v1, bearer.secret-token"
            assert app.scopes[0]["subprotocols"] == ["echo.v1", "bearer.secret-token"]
            assert ws.subprotocol == "echo.v1"
        await _until(lambda: app.disconnects == [1000], "the app heard the client close")


async def test_close_codes_go_both_ways() -> None:
    app = EchoApp()
    async with AppServer(app) as server:
        url = server.url.replace("http", "ws")
        async with websockets.connect(url) as ws:
            await ws.send("close")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "asked to")
        async with websockets.connect(url) as ws:
            await ws.close(4002)
        await _until(lambda: app.disconnects[-1:] == [4002], "the app heard 4002")


class ManyApp:
    """Answers "n" with n text frames sent in one `websocket.send` (SEND_MANY), then
    "close" by closing and trying it once more."""

    def __init__(self) -> None:
        self.offered: list[bool] = []
        self.after_close: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        self.offered.append(SEND_MANY in scope["extensions"])
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            if message["text"] == "close":
                await send({"type": "websocket.close", "code": 4002, "reason": "done"})
                try:
                    await send({"type": "websocket.send", "texts": ["late"]})
                except RuntimeError as exc:
                    self.after_close.append(str(exc))
                continue
            count = int(message["text"])
            await send({"type": "websocket.send", "texts": [f"f{k}" for k in range(count)]})


async def test_many_texts_in_one_send_arrive_as_that_many_frames_in_order() -> None:
    app = ManyApp()
    async with AppServer(app) as server:
        url = server.url.replace("http", "ws") + "/ws"
        async with websockets.connect(url) as ws:
            await ws.send("3")
            await ws.send("1")
            got = [await ws.recv() for _ in range(4)]
            assert got == ["f0", "f1", "f2", "f0"]
            big = 500  # more than one socket write's worth: flow control as usual
            await ws.send(str(big))
            assert [await ws.recv() for _ in range(big)] == [f"f{k}" for k in range(big)]
            await ws.send("close")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4002
    assert app.offered == [True]
    assert app.after_close == ["websocket.send with texts before the accept or after a close"]


class WriteNowApp:
    """Answers "n" with n frames written by SEND_MANY's `write_now`; "flood" with 64 KiB
    frames written so until it says no (the client is not reading: the transport has
    paused); "close" closes, then tries it once more. Remembers what `write_now` said."""

    def __init__(self) -> None:
        self.said: list[Any] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        write_now = scope["extensions"][SEND_MANY]["write_now"]
        await receive()
        self.said.append(("before accept", write_now(["early"])))
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            if message["text"] == "close":
                await send({"type": "websocket.close", "code": 4002, "reason": "done"})
                self.said.append(("after close", write_now(["late"])))
            elif message["text"] == "flood":
                written = 0
                while written < 10_000 and write_now([f"{written:05d}" + "x" * 65_531]):
                    written += 1
                self.said.append(("flood", written))
            else:
                count = int(message["text"])
                self.said.append(("n", write_now([f"w{k}" for k in range(count)])))


async def test_write_now_writes_at_once_while_the_socket_takes_it_and_refuses_else() -> None:
    app = WriteNowApp()
    async with AppServer(app) as server:
        url = server.url.replace("http", "ws")
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send("3")
            assert [await ws.recv() for _ in range(3)] == ["w0", "w1", "w2"]
            await ws.send("flood")
            await _until(lambda: app.said[-1:] and app.said[-1][0] == "flood", "the flood")
            written = app.said[-1][1]
            assert 0 < written < 10_000  # the transport paused: a wait would be needed
            frames = [await ws.recv() for _ in range(written)]
            assert [str(frame)[:5] for frame in frames] == [f"{k:05d}" for k in range(written)]
            await ws.send("1")  # the client read it all: the transport takes more again
            assert await ws.recv() == "w0"
            await ws.send("close")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
    assert app.said[0] == ("before accept", False)
    assert app.said[1] == ("n", True)
    assert app.said[-2:] == [("n", True), ("after close", False)]
    assert not any(frame == "early" for frame in frames)


async def test_inbox_hands_items_over_in_order_and_refuses_a_second_reader() -> None:
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert await reader == "a"
    assert not inbox.empty()
    assert await inbox.get() == "b"
    assert inbox.empty()
    first = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="two coroutines"):
        await inbox.get()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    inbox.put_nowait("c")  # a cancelled reader lost nothing
    assert await inbox.get() == "c"


async def test_flag_wakes_every_waiter_once_set() -> None:
    flag = Flag(True)
    assert await flag.wait()
    flag.clear()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert flag.is_set()
    assert flag.waiters is None


async def _until(condition: Any, what: str) -> None:
    async def holds() -> bool | None:
        return condition() or None

    await eventually(holds, 5.0, what, 0.01)
