"""Shared bench helpers: a real auth service signing with a key the bench generated, a
Netra backend verifying its tokens as it does when deployed apart (the JWKS over HTTP,
netra.tokens), tokens minted with the real issuer, and process plumbing.

The orchestrator calls `start_auth()` once; the processes it spawns afterwards inherit
AUTH_SERVICE_URL and SERVICE_SECRET (the backend) and BENCH_SIGNING_KEY_FILE (clients
minting tokens with `await TokenMinter.open()`).

Benches run as scripts (`uv run python bench/NAME.py`): Python puts bench/ first on the
path, so they import this module as `common`; `spawn` starts them the same way."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from netra.auth.issuer import TokenIssuer
from netra.auth.signing import SigningKeys
from netra.chat.component import ChatComponent
from netra.logs import configure_logging
from netra.service import build_app
from netra.serving import SERVER_OPTIONS, run_loop, serve_settled
from netra.settings import Service, Settings, load_settings
from netra.testing import NetraProcess, eventually, free_port, netra_env, wait_listening

BENCH = Path(__file__).resolve().parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

PAD = "x" * 60
SERVICE_SECRET = "bench-service-secret-0123456789abcdef-QRSTUVWXYZqrstuvwxyz"
KEY_FILE_VARIABLE = "BENCH_SIGNING_KEY_FILE"
TOKEN_TTL = "7200"  # longer than any bench run: a socket closes 4401 at its token's expiry


async def start_auth() -> NetraProcess:
    """`netra serve auth` (its own SQLite) signing with a fresh Ed25519 key, mounted as in
    production (SIGNING_KEY_FILE); the environment of later spawns points at it. Its log
    is auth.log in a temporary directory."""
    home = Path(tempfile.mkdtemp(prefix="netra-bench-auth-"))
    key_file = home / "signing-key.pem"
    key_file.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = netra_env(
        home,
        ENVIRONMENT="test",
        DATA_DIR=str(home),
        SIGNING_KEY_FILE=str(key_file),
        SERVICE_SECRET=SERVICE_SECRET,
        ACCESS_TOKEN_TTL=TOKEN_TTL,
        LOG_LEVEL="WARNING",
    )
    process = NetraProcess(["serve", "auth"], env, free_port(), home / "auth.log")
    await asyncio.to_thread(process.wait_for, "/health")
    os.environ["AUTH_SERVICE_URL"] = process.url
    os.environ["SERVICE_SECRET"] = SERVICE_SECRET
    os.environ[KEY_FILE_VARIABLE] = str(key_file)
    return process


class TokenMinter:
    """Access tokens from the bench's signing key, through the auth service's own issuer."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    @classmethod
    async def open(cls) -> TokenMinter:
        environ = {
            "ENVIRONMENT": "test",
            "SIGNING_KEY_FILE": os.environ[KEY_FILE_VARIABLE],
            "ACCESS_TOKEN_TTL": TOKEN_TTL,
        }
        settings = load_settings([Service.AUTH], environ, cwd=Path.cwd())
        keys = SigningKeys(settings, async_sessionmaker())  # a mounted key: no database
        await keys.load()
        return cls(TokenIssuer(settings, keys))

    def mint(self, user_id: str) -> str:
        """A user's access token for a session of its own."""
        return self.issuer.access_token(
            user_id=user_id,
            email=f"{user_id}@bench.invalid",
            roles=["user"],
            session_id=uuid.uuid4().hex,
        )


def bench_settings(**env: str) -> Settings:
    data = Path(tempfile.mkdtemp(prefix="netra-bench-"))
    names = (
        *("DATABASE_URL", "REDIS_URL", "AUTH_SERVICE_URL", "SERVICE_SECRET", "LOG_LEVEL"),
        # what a bench may tune from its command line (say so beside the figures)
        *("RUN_WORKERS", "DB_POOL_SIZE", "DB_POOL_TIMEOUT", "EVENT_LINGER"),
    )
    environ = {
        "ENVIRONMENT": "test",
        "DATA_DIR": str(data),
        "WS_MAX_CONNECTIONS": "100000",
        "WS_FRAME_RATE_LIMIT": "1000000",
        "CHAT_RATE_LIMIT": "1000000",
        "WS_QUEUE_SIZE": "100000",
        "WS_MAX_PER_USER": "100000",  # ws_fanout's clients are all one user
        **{k: v for k, v in os.environ.items() if k in names},
        **env,
    }
    return load_settings([Service.BACKEND], environ, cwd=data)


def netra_app(settings: Settings) -> tuple[FastAPI, ChatComponent, str]:
    """The backend as `netra serve backend` builds it: tokens verified by netra.tokens
    against the auth service's JWKS (AuthServiceTokens), the configured agent, logging
    at LOG_LEVEL through Netra's handler."""
    component = ChatComponent()
    app = build_app(settings, [component])
    configure_logging(settings)  # after the MCP SDK's own, at import or build
    return app, component, settings.agent_provider


def serve_forever(app: object, port: int, **overrides: Any) -> None:
    """`app` under uvicorn as netra.serving serves it (`overrides` on top)."""
    options = {"proxy_headers": False, "backlog": 4096, **SERVER_OPTIONS, **overrides}
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
        **options,
    )
    run_loop(serve_settled(uvicorn.Server(config)))  # as `netra serve` runs it


def rss_kb(pid: int | None = None) -> int:
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time a process (or one of its threads: its main thread's id is
    the process's) has used so far."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    with open(path, encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A fresh database on the machine's PostgreSQL (its URL), dropped afterwards."""
    name = f"netra_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def wait_port(port: int, timeout: float = 60.0) -> None:
    """Return once a spawned server listens on `port`."""
    await asyncio.to_thread(wait_listening, port, timeout)


async def start_up(folder: Path, port: int, **env: str) -> asyncio.subprocess.Process:
    """`netra up` (development, no chat rate limit, `env` on top) with its data in
    `folder`, quiet, once it listens on `port`; the caller terminates it."""
    environment = {
        **os.environ,
        "ENVIRONMENT": "development",
        "CHAT_RATE_LIMIT": "1000000",
        **env,
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "netra.cli",
        "up",
        "--data-dir",
        str(folder / "data"),
        "--port",
        str(port),
        env=environment,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await wait_port(port)
    return server


async def files_appear(
    paths: list[str], what: str, timeout: float = 3600, interval: float = 0.1
) -> None:
    """Until other processes have written every one of `paths` (their signals to us)."""

    async def written() -> bool | None:
        return all(Path(path).exists() for path in paths) or None  # noqa: ASYNC240

    await eventually(written, timeout, what, interval)


def spawn(script: str, *args: str) -> asyncio.Future[asyncio.subprocess.Process]:
    """`python bench/<script>.py <args>` in a process of its own."""
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(sys.executable, str(BENCH / f"{script}.py"), *args)
    )


def event_body(i: int) -> str:
    return json.dumps({"i": i, "t": time.time(), "pad": PAD})
