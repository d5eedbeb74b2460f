"""People using a deployment through its public (nginx) URLs while a test rolls it:
requests in a loop, and signed-in users chatting over /ws. Each keeps what it saw, so a
test can say what went wrong: a failed request, a dropped or repeated event, a lost run."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from netra.client import NetraClient
from netra.client.errors import NetraError


def closed_idle(exc: Exception) -> bool:
    """The keep-alive race of any server that stops a worker: the connection was closed
    as idle while the next request was on its way, so nothing of it was processed.
    Browsers send such a request again by themselves (RFC 9112, 9.3.1); httpx does not."""
    return isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" in str(exc)


class ClientLoop:
    """Requests against the public (nginx) URL until stopped; counts every failure, and
    the requests sent again, as a browser would, after the keep-alive race (`retried`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.retried = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                try:
                    try:
                        answer = client.get(f"{self.url}/health/ready")
                    except httpx.RemoteProtocolError as exc:
                        if not closed_idle(exc):
                            raise
                        self.retried += 1
                        answer = client.get(f"{self.url}/health/ready")
                    if answer.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"{answer.status_code} {answer.text[:100]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(0.01)

    def __enter__(self) -> ClientLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    """One answer as the user saw it arrive."""

    question: str
    expected: str  # in the answer: the product asked for
    deltas: list[str] = field(default_factory=list)
    answer: str | None = None
    error: str | None = None


@dataclass
class Pending:
    """A message sent over /ws and not yet acknowledged: sent again (same client_msg_id)
    after a reconnect, which the server answers with the first message and run."""

    client_msg_id: str
    question: str
    expected: str

    def frame(self, thread_id: str) -> str:
        return json.dumps(
            {
                "type": "send_message",
                "thread_id": thread_id,
                "text": self.question,
                "client_msg_id": self.client_msg_id,
            }
        )


def question() -> tuple[str, str]:
    a, b = secrets.randbelow(900) + 100, secrets.randbelow(90) + 10
    return f"what is {a} * {b}?", f"{a * b:,}"


class Chatter:
    """One user with one thread over the raw protocol (docs/protocol.md): subscribe after
    the last seq received, ask, read the run to its end, pause, ask again. It asks over
    /ws, or (`rest`, as the web UI does) with a POST while following over /ws. Every
    agent-event seq is recorded as received, duplicates included; a closed socket is
    reconnected and resumed (allowed, and counted)."""

    def __init__(self, client: NetraClient, thread_id: str, pause: float, rest: bool) -> None:
        self.client = client
        self.thread_id = thread_id
        self.pause = pause
        self.rest = rest
        self.seqs: list[int] = []
        self.runs: dict[str, Run] = {}
        self.sent = 0
        self.retried = 0
        self.closes: list[str] = []
        self.failures: list[str] = []
        self.pending: Pending | None = None
        self.running: str | None = None
        self.next_send = 0.0

    @property
    def idle(self) -> bool:
        return self.pending is None and self.running is None

    async def chat(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and self.idle):
            try:
                ws = await self.client.connect()
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                # nginx answers every handshake during a rollout: a refusal is a failure.
                self.failures.append(f"connect: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.2)
                continue
            try:
                async with ws:
                    await self._session(ws, stop)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                reason = closed.rcvd.reason if closed.rcvd else "connection lost"
                self.closes.append(f"{code} {reason}".strip())
                await asyncio.sleep(0.1)

    async def _session(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        after = self.seqs[-1] if self.seqs else 0
        await ws.send(
            json.dumps({"type": "subscribe", "thread_id": self.thread_id, "after_seq": after})
        )
        if self.pending is not None:
            await ws.send(self.pending.frame(self.thread_id))
        while True:
            if self.idle:
                if stop.is_set():
                    return
                if time.monotonic() >= self.next_send:
                    await self._ask(ws)
            try:
                frame = await asyncio.wait_for(ws.recv(), timeout=0.05)
            except TimeoutError:
                continue
            data = json.loads(frame)
            if data["type"] == "heartbeat":
                await ws.send('{"type":"ping"}')
            self._on(data)

    async def _ask(self, ws: ClientConnection) -> None:
        self.sent += 1
        text, expected = question()
        if not self.rest:
            self.pending = Pending(str(uuid.uuid4()), text, expected)
            await ws.send(self.pending.frame(self.thread_id))
            return
        message_id = str(uuid.uuid4())  # the same when sent again: one run either way
        try:
            try:
                posted = await self.client.send(self.thread_id, text, message_id)
            except httpx.RemoteProtocolError as exc:
                if not closed_idle(exc):
                    raise
                self.retried += 1
                posted = await self.client.send(self.thread_id, text, message_id)
        except (NetraError, httpx.HTTPError) as exc:
            self.failures.append(f"POST message: {type(exc).__name__}: {exc}")
            self.next_send = time.monotonic() + self.pause
            return
        self.runs.setdefault(posted["run_id"], Run(text, expected))
        self.running = posted["run_id"]

    def _on(self, data: dict[str, Any]) -> None:
        kind, payload = data["type"], data["payload"]
        if kind == "error":
            self.failures.append(f"error {payload.get('code')}: {payload.get('message')}")
            if payload.get("request") == "send_message":
                self.pending = None
                self.next_send = time.monotonic() + self.pause
            return
        if kind == "ack" and payload.get("request") == "send_message":
            assert self.pending is not None
            sent, self.pending = self.pending, None
            # A message sent again after a reconnect (its ack lost in the close) may be
            # acknowledged after the resumed stream has already replayed its whole run.
            run = self.runs.setdefault(data["run_id"], Run(sent.question, sent.expected))
            run.question, run.expected = sent.question, sent.expected
            if run.answer is None and run.error is None:
                self.running = data["run_id"]
            else:
                self.next_send = time.monotonic() + self.pause
            return
        if data.get("seq") is None:
            return
        self.seqs.append(data["seq"])
        run = self.runs.setdefault(data["run_id"], Run("(not asked by this user)", ""))
        if kind == "message_delta":
            run.deltas.append(payload["text"])
        elif kind in ("agent_completed", "agent_error"):
            if kind == "agent_completed":
                run.answer = payload["text"]
            else:
                run.error = f"{payload['code']}: {payload['reason']}"
            if data["run_id"] == self.running:
                self.running = None
                self.next_send = time.monotonic() + self.pause

    def waiting_for(self) -> str:
        """What keeps this user from stopping, for a loop that does not end."""
        if self.pending is not None:
            return f"no ack for message {self.pending.client_msg_id}"
        run = self.runs.get(self.running or "")
        seen = _ranges(self.seqs[-5:])
        return f"no end of run {self.running} ({run and run.question}); last seqs {seen}"

    def problems(self, last_seq: int) -> list[str]:
        """What this user saw go wrong; `last_seq` is the thread's, as the server has it."""
        found = list(self.failures)
        if self.seqs != list(range(1, last_seq + 1)):
            found.append(f"seqs received {_ranges(self.seqs)}; the thread has 1..{last_seq}")
        if len(self.runs) != self.sent:
            found.append(f"{self.sent} messages sent, {len(self.runs)} runs seen")
        for run_id, run in self.runs.items():
            if run.answer is None:
                found.append(f"run {run_id} ({run.question}) ended {run.error or 'never'}")
            elif run.answer != "".join(run.deltas):
                found.append(f"run {run_id}: answer {run.answer!r} != deltas {run.deltas!r}")
            elif run.expected not in run.answer:
                found.append(f"run {run_id}: {run.question} answered {run.answer!r}")
        return found


class ChatLoop:
    """`users` people signing up through the public URLs, then chatting until stopped,
    half of them asking over /ws and half with a POST (as the web UI does); on stop each
    finishes the run it is reading. Runs in its own thread."""

    def __init__(self, backend: str, auth: str, users: int = 4, pause: float = 0.3) -> None:
        self.backend, self.auth = backend, auth
        self.users, self.pause = users, pause
        self.chatters: list[Chatter] = []
        self.last_seqs: list[int] = []
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by problems(), not lost in a thread
            self.error = exc
            self._started.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        clients = [NetraClient(self.backend, auth_url=self.auth) for _ in range(self.users)]
        try:
            for number, client in enumerate(clients):
                email = f"chat-{secrets.token_hex(4)}@rollout.netra.invalid"
                password = secrets.token_urlsafe(16)
                await client.register(email, password)
                await client.sign_in(email, password)
                thread = await client.create_thread("during a rollout")
                self.chatters.append(Chatter(client, thread.id, self.pause, number % 2 == 1))
            self._started.set()
            await asyncio.gather(*(chatter.chat(self._stop) for chatter in self.chatters))
            for client, chatter in zip(clients, self.chatters, strict=True):
                threads = await client.list_threads()
                self.last_seqs.append(
                    next(t.last_seq for t in threads if t.id == chatter.thread_id)
                )
        finally:
            for client in clients:
                await client.aclose()

    def __enter__(self) -> ChatLoop:
        self._thread.start()
        self._started.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    @property
    def answers(self) -> int:
        return sum(run.answer is not None for c in self.chatters for run in c.runs.values())

    @property
    def retried(self) -> int:
        return sum(chatter.retried for chatter in self.chatters)

    @property
    def reconnects(self) -> list[str]:
        return [close for chatter in self.chatters for close in chatter.closes]

    def problems(self) -> list[str]:
        if self.error is not None:
            return [f"chat loop crashed: {type(self.error).__name__}: {self.error}"]
        if self._thread.is_alive():
            stuck = [
                f"user {number}: {chatter.waiting_for()}; closes {chatter.closes}"
                for number, chatter in enumerate(self.chatters)
                if not chatter.idle
            ]
            return ["chat loop still running 60 s after stop: a run never ended", *stuck]
        found = []
        pairs = zip(self.chatters, self.last_seqs, strict=True)
        for number, (chatter, last_seq) in enumerate(pairs):
            found += [f"user {number}: {p}" for p in chatter.problems(last_seq)]
        return found


def _ranges(seqs: list[int]) -> str:
    """[1, 2, 3, 5, 5] → '1..3, 5, 5': short enough to read in an assertion."""
    runs: list[list[int]] = []
    for seq in seqs:
        if runs and seq == runs[-1][-1] + 1:
            runs[-1].append(seq)
        else:
            runs.append([seq])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs) or "none"
