"""Scale out, measured (issue 21): messages/s of 1, 2 and 3 backend processes behind
nginx on one PostgreSQL and one Redis, each with its ratio to one process in the same
run, and what a message costs the PostgreSQL primary (rows and transactions).

Usage: `uv run python bench/scale_out.py [USERS] [MESSAGES] [--processes 1,2,3]`
(default 300 x 5). REDIS_URL (default redis://127.0.0.1:6379/12, flushed before and
after); the database is a fresh one on the machine's PostgreSQL, dropped afterwards.

For each process count k: k backends (`bench/ws_fanout.py server netra PORT`: the same
database, Redis and auth service, an instance id each), Debian's nginx in front of them
(netra.deploy's own config: WebSocket upgrade, one round-robin upstream for /ws and /api),
warmed up, then bench/ws_latency.py's burst through nginx: USERS users at once, each
sending MESSAGES messages one after the other, each checking its live stream against the
event log (0 lost, 0 duplicated, 0 failed). The primary's own counters (pg_stat_database,
pg_stat_user_tables) give the rows and transactions per message: once as the difference
between a user of 25 messages and one of 5 (thread creation and the log check cancel
out), and per burst (those included). Last, the database's own rate for a message's rows
(bench/db_rates.py via ws_latency) against one process's messages/s."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as redis

import ws_latency
from common import (
    PG_ADMIN,
    TokenMinter,
    cpu_seconds,
    pg_database,
    spawn,
    start_auth,
    wait_port,
)
from netra.deploy.runner import Runner
from netra.deploy.targets.nginx import Nginx
from netra.settings import Service
from netra.testing import free_port

REDIS_URL = "redis://127.0.0.1:6379/12"
FEW, MANY = 5, 25  # two users' messages: the difference of their writes is 20 messages'
WARM_MESSAGES = 3
STOP_TIMEOUT = 10.0  # s
IDLE_FLUSH = 10.5  # s: PostgreSQL's PGSTAT_IDLE_INTERVAL, and a margin
DATABASE = (
    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted "
    "FROM pg_stat_database WHERE datname = $1"
)
COUNTERS = ("transactions", "inserted", "updated", "deleted")
TABLES = "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2"


class Primary:
    """The database's own counters. PostgreSQL flushes a session's statistics when it
    ends, or within PGSTAT_IDLE_INTERVAL (10 s) of going idle: they are read after that
    interval, or (`closed`) once the backends' sessions have ended."""

    def __init__(self, admin: asyncpg.Connection, own: asyncpg.Connection, name: str) -> None:
        self.admin, self.own, self.name = admin, own, name

    @classmethod
    async def open(cls, url: str) -> Primary:
        name = url.rsplit("/", maxsplit=1)[-1]
        return cls(await asyncpg.connect(PG_ADMIN), await asyncpg.connect(url), name)

    async def close(self) -> None:
        await self.admin.close()
        await self.own.close()

    async def counters(self, *, closed: bool = False) -> dict[str, int]:
        if closed:
            for _ in range(600):
                if not await self.admin.fetchval(SESSIONS, self.name, self.own.get_server_pid()):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        else:
            await asyncio.sleep(IDLE_FLUSH)
        # Read from another database: reading adds no transaction to this one's count.
        row = await self.admin.fetchrow(DATABASE, self.name)
        now = dict(zip(COUNTERS, row, strict=True))
        for table in await self.own.fetch(TABLES):
            now[f"{table['relname']} +"] = table["n_tup_ins"]
            now[f"{table['relname']} ~"] = table["n_tup_upd"]
        return now


def machine_ticks() -> list[int]:
    """Busy and total CPU ticks of the machine so far (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return [sum(ticks[:8]) - idle, sum(ticks[:8])]


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: value - before.get(key, 0) for key, value in after.items()}


async def users_at_once(port: int, names: list[str], messages: int) -> list[str]:
    """ws_latency's users, in this process, through nginx; their problems."""
    minter = await TokenMinter.open()
    async with httpx.AsyncClient(timeout=120) as http:
        users = [ws_latency.User(port, name, minter.mint(name), http) for name in names]
        await asyncio.gather(*(user.converse(messages) for user in users))
    return [problem for user in users for problem in user.problems]


