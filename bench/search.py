"""Search latency over one user's N messages (default 100,000): the full-text index
(netra.chat.search, what `GET /api/search` runs) beside a plain `LIKE '%word%'` scan of
the same rows in the same run, on SQLite and on PostgreSQL; and what the index costs each
message written (its FTS5 rows on SQLite, netra.chat.search.insert_searchable; the
generated column on PostgreSQL), beside the same inserts into the schema without it.

    uv run python bench/search.py [--messages 100000] [--queries 200] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from netra.chat.models import messages_table, threads_table
from netra.chat.schema import CHAT_SCHEMA
from netra.chat.search import SearchIndex, insert_searchable
from netra.settings import Service, load_settings

USER = "bench-user"
THREADS = 500
VOCABULARY = 5000
WORDS_PER_MESSAGE = 24
BATCH = 2000
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(VOCABULARY * 2)}
    return sorted(words)[:VOCABULARY]


def corpus(count: int, words: list[str], rng: random.Random) -> list[str]:
    """Zipf-like text: a few words everywhere, most words rare, as in prose."""
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return [
        " ".join(rng.choices(words, weights, k=WORDS_PER_MESSAGE)).capitalize() + "."
        for _ in range(count)
    ]


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def fill(engine: AsyncEngine, texts: list[str], *, indexed: bool = True) -> float:
    """Write the threads and messages (`indexed`: as Netra writes them, with their search
    index; else into the schema without one); seconds spent on the messages."""
    start = datetime.now(UTC)
    threads = [
        {
            "id": str(uuid.uuid4()),
            "user_id": USER,
            "title": f"Thread {n}",
            "last_seq": 0,
            "created_at": start,
            "updated_at": start,
        }
        for n in range(THREADS)
    ]
    sessions = db.sessionmaker(engine)
    async with sessions.begin() as session:
        await session.execute(insert(threads_table), threads)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "thread_id": threads[n % THREADS]["id"],
            "role": "user" if n % 2 == 0 else "assistant",
            "content": body,
            "created_at": start + timedelta(microseconds=n),
        }
        for n, body in enumerate(texts)
    ]
    began = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        async with sessions.begin() as session:
            batch = rows[offset : offset + BATCH]
            if indexed:
                await insert_searchable(session, messages_table, batch)
            else:
                await session.execute(insert(messages_table), batch)
    return time.perf_counter() - began


async def migrate(engine: AsyncEngine, revision: str) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.upgrade(CHAT_SCHEMA.config(sync), revision))
        await connection.commit()


async def timed(run: Callable[[], Awaitable[Any]], queries: int) -> list[float]:
    samples = []
    for _ in range(queries):
        began = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


LIKE = text(
    "SELECT m.id, t.title, m.content FROM messages m JOIN threads t ON t.id = m.thread_id "
    "WHERE t.user_id = :user AND lower(m.content) LIKE :pattern "
    "ORDER BY m.created_at DESC LIMIT 20"
)


def engine_for(url: str) -> AsyncEngine:
    # Both services together, as `netra up` resolves them: only the database matters here.
    return db.create_engine(
        load_settings(list(Service), {"ENVIRONMENT": "test", "DATABASE_URL": url})
    )


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM messages"))
        await connection.execute(text("DELETE FROM threads"))


async def write_cost(plain: AsyncEngine, indexed: AsyncEngine, texts: list[str]) -> list[float]:
    """Seconds to write `texts` without the index and with it, batches alternating between
    the two databases so both meet the same noise."""
    seconds = [0.0, 0.0]
    rounds = 5
    step = max(1, len(texts) // rounds)
    for n in range(rounds):
        for side, engine in enumerate((plain, indexed)):
            batch = texts[n * step : (n + 1) * step]
            seconds[side] += await fill(engine, batch, indexed=engine is indexed)
            await clear(engine)
    return seconds


async def measure(
    kind: str, urls: tuple[str, str], texts: list[str], words: list[str], queries: int
) -> None:
    plain, indexed = engine_for(urls[0]), engine_for(urls[1])
    await migrate(plain, "chat_0001")
    await migrate(indexed, "head")
    writes = texts[: len(texts) // 10]
    without, with_index = await write_cost(plain, indexed, writes)
    await plain.dispose()
    await fill(indexed, texts)
    if kind == "postgresql":
        async with indexed.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("VACUUM ANALYZE messages"))

    rng = random.Random(7)
    common, rare = words[:50], words[len(words) // 2 :]
    asks = [
        rng.choice(rare) if n % 3 == 0 else f"{rng.choice(common)} {rng.choice(words[:500])}"
        for n in range(queries)
    ]
    sessions = db.sessionmaker(indexed)
    index = SearchIndex(sessions)
    position = iter(range(10**9))

    async def fts() -> None:
        await index.search(USER, asks[next(position) % queries], limit=20)

    async def like() -> None:
        word = asks[next(position) % queries].split()[0]
        async with sessions() as session:
            (await session.execute(LIKE, {"user": USER, "pattern": f"%{word}%"})).all()

    # Interleaved rounds, so a noisy neighbour slows both alike.
    fts_ms: list[float] = []
    like_ms: list[float] = []
    for _ in range(4):
        fts_ms += await timed(fts, queries // 4)
        like_ms += await timed(like, queries // 4)
    await indexed.dispose()
    f50, f99 = quantiles(fts_ms)
    l50, l99 = quantiles(like_ms)
    per = len(writes)
    print(f"{kind}: {len(texts):,} messages, {queries} queries")
    print(f"  full-text  p50 {f50:7.2f} ms  p99 {f99:7.2f} ms")
    print(f"  LIKE scan  p50 {l50:7.2f} ms  p99 {l99:7.2f} ms")
    print(f"  LIKE / full-text: p50 {l50 / f50:5.1f}x  p99 {l99 / f99:5.1f}x")
    print(
        f"  writing {per:,} messages: {without * 1e6 / per:6.1f} us each without the index, "
        f"{with_index * 1e6 / per:6.1f} us with it ({with_index / without:4.2f}x)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    rng = random.Random(42)
    words = vocabulary(rng)
    texts = corpus(args.messages, words, rng)
    for kind in args.db.split(","):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="netra-bench-search-") as home:
                urls = (
                    f"sqlite:///{Path(home) / 'plain.db'}",
                    f"sqlite:///{Path(home) / 'fts.db'}",
                )
                await measure(kind, urls, texts, words, args.queries)
            continue
        names = [f"netra_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            for name in names:
                await admin.execute(f'CREATE DATABASE "{name}"')
            base = "postgresql://postgres@127.0.0.1:5432/"
            await measure(kind, (base + names[0], base + names[1]), texts, words, args.queries)
        finally:
            for name in names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
