"""Readiness through a database outage: 503 naming the check while PostgreSQL cannot be
reached, 200 again after it returns, without a restart (docs/architecture.md decision 6).

The outage is real: the service reaches the machine's PostgreSQL through a TCP hop this
test owns, and the test cuts it (refusing new connections and dropping open ones)."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from netra.embedded import create_app
from netra.testing import eventually, free_port
from tests.support.apps import SettingsFactory, running
from tests.support.databases import create_pg_database, drop_pg_database


class TcpHop:
    """127.0.0.1:port → PostgreSQL at 127.0.0.1:5432, up or down on demand."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for pipe in list(self.pipes):
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", 5432)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()


async def ready_status(client: httpx.AsyncClient, expected: int) -> httpx.Response:
    async def answered() -> httpx.Response | None:
        answer = await client.get("/health/ready")
        return answer if answer.status_code == expected else None

    return await eventually(answered, 30, f"readiness never answered {expected}", 0.5)


async def test_readiness_fails_during_an_outage_and_heals_without_a_restart(
    make_settings: SettingsFactory,
) -> None:
    database = await create_pg_database()
    hop = TcpHop(free_port())
    settings = make_settings(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{hop.port}/{database}",
        DB_CONNECT_TIMEOUT="2",
    )
    try:
        async with running(create_app(settings)) as client:  # starts while the hop is down
            assert (await client.get("/health")).status_code == 200
            down = await ready_status(client, 503)
            assert "connection refused" in down.json()["checks"]["database"]["output"]

            await hop.up()  # the database "comes up": AUTO_MIGRATE migrates, keys load
            healed = await ready_status(client, 200)
            assert healed.json()["checks"]["schema:auth"]["status"] == "pass"

            await hop.down()  # an outage while serving
            again = await ready_status(client, 503)
            assert again.json()["checks"]["database"]["status"] == "fail"
            assert (await client.get("/health")).status_code == 200

            await hop.up()
            await ready_status(client, 200)
    finally:
        with contextlib.suppress(Exception):
            await hop.down()
        await drop_pg_database(database)
