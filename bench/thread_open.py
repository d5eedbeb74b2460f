"""Opening a thread: every page of `GET /api/threads/{id}/messages` (the branch shown,
and `?view=tree`, 200 messages a page) for a thread of N messages (default 2,000) with
50 branches, against a linear thread of the same size in the same app and run (the
baseline). Prints p50/p99 and the ratio, on SQLite and/or PostgreSQL.

    uv run python bench/thread_open.py [--messages 2000] [--branches 50] [--opens 30]
                                       [--db sqlite,postgresql]

The branched thread is a main line with `branches` side branches forked at even points
of it, each as long as the messages left over allow; it shows the main line.
PostgreSQL: 127.0.0.1:5432 (user postgres, trust), as the tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, update

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.chat.models import messages_table, threads_table
from netra.chat.search import insert_searchable
from netra.service import build_app
from netra.settings import Service, load_settings
from netra.tokens import Principal

USER = Principal(subject="bench-user", kind="access", roles=frozenset({"user"}))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = 200


def linear(count: int) -> tuple[list[str | None], int]:
    """Each message's parent index (None: a root) and the leaf shown."""
    return [None, *range(count - 1)], count - 1


def branched(count: int, branches: int) -> tuple[list[str | None], int]:
    """A main line holding half the messages, `branches` side lines sharing the rest."""
    main = count // 2
    parents: list[Any] = [None, *range(main - 1)]
    side = (count - main) // branches
    for n in range(branches):
        fork = (n + 1) * main // (branches + 1)  # the side line's first message follows it
        parent = fork
        for _ in range(side):
            parents.append(parent)
            parent = len(parents) - 1
    parents += [main - 1] * (count - len(parents))  # leftovers: siblings of the last answer
    return parents, main - 1


async def seed(app: Any, shape: tuple[list[Any], int]) -> str:
    """A thread of `USER`'s with messages shaped as given, written straight to the tables."""
    parents, leaf = shape
    thread_id, start = str(uuid.uuid4()), datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in parents]
    rows = [
        {
            "id": ids[n],
            "thread_id": thread_id,
            "role": "user" if n % 2 == 0 else "assistant",
            "content": f"message {n}: " + "lorem ipsum dolor sit amet " * 8,
            "created_at": start + timedelta(milliseconds=n),
            "parent_id": None if parent is None else ids[parent],
        }
        for n, parent in enumerate(parents)
    ]
    thread = {"id": thread_id, "user_id": USER.subject, "title": "bench", "last_seq": 0}
    async with app.state.runtime.db.begin() as session:
        await session.execute(
            insert(threads_table), [{**thread, "created_at": start, "updated_at": start}]
        )
        await insert_searchable(session, messages_table, rows)
        await session.execute(
            update(threads_table)
            .where(threads_table.c.id == thread_id)
            .values(active_leaf_id=ids[leaf])
        )
    return thread_id


async def open_thread(client: httpx.AsyncClient, thread_id: str, view: str) -> int:
    """Every page of the thread's messages; how many messages came."""
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": PAGE, "view": view}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get(f"/api/threads/{thread_id}/messages", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return count


async def measure(env: dict[str, str], messages: int, branches: int, opens: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        env = {"ENVIRONMENT": "development", "DATA_DIR": data, "LOG_LEVEL": "WARNING", **env}
        settings = load_settings(list(Service), env, cwd=Path(data))
        app = build_app(settings, [AuthComponent(), ChatComponent()])
        async with app.router.lifespan_context(app):

            async def user(token: str) -> Principal:
                return USER

            app.state.runtime.verifier.verify = user  # the bench measures reads, not tokens
            threads = {
                "linear": await seed(app, linear(messages)),
                f"{branches} branches": await seed(app, branched(messages, branches)),
            }
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": "Bearer bench"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                samples: dict[tuple[str, str], list[float]] = {}
                sizes: dict[tuple[str, str], int] = {}
                for _ in range(opens):  # interleaved: both threads meet the same noise
                    for label, thread_id in threads.items():
                        for view in ("path", "tree"):
                            began = time.perf_counter()
                            sizes[label, view] = await open_thread(client, thread_id, view)
                            elapsed = (time.perf_counter() - began) * 1000
                            samples.setdefault((label, view), []).append(elapsed)
    report(samples, sizes)


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def report(samples: dict[tuple[str, str], list[float]], sizes: dict[tuple[str, str], int]) -> None:
    base = {view: quantiles(samples["linear", view]) for view in ("path", "tree")}
    for (label, view), times in samples.items():
        p50, p99 = quantiles(times)
        print(
            f"  {label:<12} {view:<4} {sizes[label, view]:>6} messages  "
            f"p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  p50 / linear {p50 / base[view][0]:5.2f}x"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--opens", type=int, default=30)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    print(
        f"opening a thread of {args.messages} messages ({PAGE} a page), {args.opens} times; "
        "baseline: a linear thread of the same size"
    )
    for kind in args.db.split(","):
        print(kind)
        if kind == "sqlite":
            await measure({}, args.messages, args.branches, args.opens)
            continue
        name = f"netra_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
            await measure({"DATABASE_URL": url}, args.messages, args.branches, args.opens)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
