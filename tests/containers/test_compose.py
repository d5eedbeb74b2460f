"""compose.yaml for real, with podman-compose from Debian: up from nothing to `netra smoke`
passing through nginx; SIGTERM to a backend mid-run (its sockets close 1012, the clients
resume on the other backend through nginx); down, and up again with the data kept."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from netra.client import NetraClient
from netra.testing import free_port, netra_env, run_netra
from tests.containers.images import stack_images
from tests.containers.podman import anonymous_volumes, env, podman, wait_ready, write_secret
from tests.deploy.clients import ChatLoop
from tests.support.deploy import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@dataclass
class Stack:
    project: str
    environ: dict[str, str]
    backend: str
    auth: str
    # The unnamed /data volumes of the containers `down` removed: dropped at teardown.
    orphans: list[str] = field(default_factory=list)

    def down(self, *args: str) -> None:
        self.orphans += anonymous_volumes(f"label=io.podman.compose.project={self.project}")
        self.compose("down", *args, timeout=600)

    def compose(self, *args: str, timeout: float = 300) -> str:
        argv = ["podman-compose", "--project-name", self.project]
        argv += ["--file", str(REPO / "compose.yaml"), *args]
        done = subprocess.run(
            argv, env=self.environ, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{' '.join(args)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done.stdout

    def logs(self, *services: str) -> str:
        """The last lines each service logged, for a failure message."""
        tails = [
            f"--- {s}:\n" + podman("logs", self.container(s), check=False)[-2000:] for s in services
        ]
        return "\n".join(tails)

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def up(self) -> float:
        started = time.monotonic()
        self.compose("up", "-d")
        wait_ready(f"{self.backend}/health/ready", 180, self.container("backend-1"))
        wait_ready(f"{self.auth}/health/ready", 60, self.container("auth"))
        return time.monotonic() - started


@pytest.fixture
def stack(netra_image: str, tmp_path: Path) -> Iterator[Stack]:
    project = f"netra{secrets.token_hex(3)}"
    for name in ("DB_PASSWORD", "SERVICE_SECRET", "KEY_ENCRYPTION_KEY"):
        write_secret(tmp_path / "secrets", name, secrets.token_urlsafe(32))
    http, auth = free_port(), free_port()
    environ = {
        **env(),
        **stack_images(),
        "NETRA_IMAGE": netra_image,
        "NETRA_SECRETS": str(tmp_path / "secrets"),
        "NETRA_HTTP_PORT": str(http),
        "NETRA_AUTH_PORT": str(auth),
        # Four people chatting without pause through a drain send more than the default
        # 30 messages a minute each; the rate limit is not what this test is about.
        "NETRA_CHAT_RATE_LIMIT": "1000",
        # `netra smoke` signs up a throw-away user, who must sign in at once.
        "NETRA_REQUIRE_VERIFIED_EMAIL": "false",
    }
    made = Stack(project, environ, f"http://127.0.0.1:{http}", f"http://127.0.0.1:{auth}")
    try:
        yield made
    finally:
        made.down("--volumes")
        for volume in made.orphans:
            podman("volume", "rm", "--force", volume, check=False)
        podman("network", "rm", "--force", f"{project}_default", check=False)


def answers_reach(chat: ChatLoop, count: int, timeout: float = 60) -> None:
    """Until the users have read `count` answers (the assertions after say if not)."""
    deadline = time.monotonic() + timeout
    while chat.answers < count and time.monotonic() < deadline:
        time.sleep(0.2)


async def test_compose_stack_serves_drains_and_keeps_its_data(stack: Stack, tmp_path: Path) -> None:
    print(f"compose up from nothing: {stack.up():.1f} s")
    smoke = run_netra(["smoke", stack.backend, "--auth-url", stack.auth], netra_env(tmp_path))
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr + stack.logs("auth", "nginx")

    # The one-shot migration ran and exited; it was given the database and nothing else.
    migrate = json.loads(podman("inspect", stack.container("migrate")))[0]
    assert migrate["State"]["ExitCode"] == 0
    assert not [e for e in migrate["Config"]["Env"] if e.startswith(("SERVICE_SECRET", "REDIS"))]
    assert podman("exec", stack.container("auth"), "ls", "/run/secrets").split() == [
        "DB_PASSWORD",
        "KEY_ENCRYPTION_KEY",
        "SERVICE_SECRET",
    ]
    # Each health check the stack declares (podman runs them only under systemd).
    for service in ("postgres", "redis", "auth", "backend-1", "backend-2"):
        podman("healthcheck", "run", stack.container(service))

    email, password = f"{stack.project}@compose.netra.invalid", secrets.token_urlsafe(16)
    async with NetraClient(stack.backend, auth_url=stack.auth) as client:
        await client.register(email, password)
        await client.sign_in(email, password)
        thread = await client.create_thread("kept across compose down")

    # SIGTERM to one backend while people chat through nginx.
    with ChatLoop(stack.backend, stack.auth, users=4, pause=0.2) as chat:
        await asyncio.to_thread(answers_reach, chat, 8)
        stopping = time.monotonic()
        podman("stop", "--time", "30", stack.container("backend-1"))
        drained = time.monotonic() - stopping
        answered = chat.answers
        await asyncio.to_thread(answers_reach, chat, answered + 8)
    print(f"backend-1 drained in {drained:.1f} s; reconnects: {chat.reconnects}")
    assert chat.problems() == []
    assert any(close.startswith("1012") for close in chat.reconnects), chat.reconnects
    assert chat.answers >= answered + 8  # the users went on, on backend-2
    state = json.loads(podman("inspect", stack.container("backend-1")))[0]["State"]
    assert state["ExitCode"] == 0

    # Down (volumes kept), up again: the account and its thread are still there.
    stack.down()
    print(f"compose up again: {stack.up():.1f} s")
    async with NetraClient(stack.backend, auth_url=stack.auth) as client:
        await client.sign_in(email, password)
        assert thread.id in [t.id for t in await client.list_threads()]