async def per_message(
    port: int, primary: Primary, before: dict[str, int]
) -> tuple[list[str], dict[str, int]]:
    """Rows and transactions of one message of the builtin agent, printed; the problems
    and the last counters."""
    deltas, problems = [], []
    for count in (FEW, MANY):
        problems += await users_at_once(port, [f"rows{count}"], count)
        after = await primary.counters()
        deltas.append(delta(after, before))
        before = after
    each = {key: (deltas[1][key] - deltas[0].get(key, 0)) / (MANY - FEW) for key in deltas[1]}
    print(
        f"one message of the builtin agent on the PostgreSQL primary (pg_stat_database, "
        f"a user of {MANY} messages minus one of {FEW}):"
    )
    print(
        f"  rows per message: {each['inserted']:.1f} inserted, {each['updated']:.1f} "
        f"updated, {each['deleted']:.1f} deleted; transactions per message "
        f"{each['transactions']:.1f}"
    )
    tables = sorted((k for k in each if k[-1] in "+~" and round(each[k], 1)), key=lambda k: each[k])
    print("  by table (+ inserted, ~ updated):", ", ".join(f"{k} {each[k]:.1f}" for k in tables))
    return problems, before


class Backends:
    """k backend processes and an nginx in front of them, stopped by `stop`."""

    def __init__(self, count: int, users: int) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.port = free_port()
        prefix = Path(tempfile.mkdtemp(prefix="netra-bench-nginx-"))
        listen = {Service.BACKEND: f"127.0.0.1:{self.port}"}
        # Each user: its socket and its share of the HTTP clients, twice (client, upstream).
        self.nginx = Nginx(prefix, listen, Runner(), connections=4 * users + 1024)
        self.servers: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for port in self.ports:
            self.servers.append(await spawn("ws_fanout", "server", "netra", str(port)))
        for port in self.ports:
            await wait_port(port)
        await asyncio.to_thread(self.nginx.point_at, {Service.BACKEND: self.ports})
        await wait_port(self.port)

    def cpu(self) -> float:
        """The backends' CPU seconds so far."""
        return sum(cpu_seconds(server.pid) for server in self.servers)

    async def stop(self) -> None:
        """nginx asked to quit, the backends terminated (killed after STOP_TIMEOUT: a
        run waiting for a pooled connection delays uvicorn's graceful exit), then nginx
        made sure of."""
        try:
            await asyncio.to_thread(self.nginx.stop)
        finally:
            for server in self.servers:
                server.terminate()
            for server in self.servers:
                try:
                    await asyncio.wait_for(server.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    server.kill()
                    await server.wait()
            await self._nginx_gone()

    async def _nginx_gone(self) -> None:
        """`nginx -s quit` only signals, and waits for open sockets: its master gone,
        or told to stop at once (SIGTERM) after STOP_TIMEOUT."""
        for signal_after in (True, False):
            for _ in range(int(STOP_TIMEOUT / 0.05)):
                if not self.nginx.running():
                    return
                await asyncio.sleep(0.05)
            pid = self.nginx.pid()
            if signal_after and pid is not None:
                os.kill(pid, signal.SIGTERM)


async def scale(count: int, args: argparse.Namespace, primary: Primary) -> tuple[float, ...]:
    """One process count: its burst's messages/s, p50 and p99 (ms), problems, and
    messages per CPU-second of the backends (what a share of a busy machine yields)."""
    label = f"{count} backend process{'es' if count > 1 else ''}"
    print(f"{label} behind nginx:")
    backends = Backends(count, args.users)
    try:
        await backends.start()
        warm = [f"warm{count}-{n}" for n in range(2 * count)]
        problems = await users_at_once(backends.port, warm, WARM_MESSAGES)
        before = await primary.counters()
        if count == args.processes[0]:
            found, before = await per_message(backends.port, primary, before)
            problems += found
        cpu, machine, began = backends.cpu(), machine_ticks(), time.perf_counter()
        rate, burst, lat = await ws_latency.many(backends.port, args.users, args.messages)
        elapsed = time.perf_counter() - began
        cpu = backends.cpu() - cpu
        machine = [b - a for a, b in zip(machine, machine_ticks(), strict=True)]
    finally:
        await backends.stop()
    used = delta(await primary.counters(closed=True), before)
    messages = args.users * args.messages
    print(
        f"  the primary during the burst: {used['transactions'] / elapsed:.0f} transactions/s, "
        f"{(used['inserted'] + used['updated']) / elapsed:.0f} rows written/s; per message "
        f"{used['transactions'] / messages:.1f} transactions, {used['inserted'] / messages:.1f} "
        f"rows inserted, {used['updated'] / messages:.1f} updated (threads and checks included)"
    )
    print(
        f"  CPU during the burst: the backends {cpu / elapsed:.2f} cores; the machine "
        f"{100 * machine[0] / machine[1]:.0f}% busy (everything on it, the clients included)"
    )
    for problem in (problems + burst)[:10]:
        print("  !", problem)
    p50, p99 = ws_latency.ms(lat, 0.5), ws_latency.ms(lat, 0.99)
    return rate, p50, p99, len(problems + burst), messages / cpu


async def main(args: argparse.Namespace) -> None:
    cores = os.cpu_count() or 1
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the backends' (bench_settings)
    bus = redis.Redis.from_url(os.environ["REDIS_URL"])
    await bus.flushdb()
    auth = await start_auth()
    results: dict[int, tuple[float, ...]] = {}
    try:
        async with pg_database() as url:
            os.environ["DATABASE_URL"] = url
            primary = await Primary.open(url)
            try:
                for count in args.processes:
                    results[count] = await scale(count, args, primary)
                first = results[args.processes[0]][0]
                await ws_latency.database_rates(url, first, args.users * args.messages)
            finally:
                await primary.close()
    finally:
        await asyncio.to_thread(auth.stop)
        await bus.flushdb()
        await bus.aclose()
    first, first_cpu = results[args.processes[0]][0], results[args.processes[0]][4]
    print(
        f"scale out: {args.users} users x {args.messages} messages through nginx, one "
        f"PostgreSQL, one Redis; {cores} cores on this machine:"
    )
    for count, (rate, p50, p99, problems, per_cpu) in results.items():
        print(
            f"  {count} backend process{'es' if count > 1 else '  '}  {rate:6.0f} messages/s  "
            f"x{rate / first:.2f} one process  send_message → agent_started p50 {p50:.0f} ms "
            f"p99 {p99:.0f} ms  lost, duplicated or failed: {problems}  {per_cpu:.0f} messages "
            f"per backend CPU-second (x{per_cpu / first_cpu:.2f})"
        )
    print(
        f"  why: more processes than cores cannot scale: a backend uses at most one core (the "
        f"GIL), and the {ws_latency.PROCESSES} client processes, nginx, PostgreSQL and Redis "
        f"share the same {cores}, so a process beyond the first adds no CPU, only the Redis "
        "bus hop, its own loop and pools, and balancing: the ratio shows that overhead, not "
        "capacity (the CPU lines say what the backends got)."
    )


async def interruptible(args: argparse.Namespace) -> None:
    """`main`, cancelled (so every process it started is stopped) on SIGTERM or SIGINT:
    a bench started in the background has SIGINT ignored."""
    task = asyncio.current_task()
    assert task is not None
    for number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(number, task.cancel)
    await main(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("users", nargs="?", type=int, default=300)
    parser.add_argument("messages", nargs="?", type=int, default=5)
    parser.add_argument(
        "--processes", default=[1, 2, 3], type=lambda s: [int(k) for k in s.split(",")]
    )
    asyncio.run(interruptible(parser.parse_args()))
