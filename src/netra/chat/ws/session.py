"""One authenticated socket: a reader task, and the connection's bounded outbox written
out as frames arrive in it. Nothing the client does can block the fan-out. The frames
pushed in one turn of the loop are written together by a callback, at once when the
socket takes them without waiting (netra.ws_protocol's `write_now`); a writer task exists
only while a write must wait (the client reads slowly) or a close is owed (a failure the
outbox was given), and it ends once the outbox is empty. An idle socket holds no writer;
the heartbeat is a loop timer (docs/architecture.md, Performance)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import WebSocket
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.websockets import WebSocketDisconnect

from netra.agents.approvals import Decision
from netra.chat.backend import ChatBackend
from netra.chat.errors import ChatError, TooManyStreams
from netra.chat.hub import Subscription
from netra.chat.outbox import Outbox
from netra.chat.tree import SHOWN_LEAF
from netra.chat.ws.errors import answer
from netra.chat.ws.protocol import (
    MESSAGE_SCOPES,
    ApproveTool,
    CancelRun,
    ClientMessage,
    Ping,
    ProtocolError,
    SendMessage,
    Subscribe,
    Unsubscribe,
    ack,
    parse_client,
    reply,
)
from netra.close_codes import Close
from netra.errors import Overloaded
from netra.health.tracing import span_if_tracing
from netra.tokens import Principal
from netra.tokens.scopes import InsufficientScope, require_scope
from netra.ws_protocol import SEND_MANY

log = logging.getLogger("netra.chat.ws")
tracer = trace.get_tracer("netra.chat.ws")


class SocketSession:
    __slots__ = (
        "backend",
        "client_close_code",
        "credential",
        "drainer",
        "flushing",
        "last_heard",
        "last_sent",
        "outbox",
        "settings",
        "subscriptions",
        "timer",
        "user",
        "websocket",
        "window_frames",
        "window_start",
    )

    def __init__(
        self, websocket: WebSocket, backend: ChatBackend, user: Principal, token: str
    ) -> None:
        self.websocket = websocket
        self.backend = backend
        self.user = user
        # Only an API key is verified again while the socket lives (netra.chat.streams);
        # an access token is not kept (the verifier's cache holds its digest).
        self.credential = token if user.kind == "api_key" else None
        self.settings = backend.settings
        self.outbox = Outbox(self.settings.ws_queue_size)
        self.subscriptions: dict[str, Subscription] = {}
        self.last_heard = time.monotonic()
        self.window_start = self.last_heard
        self.window_frames = 0
        self.last_sent = self.last_heard
        self.timer: asyncio.TimerHandle | None = None
        self.drainer: asyncio.Task[None] | None = None
        self.flushing = False  # a `_flush` is due
        self.client_close_code = 1006  # until the client says otherwise

    @property
    def send_many(self) -> dict[str, Any] | None:
        """The server's SEND_MANY extension (netra.ws_protocol): several frames in one
        write, and `write_now`; None under a server without it."""
        extension: dict[str, Any] | None = self.websocket.scope.get("extensions", {}).get(SEND_MANY)
        return extension

    async def run(self) -> None:
        """Serve the socket until either side ends it. Setting up and tearing down are
        plain calls around `_read`: an idle socket keeps alive every coroutine frame it
        waits through (~250 B each). Cancelled (the server stops), it cancels the reader
        it awaits."""
        metrics = self.backend.runtime.metrics
        metrics.ws_open.inc()
        try:
            try:
                stream = self.backend.streams.open(self.user, self.credential, self.outbox.fail)
            except TooManyStreams as exc:  # another socket of this user got in first
                await self.websocket.close(Close.OVERLOADED, exc.message[:120])
                return
            try:
                self._start()
                # The reader is a task of its own: a frame (or any wait of the message it
                # carries) resumes it alone, not the whole ASGI chain (server, app,
                # middleware) that awaits it (docs/architecture.md, Performance).
                await asyncio.create_task(self._read(), name="ws-reader")
            finally:
                await self._stop()
                self.backend.streams.close(stream)
        finally:
            metrics.ws_open.dec()
            code = self.outbox.close_code or self.client_close_code
            metrics.ws_closes.labels(str(code)).inc()

    def _start(self) -> None:
        self.backend.sockets.add(self.outbox)
        self.outbox.ready = self._drain_soon
        self._beat()
        self.outbox.push(
            reply(
                "hello",
                {
                    "user_id": self.user.subject,
                    "heartbeat": self.settings.ws_heartbeat_interval,
                    "max_frame_bytes": self.settings.ws_max_frame_bytes,
                    "max_text_chars": self.settings.message_max_chars,
                },
            )
        )

    async def _stop(self) -> None:
        """Leave the hub and the drain registry; let the writer finish a close it owes."""
        for subscription in self.subscriptions.values():
            self.backend.hub.unsubscribe(subscription)
        self.backend.sockets.discard(self.outbox)
        self.outbox.ready = None
        if self.timer is not None:
            self.timer.cancel()
        drainer = self.drainer
        if drainer is not None:
            if self.outbox.close_code is None:
                drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await drainer

    async def _read(self) -> None:
        while self.outbox.close_code is None:
            try:
                message = await self.websocket.receive()
            except WebSocketDisconnect as gone:
                self.client_close_code = gone.code
                return
            except RuntimeError:
                return
            if message["type"] == "websocket.disconnect":
                self.client_close_code = int(message.get("code", 1006))
                return
            raw = message.get("text")
            if raw is None:
                data = message.get("bytes") or b""
                raw = data.decode("utf-8", "replace")
            self.last_heard = time.monotonic()
            try:
                self._police(raw)
                request = parse_client(raw)
            except ProtocolError as exc:
                self.outbox.fail(exc.code, exc.reason)
                continue
            try:
                scope = MESSAGE_SCOPES[request.type]
                if scope is not None:
                    require_scope(self.user, scope)
                await self._handle(request)
            except (ChatError, InsufficientScope) as exc:
                answer(self.outbox, request, exc)
            except PoolTimeout:  # the socket stays: the client sends it again shortly
                answer(self.outbox, request, Overloaded())

    def _police(self, raw: str) -> None:
        if len(raw.encode()) > self.settings.ws_max_frame_bytes:
            raise ProtocolError(
                Close.TOO_BIG, f"frame larger than {self.settings.ws_max_frame_bytes} bytes"
            )
        if self.last_heard - self.window_start >= 10.0:
            self.window_start, self.window_frames = self.last_heard, 0
        self.window_frames += 1
        if self.window_frames > self.settings.ws_frame_rate_limit:
            raise ProtocolError(
                Close.RATE_LIMITED,
                f"more than {self.settings.ws_frame_rate_limit} frames in 10s",
            )

    def _drain_soon(self) -> None:
        """The outbox has something for the socket: written once the frames this turn
        of the loop pushes have joined it (`_flush`)."""
        if self.drainer is None and not self.flushing:
            self.flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Write what the outbox holds, at once when the socket takes it without waiting
        (netra.ws_protocol: most writes); else, and for a close the outbox owes, the
        writer task does."""
        self.flushing = False
        outbox = self.outbox
        if self.drainer is not None or outbox.ready is None:  # a writer has it, or ended
            return
        if outbox.frames and outbox.close_code is None:
            extension = self.send_many
            if extension is not None and extension["write_now"](outbox.frames):
                self.last_sent = time.monotonic()
                outbox.take()
                return
        if outbox.frames or outbox.close_code is not None:
            self.drainer = asyncio.create_task(self._drain(), name="ws-writer")

    async def _drain(self) -> None:
        """Write what the outbox holds (frames pushed meanwhile too), or close the socket
        as the outbox says once it has failed; then end."""
        outbox = self.outbox
        try:
            while outbox.frames and outbox.close_code is None:
                self.last_sent = time.monotonic()
                batch = outbox.take()
                if self.send_many is not None and len(batch) > 1:  # one write for all
                    await self.websocket.send({"type": "websocket.send", "texts": batch})
                    continue
                for frame in batch:
                    await self.websocket.send_text(frame)
            if outbox.close_code is not None:
                await self.websocket.close(outbox.close_code, outbox.close_reason)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            self.drainer = None

    def _beat(self) -> None:
        interval = self.settings.ws_heartbeat_interval
        now = time.monotonic()
        if now - self.last_heard > 3 * interval:
            self.outbox.fail(Close.GOING_AWAY, "heartbeat timeout")
            return
        if now - self.last_sent >= interval * 0.9:
            self.outbox.push(reply("heartbeat", {}))
        self.timer = asyncio.get_running_loop().call_later(interval, self._beat)

    async def _handle(self, request: ClientMessage) -> None:
        if isinstance(request, Ping):
            self.outbox.push(reply("pong", {"id": request.id}))
        elif isinstance(request, Subscribe):
            await self._subscribe(request)
        elif isinstance(request, Unsubscribe):
            subscription = self.subscriptions.pop(request.thread_id, None)
            if subscription is not None:
                self.backend.hub.unsubscribe(subscription)
            self.outbox.push(ack(request, request.thread_id))
        elif isinstance(request, SendMessage):
            await self._send(request)
        elif isinstance(request, ApproveTool):
            await self._approve(request)
        else:
            await self._cancel(request)

    async def _subscribe(self, request: Subscribe) -> None:
        thread = await self.backend.follow_from(
            self.user.subject, request.thread_id, request.after_seq
        )
        earlier = self.subscriptions.pop(request.thread_id, None)
        if earlier is not None:
            self.backend.hub.unsubscribe(earlier)
        self.outbox.push(ack(request, request.thread_id, last_seq=thread.last_seq))
        self._follow(request.thread_id, request.after_seq)

    def _follow(self, thread_id: str, after_seq: int, *, replay: bool = True) -> None:
        self.subscriptions[thread_id] = self.backend.hub.subscribe(
            thread_id, after_seq, self.outbox, replay=replay
        )

    async def _send(self, request: SendMessage) -> None:
        # A message is the socket's request: its trace (continuing the sender's, if it
        # gave one) holds the run it starts, as a REST POST's does.
        carrier = {"traceparent": request.traceparent} if request.traceparent else {}
        with span_if_tracing(tracer, "WS send_message", carrier=carrier, kind=SpanKind.SERVER):
            posted = await self.backend.send_message(
                self.user,
                request.thread_id,
                request.text,
                request.client_msg_id,
                model=request.model,
                interrupt=request.interrupt,
                file_ids=request.file_ids,
                parent_id=(
                    request.parent_id if "parent_id" in request.model_fields_set else SHOWN_LEAF
                ),
            )
        self.outbox.push(
            ack(
                request,
                request.thread_id,
                posted.run.id,
                message_id=posted.message.id,
                created=posted.created,
                after_seq=posted.after_seq,
                status=posted.status,
            )
        )
        if request.thread_id not in self.subscriptions:
            # A new run's task publishes its first event (after_seq + 1) once this
            # handler yields: follow live from there, no read of the log.
            self._follow(request.thread_id, posted.after_seq, replay=not posted.created)

    async def _cancel(self, request: CancelRun) -> None:
        run = await self.backend.cancel_run(self.user.subject, request.run_id)
        self.outbox.push(ack(request, run.thread_id, run.id))

    async def _approve(self, request: ApproveTool) -> None:
        decision = Decision(request.approved, request.note)
        answered = await self.backend.answer_approval(
            self.user.subject, request.run_id, request.call_id, decision
        )
        self.outbox.push(
            ack(
                request,
                answered.thread_id,
                answered.run_id,
                call_id=answered.call_id,
                approved=answered.approved,
            )
        )
