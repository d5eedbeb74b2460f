"""What usage accounting costs per run: the same runs (builtin agent, real database)
without accounting (the baseline), with accounting, and with accounting plus a budget to
admit against, in one bench run. Prints the mean and p95 time from posting a message to
its run being recorded, and each ratio to the baseline.

Usage: uv run python bench/usage_accounting.py [runs] [postgresql://...]
(SQLite in a temporary directory without a URL.)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from netra.auth.component import AuthComponent
from netra.chat.backend import ChatBackend
from netra.chat.component import ChatComponent
from netra.db.base import utcnow
from netra.service import build_app
from netra.settings import Service, load_settings
from netra.tokens import Principal
from netra.usage.models import Budget
from netra.usage.store import UsageStore

USER = Principal(subject="bench-user", kind="access", roles=frozenset({"user"}))


async def one_run(backend: ChatBackend, thread_id: str, mode: str) -> float:
    began = time.perf_counter()
    if mode == "baseline":
        posted = await backend.post_message(USER.subject, thread_id, "what is 17 * 23?", None)
    else:
        admission = await backend.admit(USER)
        posted = await backend.post_message(
            USER.subject, thread_id, "what is 17 * 23?", None, admission
        )
    assert posted is not None
    task = backend.runs.tasks.get(posted.run.id)
    if task is not None:
        await task
    return (time.perf_counter() - began) * 1000


async def measure(backend: ChatBackend, mode: str, runs: int) -> list[float]:
    store = UsageStore(backend.runtime.db)
    backend.runs.meters.store = None if mode == "baseline" else store
    if mode == "budget":
        async with backend.runtime.db.begin() as session:
            session.add(
                Budget(scope="role", name="user", tokens_per_day=10**12, updated_at=utcnow())
            )
    thread = await backend.threads.create(USER.subject, "bench")
    return [await one_run(backend, thread.id, mode) for _ in range(runs)]


def line(label: str, samples: list[float], baseline: float) -> str:
    ordered = sorted(samples)
    mean = statistics.fmean(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"{label:<34} mean {mean:7.2f} ms   p95 {p95:7.2f} ms   x{mean / baseline:5.2f}"


async def main(runs: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as data:
        env = {"ENVIRONMENT": "development", "DATA_DIR": data, "LOG_LEVEL": "WARNING"}
        if database_url:
            env["DATABASE_URL"] = database_url
        settings = load_settings(list(Service), env, cwd=Path(data))
        chat = ChatComponent()
        app = build_app(settings, [AuthComponent(), chat])
        async with app.router.lifespan_context(app):
            backend = chat.backend
            assert backend is not None
            await measure(backend, "accounting", 20)  # warm-up
            results = {
                mode: await measure(backend, mode, runs)
                for mode in ("baseline", "accounting", "budget")
            }
    base = statistics.fmean(results["baseline"])
    print(f"{runs} runs each, builtin agent, {'PostgreSQL' if database_url else 'SQLite'}")
    print(line("without accounting (baseline)", results["baseline"], base))
    print(line("with accounting", results["accounting"], base))
    print(line("with accounting and a budget", results["budget"], base))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    asyncio.run(main(count, sys.argv[2] if len(sys.argv) > 2 else None))
