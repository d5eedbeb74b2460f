"""`GET /api/admin/dashboard` and `GET /api/admin/usage` on a PostgreSQL database holding a
million runs (run_usage) and their aggregates, against the same endpoints on an empty
database (the baseline) in the same bench run. Prints p50/p99 and the ratio.

Usage: uv run python bench/dashboard.py [runs] [requests]
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), as the tests do.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Service, load_settings
from netra.tokens import Principal

ADMIN = Principal(subject="bench-admin", kind="access", roles=frozenset({"admin"}))
USERS, MODELS = 2000, 4

# A million runs over the last 60 days, 2000 users and 4 models, 3% failed, with the
# aggregates they would have built, generated inside PostgreSQL (seconds, not minutes).
FILL = """
INSERT INTO run_usage
SELECT md5(i::text), 'user-' || (i % {users}), md5((i / 7)::text), (now() - g.ago)::date,
       'model-' || (i % {models}), 'openai', NULL,
       CASE WHEN i % 33 = 0 THEN 'failed' ELSE 'completed' END,
       CASE WHEN i % 33 = 0 THEN 'provider_error' END,
       200 + i % 500, 50 + i % 300, false, i % 3, CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END,
       800 + i % 4000, 150 + i % 900, (i % 1000) / 100000.0, now() - g.ago, now() - g.ago
FROM generate_series(1, {runs}) AS i,
     LATERAL (SELECT (i % (60 * 24 * 60)) * interval '1 minute' AS ago) AS g;
INSERT INTO usage_daily
SELECT user_id, day, model, count(*), count(*) FILTER (WHERE status = 'failed'),
       sum(input_tokens), sum(output_tokens), 0, sum(tool_calls), sum(tool_errors),
       sum(duration_ms), sum(cost), 0
FROM run_usage GROUP BY user_id, day, model;
ANALYZE;
"""


async def database() -> str:
    name = f"netra_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return name


async def drop(name: str) -> None:
    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


async def timings(name: str, runs: int, requests: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as data:
        env = {
            "ENVIRONMENT": "development",
            "DATA_DIR": data,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        }
        settings = load_settings(list(Service), env, cwd=Path(data))
        chat = ChatComponent()
        app = build_app(settings, [AuthComponent(), chat])
        async with app.router.lifespan_context(app):
            assert chat.backend is not None
            # Every request reads the history (the worst case: the dashboard serves it
            # from a 10 s cache in production).
            chat.backend.usage.history.ttl = 0.0
            if runs:
                began = time.perf_counter()
                connection = await asyncpg.connect(env["DATABASE_URL"])
                await connection.execute(FILL.format(runs=runs, users=USERS, models=MODELS))
                await connection.close()
                print(f"filled {runs} runs in {time.perf_counter() - began:.0f} s")
            verifier = app.state.runtime.verifier

            async def admin(token: str) -> Principal:
                return ADMIN

            verifier.verify = admin  # the bench measures the endpoints, not tokens
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": "Bearer bench"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                paths = {
                    "dashboard": "/api/admin/dashboard",
                    "usage by user, 30 days": "/api/admin/usage?group_by=user",
                    "usage by day, 30 days": "/api/admin/usage",
                }
                results: dict[str, list[float]] = {}
                for label, path in paths.items():
                    assert (await client.get(path)).status_code == 200
                    samples = []
                    for _ in range(requests):
                        began = time.perf_counter()
                        answer = await client.get(path)
                        samples.append((time.perf_counter() - began) * 1000)
                        assert answer.status_code == 200, answer.text
                    results[label] = samples
                return results


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def main(runs: int, requests: int) -> None:
    empty, full = await database(), await database()
    try:
        baseline = await timings(empty, 0, requests)
        loaded = await timings(full, runs, requests)
    finally:
        await drop(empty)
        await drop(full)
    print(f"{requests} requests each; baseline: the same endpoint on an empty database")
    for label in baseline:
        b50, b99 = stats(baseline[label])
        p50, p99 = stats(loaded[label])
        print(
            f"{label:<24} empty p50 {b50:6.1f} p99 {b99:6.1f} ms   "
            f"{runs} runs p50 {p50:6.1f} p99 {p99:6.1f} ms   p99 x{p99 / b99:5.2f}"
        )


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 100,
        )
    )
