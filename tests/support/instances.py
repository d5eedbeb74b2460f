"""Two backend processes on one PostgreSQL and one Redis, beside a separate auth service
whose tokens they verify (`python -m tests.chat.instance`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from netra.testing import NetraProcess, Users, free_port, netra_env
from tests.support.chat import Server
from tests.support.databases import create_pg_database, drop_pg_database

REPO = Path(__file__).resolve().parents[2]
SERVICE_SECRET = "multi-instance-service-secret-0123456789"
INSTANCE = [sys.executable, "-m", "tests.chat.instance"]


@contextlib.asynccontextmanager
async def two_backends(
    tmp_path: Path, **backend_settings: str
) -> AsyncIterator[tuple[Server, Server]]:
    """One auth service (`netra serve auth`) and two backends verifying its tokens against
    its JWKS, all on one PostgreSQL database; the backends share one Redis.
    `backend_settings` (MODELS_FILE, say) go to both backends."""
    name = await create_pg_database()
    common = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "SERVICE_SECRET": SERVICE_SECRET,
    }
    auth_port = free_port()
    auth_env = netra_env(tmp_path, **common, DATA_DIR=str(tmp_path / "auth"))
    backend_env = {
        **netra_env(tmp_path, **common, DATA_DIR=str(tmp_path / "backend")),
        "AUTH_SERVICE_URL": f"http://127.0.0.1:{auth_port}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RUN_TIMEOUT": "30",
        "PYTHONPATH": str(REPO),
        **backend_settings,
    }
    try:
        with contextlib.ExitStack() as stack:
            # Auth and A boot together (A's readiness waits for auth's JWKS); B once A has
            # migrated the chat tables.
            auth = stack.enter_context(
                NetraProcess(["serve", "auth"], auth_env, auth_port, tmp_path / "auth.log")
            )
            instances = []
            for n in range(2):
                log = tmp_path / f"backend-{n}.log"
                instance = NetraProcess([], backend_env, free_port(), log, program=INSTANCE)
                instances.append(stack.enter_context(instance))
                await asyncio.to_thread(instance.wait_for, "/health/ready")
            users = Users(auth.url)  # real accounts, signed in at the auth service
            a, b = (Server(i.url, users, process=i) for i in instances)
            yield a, b
    finally:
        await drop_pg_database(name)
