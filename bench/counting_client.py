"""A WebSocket client that costs its machine almost nothing per event, so a fan-out bench
measures the server: it completes the handshake (and Netra's subscribe, socket.io's
namespace) frame by frame, then reads the stream in large chunks and counts events by a
marker every event body carries, with `bytes.count`, instead of parsing each frame.

Once per chunk it reads the newest event's timestamp for latency: the same sampling for
every kind of server."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time

from common import PAD

MARKER = PAD.encode()
# The event's creation time, plain (raw) or inside a JSON string (Netra, socket.io).
TIMESTAMP = re.compile(rb'\\?"t\\?": ([0-9.]+)')
SIO_PING = b"\x81\x012"  # an unmasked text frame holding "2"


def client_frame(text: str) -> bytes:
    """A masked text frame, as a client must send it (RFC 6455 5.3)."""
    data = text.encode()
    mask = os.urandom(4)
    size = len(data)
    header = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0xFE]) + size.to_bytes(2)
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """One unmasked server frame's payload."""
    _, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2))
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8))
    return await reader.readexactly(size)


class CountingClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.latencies: list[float] = []

    @classmethod
    async def connect(cls, port: int, path: str, protocols: tuple[str, ...] = ()) -> CountingClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status.decode(errors='replace')}")
        return cls(reader, writer)

    @classmethod
    async def netra(cls, port: int, token: str, thread_id: str) -> CountingClient:
        client = await cls.connect(port, "/ws", ("netra.v1", f"bearer.{token}"))
        await read_frame(client.reader)  # hello
        subscribe = {"type": "subscribe", "thread_id": thread_id, "after_seq": 0}
        client.writer.write(client_frame(json.dumps(subscribe)))
        ack = json.loads(await read_frame(client.reader))
        if ack["type"] != "ack":
            raise ConnectionError(f"subscribe refused: {ack}")
        return client

    @classmethod
    async def socketio(cls, port: int) -> CountingClient:
        client = await cls.connect(port, "/socket.io/?EIO=4&transport=websocket")
        await read_frame(client.reader)  # engine.io open
        client.writer.write(client_frame("40"))
        await read_frame(client.reader)  # namespace joined
        return client

    async def count(self, expect: int, timeout: float = 30.0) -> int:
        """Read until `expect` events have arrived (or nothing came for `timeout`)."""
        got, tail = 0, b""
        while got < expect:
            try:
                chunk = await asyncio.wait_for(self.reader.read(1 << 18), timeout)
            except TimeoutError:
                break
            if not chunk:
                break
            now = time.time()
            window = tail + chunk
            got += window.count(MARKER)
            tail = window[-(len(MARKER) - 1) :]
            stamps = TIMESTAMP.findall(chunk[-400:])
            if stamps:
                self.latencies.append(now - float(stamps[-1]))
            if SIO_PING in chunk:
                self.writer.write(client_frame("3"))
        return got

    def close(self) -> None:
        self.writer.write(bytes([0x88, 0x80]) + os.urandom(4))  # a close frame, no payload
        self.writer.close()
