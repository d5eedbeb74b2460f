"""Request bodies are bounded before they are read (MAX_BODY_BYTES).

A declared `Content-Length` beyond the limit is answered 413 before the app runs; a body
without one (chunked) is counted as it streams in, and the read that crosses the limit
raises `BodyTooLarge`, which FastAPI lets through its body parsing and renders as 413.
Either way no more than the limit (plus one chunk) is ever held in memory. A route that
takes bigger bodies (file uploads: UPLOAD_MAX_BODY_BYTES) is named with its own limit in
`larger`; every other route keeps MAX_BODY_BYTES.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REASON = "body_too_large"
# The file upload route (netra.chat.routes.files): its bodies may reach UPLOAD_MAX_BODY_BYTES.
UPLOAD_PATH = r"/api/threads/[^/]+/files"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, {"reason": REASON, "message": _message(limit)})


def _message(limit: int) -> str:
    return f"the request body is larger than this service accepts ({limit} bytes)"


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[str, int]] = ()
    ) -> None:
        """`larger`: (path regex, limit) of the routes allowed more than `max_bytes`."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in larger]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await self._refuse(send, max_bytes)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        body = json.dumps({"detail": {"reason": REASON, "message": _message(max_bytes)}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                # The rest of the body is never read: the connection cannot be reused.
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
