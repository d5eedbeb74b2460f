"""Issue 15 item 5: request bodies are bounded before they are read.

Hostile cases: a declared body past MAX_BODY_BYTES on public and authenticated routes
and on a path that does not exist; a chunked body with no Content-Length that streams
past the limit; a Content-Length that lies (small, with a big chunked body behind it is
refused by the HTTP parser itself); 64 MiB bodies, declared and chunked, sent to a real
uvicorn server, whose memory must not grow by 16 MiB while refusing them."""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from netra.auth.app import create_app
from netra.settings import Service
from tests.support.apps import EmbeddedFactory, SettingsFactory
from tests.support.chat import start_server, stop_server

LIMIT = 64 * 1024
ROUTES = ["/auth/login", "/auth/register", "/auth/refresh", "/api/threads", "/no/such/path"]


def too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text[:200]
    detail = answer.json()["detail"]
    assert detail["reason"] == "body_too_large"
    assert str(LIMIT) in detail["message"]


@pytest.mark.parametrize("path", ROUTES)
async def test_a_declared_body_past_the_limit_is_413(
    embedded_service: EmbeddedFactory, path: str
) -> None:
    async with embedded_service(MAX_BODY_BYTES=str(LIMIT)) as client:
        body = json.dumps({"email": "a@example.com", "password": "x" * LIMIT})
        too_large(await client.post(path, content=body, headers={"content-type": "text/json"}))
        headers = {"Authorization": "Bearer whatever", "content-type": "application/json"}
        too_large(await client.post(path, content=body, headers=headers))


async def chunks(total: int, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("path", ROUTES)
async def test_a_streamed_body_without_length_is_refused_once_it_crosses_the_limit(
    embedded_service: EmbeddedFactory, path: str
) -> None:
    async with embedded_service(MAX_BODY_BYTES=str(LIMIT)) as client:
        answer = await client.post(path, content=chunks(LIMIT * 4))
        if path == "/no/such/path":  # nothing reads the body: a plain 404, nothing held
            assert answer.status_code == 404
            return
        too_large(answer)


async def test_a_body_within_the_limit_is_read_as_before(
    embedded_service: EmbeddedFactory,
) -> None:
    async with embedded_service(MAX_BODY_BYTES=str(LIMIT)) as client:
        body = {"email": "ada@example.com", "password": "correct horse battery"}
        assert (await client.post("/auth/register", json=body)).status_code == 201


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def send_raw(port: int, head: bytes, body_chunks: AsyncIterator[bytes]) -> bytes:
    """Write a request by hand (as an attacker would), stopping once an answer comes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.read(4096))
    try:
        writer.write(head)
        async for chunk in body_chunks:
            if answer.done():
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server answered and closed without reading the rest: as intended
    try:
        return await asyncio.wait_for(answer, 10)
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        writer.close()


async def chunked(total: int) -> AsyncIterator[bytes]:
    async for chunk in chunks(total, 256 * 1024):
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


async def test_refusing_64_mib_bodies_grows_memory_by_less_than_16_mib(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings([Service.AUTH], DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}")
    server = await start_server(create_app(settings))
    port = int(server.url.rsplit(":", 1)[1])
    size = 64 * 1024 * 1024
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:  # warm every code path
            await client.post("/auth/login", json={"email": "a@example.com", "password": "x"})
            await client.post("/auth/login", content=b"x" * (2 << 20))
        before = rss_bytes()
        declared = (
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % size
        )
        streamed = (
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        answers = [
            await send_raw(port, declared, chunks(size, 256 * 1024)),
            await send_raw(port, streamed, chunked(size)),
        ]
        grown = rss_bytes() - before
    finally:
        await stop_server(server)
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"body_too_large" in answer
    print(f"RSS grew by {grown / 2**20:.1f} MiB while refusing two 64 MiB bodies")
    assert grown < 16 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB"


async def test_the_upload_route_alone_takes_bodies_up_to_its_own_limit(
    embedded_service: EmbeddedFactory,
) -> None:
    limits = {"MAX_BODY_BYTES": str(LIMIT), "UPLOAD_MAX_BODY_BYTES": "262144"}
    async with embedded_service(**limits) as client:
        upload_path = "/api/threads/t1/files"
        # Past MAX_BODY_BYTES but within the upload's limit: through to authentication.
        within = await client.post(upload_path, content=b"x" * 100_000)
        assert within.status_code == 401
        past = await client.post(upload_path, content=b"x" * 300_000)
        assert past.status_code == 413
        assert "262144" in past.json()["detail"]["message"]
        too_large(await client.post("/api/threads/t1/messages", content=b"x" * 100_000))
