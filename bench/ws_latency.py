"""Time from `send_message` to `agent_started` (builtin agent), one user alone and many
at once, and U users x M messages each with zero lost or duplicated events.

Usage: `uv run python bench/ws_latency.py [USERS] [MESSAGES]` (default 1000 x 10).
SQLite by default; DATABASE_URL=postgresql://... (an existing, empty database) for
PostgreSQL; REDIS_URL for the Redis bus.

Tokens are real: minted by the auth service's issuer with a key this bench generates,
verified by the backend against the auth service's JWKS. The baseline of the same run
is a `ping` -> `pong` round trip on the same socket (transport and frame loop, no
database), printed beside each latency so figures compare across a noisy machine.
Every user checks its live stream against the event log afterwards: the same seqs,
types and payloads, gap-free, one terminal event per run, no `agent_error`, and each
answer's deltas add up to its `agent_completed` text. Last, the database's own rate for
the same rows (bench/db_rates.py: a transaction per message, and group commit), beside
Netra's messages/s of the burst (goal: at least 0.3 of the first), and the backend's CPU
per message during the burst (Linux: /proc), the event loop's thread and the others (on
SQLite its connections' threads; none on PostgreSQL): the machine's slow minutes show
there as slower CPU, not only as longer waits.

PROFILE=out.txt records the backend with py-spy (a dev dependency) during the burst only,
from the moment every user sends to the last answer (`--gil --nonblocking --format raw`,
100 Hz; PROFILE_RATE to change, PROFILE_FORMAT=speedscope to keep the samples' order),
for the profile in docs/architecture.md.

The client processes share the machine's cores with the backend: their CPU a message is
printed beside the backend's. Each waits on its socket without a task per frame (one
timeout per message, not `asyncio.wait_for` around every `recv`, which on Python 3.11
wraps each in a task of its own)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

import db_rates
from common import TokenMinter, cpu_seconds, spawn, start_auth, wait_port
from db_rates import PostgresRates, SqliteRates
from netra.testing import free_port

PROCESSES = 4
SOLO_MESSAGES = 200
TIMEOUT = 120  # seconds a message may take, from its send to its run's end


class User:
    """One user with a thread and a socket, sending messages one after the other."""

    def __init__(self, port: int, name: str, token: str, http: httpx.AsyncClient) -> None:
        self.port, self.name, self.token, self.http = port, name, token, http
        self.latencies: list[float] = []
        self.pings: list[float] = []
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.retries = 0  # requests answered `overloaded` and sent again, as a client does
        self.step = "not started"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.thread_id = ""
        self.ws: Any = None

    async def converse(self, messages: int) -> None:
        """The whole conversation: ready, talk, then the check against the event log."""
        await self.prepare()
        await self.talk(messages)
        await self.check(messages)

    async def prepare(self) -> None:
        """A thread and an open socket (the hello read), before the user sends anything."""
        await self._named(self._prepare())

    async def talk(self, messages: int) -> None:
        """The messages, one after the other; the socket is closed after the last."""
        await self._named(self._talk(messages))

    async def check(self, messages: int) -> None:
        """What the socket showed against the event log, read back over HTTP."""
        self.step = "the check against the event log"
        await self._named(self._check(self.thread_id, self.headers, messages))

    async def _named(self, step: Any) -> None:
        """A failure names the step it stopped at."""
        try:
            await step
        except Exception as exc:
            raise RuntimeError(f"{self.name} at {self.step}: {type(exc).__name__} {exc}") from exc

    async def _prepare(self) -> None:
        url = f"http://127.0.0.1:{self.port}/api/threads"
        self.step = "POST /api/threads"
        while True:
            made = await self.http.post(url, json={"title": "bench"}, headers=self.headers)
            if made.status_code != 503:
                break
            self.retries += 1
            await asyncio.sleep(float(made.headers.get("retry-after", "1")))
        self.thread_id = made.json()["id"]
        self.step = "the socket's handshake"
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws",
            subprotocols=["netra.v1", f"bearer.{self.token}"],  # type: ignore[list-item]
            open_timeout=120,
            max_queue=None,
        )
        await self.ws.recv()  # hello

    async def _talk(self, messages: int) -> None:
        try:
            for n in range(messages):
                self.step = f"message {n}"
                await self.message(self.ws, self.thread_id, n)
                await self.ping(self.ws, n)
        finally:
            await self.ws.close()

    async def message(self, ws: Any, thread_id: str, n: int) -> None:
        """Send message `n`; return at its run's end (its agent_started timed)."""
        request = {
            "type": "send_message",
            "thread_id": thread_id,
            "text": f"What is {n} + {n}?",
            "client_msg_id": f"m{n}",
        }
        sent = time.perf_counter()
        async with asyncio.timeout(TIMEOUT):
            await self._answered(ws, request, sent)

    async def _answered(self, ws: Any, request: dict[str, Any], sent: float) -> None:
        await ws.send(json.dumps(request))
        while True:
            data = json.loads(await ws.recv())
            if data["type"] == "error" and data["payload"]["code"] == "overloaded":
                # Nothing stored twice: the same client_msg_id again, after retry_after.
                self.retries += 1
                await asyncio.sleep(data["payload"]["retry_after"])  # counted in the latency
                await ws.send(json.dumps(request))
                continue
            if data["type"] == "error":
                raise RuntimeError(f"{self.name}: {data['payload']}")
            if data["seq"] is None:
                continue  # ack, heartbeat
            self.events.append(data)
            if data["type"] == "agent_started":
                self.latencies.append(time.perf_counter() - sent)
            if data["type"] in ("agent_completed", "agent_error"):
                return

    async def ping(self, ws: Any, n: int) -> None:
        """A ping; return at its pong (timed)."""
        sent = time.perf_counter()
        async with asyncio.timeout(TIMEOUT):
            await ws.send(json.dumps({"type": "ping", "id": f"p{n}"}))
            while json.loads(await ws.recv())["type"] != "pong":
                pass
        self.pings.append(time.perf_counter() - sent)

    async def _check(self, thread_id: str, headers: dict[str, str], messages: int) -> None:
        logged: list[dict[str, Any]] = []
        while True:
            page = await self.http.get(
                f"http://127.0.0.1:{self.port}/api/threads/{thread_id}/events",
                params={"after_seq": len(logged), "limit": 1000},
                headers=headers,
            )
            items = page.json()["items"]
            logged += items
            if len(items) < 1000:
                break
        live = [(e["seq"], e["type"], e["payload"]) for e in self.events]
        stored = [(e["seq"], e["type"], e["payload"]) for e in logged]
        if live != stored:
            self.problems.append(f"{self.name}: live stream differs from the event log")
        if [seq for seq, _, _ in live] != list(range(1, len(live) + 1)):
            self.problems.append(f"{self.name}: seqs not gap-free and unique")
        runs: dict[str, list[dict[str, Any]]] = {}
        for event in logged:
            runs.setdefault(event["run_id"], []).append(event)
        if len(runs) != messages:
            self.problems.append(f"{self.name}: {len(runs)} runs for {messages} messages")
        for run_id, events in runs.items():
            self.problems += _run_problems(f"{self.name} run {run_id[:8]}", events)


