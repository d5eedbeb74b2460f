"""Traces across a split deployment: `netra serve auth` and `netra serve backend` as their
own processes (PostgreSQL, Redis), each recording spans with the SDK's in-memory exporter
(tests/traced.py). One message, posted with a browser's `traceparent`, is one trace that
spans the backend, the auth service (API key introspection) and the model server, with
database, Redis, model-call and tool-call spans, and no secret or message text in any
attribute."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from netra.testing import PASSWORD, ScriptedModelServer, answer_chunks, chunk, free_port
from tests.support.databases import create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow
SERVICE_SECRET = "tracing-service-secret-0123456789abcdef-QRSTUVWXYZqrstuvwxyz"
SECRET_WORDS = "pineapple-hedgehog-42"
Span = dict[str, Any]


@pytest.fixture
async def model_server() -> AsyncIterator[ScriptedModelServer]:
    async with ScriptedModelServer() as server:
        yield server


@pytest.fixture
async def databases() -> AsyncIterator[tuple[str, str]]:
    auth_db, backend_db = await create_pg_database(), await create_pg_database()
    try:
        yield auth_db, backend_db
    finally:
        await drop_pg_database(auth_db)
        await drop_pg_database(backend_db)


def environment(home: Path, database: str, **extra: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "ENVIRONMENT": "staging",
        "DATA_DIR": str(home),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "SERVICE_SECRET": SERVICE_SECRET,
        # The test's new user signs in at once (staging asks a verified email by default).
        "REQUIRE_VERIFIED_EMAIL": "false",
        **extra,
    }


@contextmanager
def traced(service: str, env: dict[str, str], port: int, spans: Path) -> Iterator[None]:
    """`netra serve SERVICE` recording its spans into `spans` (written when it stops)."""
    migrate = [sys.executable, "-m", "netra.cli", "migrate", "--service", service]
    done = subprocess.run(migrate, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    log = (spans.parent / f"{service}.log").open("w")
    command = [sys.executable, "-m", "tests.traced", str(spans), "serve", service]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**env, "PYTHONPATH": str(Path(__file__).parents[2])},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def wait_ready(port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/health/ready")
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"port {port} never ready; see {log}")


def read_spans(path: Path) -> list[Span]:
    assert path.exists(), f"{path} was not written: did the process stop cleanly?"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def sign_in(auth_url: str) -> tuple[str, str]:
    """An access token and an API key of a new user."""
    async with httpx.AsyncClient(base_url=auth_url) as client:
        credentials = {"email": "t@example.com", "password": PASSWORD}
        assert (await client.post("/auth/register", json=credentials)).status_code == 201
        login = await client.post("/auth/login", json=credentials)
        token = login.json()["access_token"]
        created = await client.post(
            "/auth/api-keys",
            json={"name": "tracing", "password": PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        return token, str(created.json()["api_key"])


async def one_message(backend_url: str, token: str, key: str, traceparent: str) -> None:
    """Post one message with the API key, whose first use the backend checks with the
    auth service (the thread is created with the access token, verified locally)."""
    async with httpx.AsyncClient(base_url=backend_url) as client:
        created = await client.post(
            "/api/threads", json={"title": "t"}, headers={"Authorization": f"Bearer {token}"}
        )
        thread = created.json()
        client.headers["Authorization"] = f"Bearer {key}"
        posted = await client.post(
            f"/api/threads/{thread['id']}/messages",
            json={"text": f"what is 6*7? {SECRET_WORDS}"},
            headers={"traceparent": traceparent},
        )
        assert posted.status_code == 202, posted.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = await client.get(f"/api/threads/{thread['id']}/events")
            types = [event["type"] for event in events.json()["items"]]
            if "agent_completed" in types or "agent_error" in types:
                assert types[-1] == "agent_completed", events.json()
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the run did not finish")


async def one_socket_message(backend_url: str, token: str, traceparent: str) -> None:
    """Send a message over /ws with a `traceparent`, until its run completes."""
    async with httpx.AsyncClient(base_url=backend_url) as client:
        created = await client.post(
            "/api/threads", json={"title": "ws"}, headers={"Authorization": f"Bearer {token}"}
        )
    url = backend_url.replace("http", "ws") + "/ws"
    protocols: Any = ["netra.v1", f"bearer.{token}"]
    async with websockets.connect(url, subprotocols=protocols) as ws:
        message = {"type": "send_message", "id": "m1", "thread_id": created.json()["id"]}
        await ws.send(json.dumps({**message, "text": "hi", "traceparent": traceparent}))
        async with asyncio.timeout(30):
            while json.loads(await ws.recv())["type"] not in ("agent_completed", "agent_error"):
                pass


def only(spans: list[Span], name: str) -> Span:
    found = [span for span in spans if span["name"] == name]
    assert len(found) == 1, (name, sorted(span["name"] for span in spans))
    return found[0]


def tool_call_chunks() -> list[dict[str, Any]]:
    call = {
        "index": 0,
        "id": "call-1",
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
    }
    usage = {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
    return [chunk(tool_calls=[call]), chunk(finish="tool_calls"), chunk(usage=usage)]


async def test_one_message_is_one_trace_across_both_services_and_the_model_server(
    tmp_path: Path,
    databases: tuple[str, str],
    model_server: ScriptedModelServer,
) -> None:
    scripted = model_server
    scripted.script(
        scripted.sse(tool_call_chunks()),
        scripted.sse(answer_chunks("It is 42.")),
        scripted.sse(answer_chunks("Hello.")),
    )
    auth_port, backend_port = free_port(), free_port()
    auth_env = environment(
        tmp_path / "auth",
        databases[0],
        KEY_ENCRYPTION_KEY="kek-0123456789abcdef-QRSTUVWXYZqrstuvwxyz-0123456789",
    )
    backend_env = environment(
        tmp_path / "backend",
        databases[1],
        AUTH_SERVICE_URL=f"http://127.0.0.1:{auth_port}",
        REDIS_URL="redis://127.0.0.1:6379/13",
        AGENT_PROVIDER="openai",
        OPENAI_BASE_URL=scripted.base_url,
        OPENAI_MODEL="tiny-model",
        OPENAI_API_KEY="sk-model-server-key-0123456789",
    )
    trace_id, browser_span = secrets.token_hex(16), secrets.token_hex(8)
    socket_trace = secrets.token_hex(16)
    auth_spans, backend_spans = tmp_path / "auth.spans", tmp_path / "backend.spans"
    with traced("auth", auth_env, auth_port, auth_spans):
        await wait_ready(auth_port, tmp_path / "auth.log")
        token, key = await sign_in(f"http://127.0.0.1:{auth_port}")
        with traced("backend", backend_env, backend_port, backend_spans):
            await wait_ready(backend_port, tmp_path / "backend.log")
            await one_message(
                f"http://127.0.0.1:{backend_port}", token, key, f"00-{trace_id}-{browser_span}-01"
            )
            await one_socket_message(
                f"http://127.0.0.1:{backend_port}", token, f"00-{socket_trace}-{browser_span}-01"
            )
    backend = [s for s in read_spans(backend_spans) if s["trace_id"] == trace_id]
    auth = [s for s in read_spans(auth_spans) if s["trace_id"] == trace_id]
    by_id = {span["span_id"]: span for span in backend + auth}

    # browser → backend: the request continues the browser's trace.
    request = only(backend, "POST /api/threads/{thread_id}/messages")
    assert request["kind"] == "SERVER"
    assert request["parent_id"] == browser_span
    # backend → auth: the introspection's client span is the parent of auth's server span.
    introspected = only(auth, "POST /auth/api-keys/introspect")
    assert by_id[introspected["parent_id"]]["kind"] == "CLIENT"
    assert {s["service"] for s in auth} == {"netra-auth"}
    # The run, inside the message's trace, with its model calls and tool call.
    run = only(backend, "invoke_agent openai")
    assert run["parent_id"] == request["span_id"]
    assert run["attributes"]["netra.run.outcome"] == "completed"
    calls = [s for s in backend if s["name"] == "chat tiny-model"]
    assert len(calls) == 2
    assert {c["parent_id"] for c in calls} == {run["span_id"]}
    assert calls[0]["attributes"]["gen_ai.usage.input_tokens"] == 40
    assert calls[0]["attributes"]["gen_ai.usage.output_tokens"] == 9
    tool = only(backend, "execute_tool calculator")
    assert tool["parent_id"] == run["span_id"]
    # backend → model server: the requests carried the message's trace.
    carried = [
        h["traceparent"].split("-")[1] if "traceparent" in h else None for h in scripted.headers
    ]
    clients = [(s["name"], s["parent_id"]) for s in backend if s["kind"] == "CLIENT"]
    assert carried == [trace_id, trace_id, socket_trace], (carried, clients)
    # Database and Redis work of this message, in its trace.
    assert any(s["attributes"].get("db.system") == "postgresql" for s in backend)
    assert any(s["attributes"].get("db.system") == "redis" for s in backend)
    assert any(s["attributes"].get("db.system") == "postgresql" for s in auth)

    # A message over the socket is a trace of its own too, continuing the sender's.
    socket = [s for s in read_spans(backend_spans) if s["trace_id"] == socket_trace]
    sent = only(socket, "WS send_message")
    assert sent["parent_id"] == browser_span
    assert only(socket, "invoke_agent openai")["parent_id"] == sent["span_id"]

    everything = json.dumps(read_spans(backend_spans) + read_spans(auth_spans))
    for secret in (SECRET_WORDS, token, key, SERVICE_SECRET, "sk-model-server-key", PASSWORD):
        assert secret not in everything
