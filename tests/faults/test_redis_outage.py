"""Redis stopped while the backend serves: readiness names the bus, runs still finish and
their events are kept (the database is the log, Redis only carries notices), and live
delivery resumes when Redis returns. A private redis-server this test starts and kills."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netra.client import NetraClient
from netra.testing import NetraProcess, eventually, free_port, netra_env, wait_listening

pytestmark = pytest.mark.slow
CREDENTIALS = {"email": "redis-outage@example.com", "password": "correct horse battery"}


class RedisServer:
    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


async def test_runs_survive_a_redis_outage_and_delivery_resumes(
    tmp_path: Path, redis: RedisServer
) -> None:
    env = netra_env(
        tmp_path, ENVIRONMENT="development", REDIS_URL=f"redis://127.0.0.1:{redis.port}/0"
    )
    command = ["up", "--data-dir", str(tmp_path)]
    with NetraProcess(command, env, free_port(), tmp_path / "up.log") as up:
        up.wait_for("/health/ready")
        async with NetraClient(up.url) as client:
            await client.register(CREDENTIALS["email"], CREDENTIALS["password"])
            await client.sign_in(CREDENTIALS["email"], CREDENTIALS["password"])
            thread = (await client.create_thread("outage")).id

            redis.stop()
            down = up.wait_for("/health/ready", 503).json()["checks"]["bus"]
            assert down["status"] == "fail", down
            # Rate limits fall back to in-process counting: signing in still works.
            await client.sign_in(CREDENTIALS["email"], CREDENTIALS["password"])
            posted = await client.send(thread, "what is 6 * 7?")

            async def finished() -> bool | None:
                run = await client.get_run(posted["run_id"])
                return True if run["status"] in ("completed", "failed") else None

            await eventually(finished, 30, "the run never finished without Redis", 0.2)
            log = await client.http.get(
                f"{up.url}/api/threads/{thread}/events",
                headers={"Authorization": f"Bearer {await client.access_token()}"},
            )
            kinds = [event["type"] for event in log.json()["items"]]
            assert kinds[-1] == "agent_completed", kinds

            redis.start()  # same port: the bus reconnects by itself
            up.wait_for("/health/ready")
            answer = [event async for event in client.ask(thread, "what is 5 * 5?")]
        assert answer[-1].type == "agent_completed"
        assert "25" in answer[-1].payload["text"]