def _run_problems(where: str, events: list[dict[str, Any]]) -> list[str]:
    types = [e["type"] for e in events]
    if types.count("agent_started") != 1 or types[0] != "agent_started":
        return [f"{where}: agent_started not once and first"]
    if types[-1] != "agent_completed" or "agent_error" in types:
        return [f"{where}: ended with {types[-1]}: {events[-1]['payload']}"]
    text = "".join(e["payload"]["text"] for e in events if e["type"] == "message_delta")
    if text != events[-1]["payload"]["text"]:
        return [f"{where}: the deltas do not add up to the answer"]
    return []


async def users_main(port: int, first: int, count: int, messages: int) -> None:
    minter = await TokenMinter.open()
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        names = [f"u{k}" for k in range(first, first + count)]
        users = [User(port, name, minter.mint(name), http) for name in names]
        # Every user with a thread and an open socket first; then, when every client
        # process is ready, all send at once: the burst is the sends, not the sign-ins.
        prepared = await asyncio.gather(*(u.prepare() for u in users), return_exceptions=True)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        ready = [u for u, r in zip(users, prepared, strict=True) if r is None]
        talked = await asyncio.gather(*(u.talk(messages) for u in ready), return_exceptions=True)
        # The burst ends with the last answer: reading every log back to check it is not
        # part of it, so it waits until every client process has talked.
        print("talked", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        spoke = [u for u, r in zip(ready, talked, strict=True) if r is None]
        checked = await asyncio.gather(*(u.check(messages) for u in spoke), return_exceptions=True)
    results = [*prepared, *talked, *checked]
    problems = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    print(
        json.dumps(
            {
                "lat": [x for u in users for x in u.latencies],
                "first": [u.latencies[0] for u in users if u.latencies],
                "ping": [x for u in users for x in u.pings],
                "runs": sum(len(u.latencies) for u in users),
                "retries": sum(u.retries for u in users),
                "problems": problems + [p for u in users for p in u.problems],
            }
        )
    )


def ms(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[max(0, round(quantile * len(ordered)) - 1)]


async def solo(port: int) -> list[str]:
    minter = await TokenMinter.open()
    async with httpx.AsyncClient(timeout=60) as http:
        warm = User(port, "warm", minter.mint("warm"), http)
        await warm.converse(20)
        user = User(port, "solo", minter.mint("solo"), http)
        await user.converse(SOLO_MESSAGES)
    lat, ping = user.latencies, user.pings
    print(f"send_message -> agent_started, one user, {SOLO_MESSAGES} messages:")
    print(
        f"  p50 {ms(lat, 0.5):.1f} ms  p99 {ms(lat, 0.99):.1f} ms (goal < 10 ms); "
        f"ping -> pong p50 {ms(ping, 0.5):.2f} ms (p50 x{ms(lat, 0.5) / ms(ping, 0.5):.1f})"
    )
    return warm.problems + user.problems


async def client_processes(
    script: str, role: str, port: int, users: int, *args: int
) -> list[asyncio.subprocess.Process]:
    """`python script role port first count *args` for each of PROCESSES shares of the
    users (none for an empty share), stdin and stdout piped: the caller steps them."""
    shares = [users // PROCESSES + (k < users % PROCESSES) for k in range(PROCESSES)]
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            script,
            role,
            *map(str, (port, sum(shares[:k]), share, *args)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for k, share in enumerate(shares)
        if share
    ]


async def many(
    port: int, users: int, messages: int, server: int | None = None
) -> tuple[float, list[str], list[float]]:
    """The burst: its messages/s, its problems and its send_message -> agent_started
    latencies (bench/scale_out.py runs it through nginx). `server`: the backend's pid,
    profiled during the burst when PROFILE names a file."""
    spawned = time.perf_counter()
    procs = await client_processes(__file__, "users", port, users, messages)
    for p in procs:  # every user has a thread and an open socket
        assert p.stdout is not None
        await p.stdout.readline()
    profiler = await _profile(server)
    cpu = _cpu(server)
    clients_cpu = sum(cpu_seconds(p.pid) for p in procs)
    began = time.perf_counter()
    for p in procs:  # go: all at once
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        await p.stdin.drain()
    for p in procs:  # the burst ends when every client process has had its answers
        assert p.stdout is not None
        await p.stdout.readline()
    elapsed = time.perf_counter() - began
    clients_cpu = sum(cpu_seconds(p.pid) for p in procs) - clients_cpu
    cpu = [after - before for before, after in zip(cpu, _cpu(server), strict=True)]
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
        await profiler.wait()
    for p in procs:  # then every one reads its users' logs back
        assert p.stdin is not None
        p.stdin.write(b"check\n")
        await p.stdin.drain()
    outputs = [json.loads((await p.communicate())[0]) for p in procs]
    print(f"(threads created and sockets opened in {began - spawned:.1f} s, before the burst)")
    lat = [x for o in outputs for x in o["lat"]]
    first = [x for o in outputs for x in o["first"]]
    ping = [x for o in outputs for x in o["ping"]]
    problems = [p for o in outputs for p in o["problems"]]
    runs = sum(o["runs"] for o in outputs)
    retries = sum(o["retries"] for o in outputs)
    print(f"{users} users x {messages} messages at once, {PROCESSES} client processes:")
    print(
        f"  {elapsed:.1f} s, {runs / elapsed:.0f} messages/s; runs {runs} of "
        f"{users * messages}; lost, duplicated or failed: {len(problems)}; sent again "
        f"after `overloaded`: {retries}"
    )
    if cpu and runs:
        loop, whole = (1000 * seconds / runs for seconds in cpu)
        # /proc counts in clock ticks, the thread and the process read one after the
        # other: with no other thread at work (PostgreSQL) the rest can come out a tick
        # below zero.
        others = max(whole - loop, 0.0)
        print(
            f"  the backend's CPU: {whole:.2f} ms a message, {loop:.2f} ms of it on its "
            f"event loop's thread and {others:.2f} on its other threads; the client "
            f"processes {1000 * clients_cpu / runs:.2f} ms"
        )
    if lat:
        print(
            f"  send_message -> agent_started p50 {ms(lat, 0.5):.0f} ms, p99 "
            f"{ms(lat, 0.99):.0f} ms; ping -> pong p50 {ms(ping, 0.5):.0f} ms, "
            f"p99 {ms(ping, 0.99):.0f} ms"
        )
        later = sorted(lat)  # without the first wave: every user's first message
        for x in first:
            later.remove(x)
        rest = ""
        if later:  # a user of one message has none
            rest = f"; the rest p50 {ms(later, 0.5):.0f} ms, p99 {ms(later, 0.99):.0f} ms"
        print(
            f"  the first wave ({len(first)} messages sent at once) p50 {ms(first, 0.5):.0f} ms, "
            f"p99 {ms(first, 0.99):.0f} ms{rest}"
        )
    return runs / elapsed, problems, lat


def _cpu(server: int | None) -> list[float]:
    """The backend's CPU seconds so far: its event loop's thread, the whole process."""
    if server is None:  # through nginx (bench/scale_out.py): it counts its own
        return []
    return [cpu_seconds(server, thread=server), cpu_seconds(server)]


async def _profile(server: int | None) -> asyncio.subprocess.Process | None:
    """py-spy recording `server` until it is sent SIGINT, when PROFILE names a file."""
    out = os.environ.get("PROFILE")
    if not out or server is None:
        return None
    rate = os.environ.get("PROFILE_RATE", "100")
    spy = str(Path(sys.executable).parent / "py-spy")
    form = os.environ.get("PROFILE_FORMAT", "raw")
    # --nonblocking: read the process without stopping it (stopped 1,000 times a second,
    # a first wave took 1.5-3 s instead of 0.3).
    args = ["record", "--rate", rate, "--gil", "--nonblocking", "--format", form, "-o", out]
    args += ["-p", str(server)]
    profiler = await asyncio.create_subprocess_exec(
        spy, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)  # attached and sampling before the burst starts
    return profiler


async def database_rates(url: str, netra: float, messages: int) -> None:
    """The database's own rate for the same writes, after the burst, and Netra's ratio."""
    rates = (
        PostgresRates(url) if url.startswith("postgresql") else SqliteRates(url.split("///", 1)[1])
    )
    count = max(messages, 2 * db_rates.GROUP)
    alone, grouped = await rates.per_message(count), await rates.grouped(count)
    print(f"the database alone, the same rows ({db_rates.EVENTS} events) per message:")
    print(
        f"  one transaction per message {alone:.0f} messages/s (netra x{netra / alone:.2f}, "
        f"goal >= 0.3); group commit of {db_rates.GROUP} {grouped:.0f} messages/s "
        f"(netra x{netra / grouped:.2f})"
    )


async def main(users: int, messages: int) -> None:
    if "DATABASE_URL" not in os.environ:  # the embedded default, in a file both can open
        home = tempfile.mkdtemp(prefix="netra-bench-latency-")
        os.environ["DATABASE_URL"] = f"sqlite:///{home}/netra.db"
    url = os.environ["DATABASE_URL"]
    database = url.split(":", 1)[0]
    print(f"database {database}, bus {'redis' if os.environ.get('REDIS_URL') else 'memory'}")
    auth = await start_auth()
    port = free_port()
    server = await spawn("ws_fanout", "server", "netra", str(port))
    try:
        await wait_port(port)
        problems = await solo(port)
        rate, burst, _ = await many(port, users, messages, server.pid)
        problems += burst
        await database_rates(url, rate, users * messages)
        for problem in problems[:10]:
            print("  !", problem)
    finally:
        server.terminate()
        await server.wait()
        await asyncio.to_thread(auth.stop)


if __name__ == "__main__":
    if sys.argv[1:2] == ["users"]:
        port, first, count, messages = map(int, sys.argv[2:6])
        asyncio.run(users_main(port, first, count, messages))
    else:
        args = [int(a) for a in sys.argv[1:]]
        asyncio.run(main(*(args + [1000, 10][len(args) :])))
