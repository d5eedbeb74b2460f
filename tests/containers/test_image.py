"""The image itself: built from the root Containerfile, run the way docs/deploy.md says
(read-only root, /data the only writable place), and used like a deployment."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest

from netra.client import NetraClient
from netra.testing import free_port, netra_env, run_netra
from tests.containers.podman import podman, remove, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_image_contract(netra_image: str) -> None:
    inspected = json.loads(podman("image", "inspect", netra_image))[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["netra"]
    assert "8000/tcp" in config["ExposedPorts"]
    assert "/data" in config["Volumes"]
    assert "DATA_DIR=/data" in config["Env"]
    assert inspected["Healthcheck"]["Test"][:2] == ["CMD", "python3"]
    size = int(podman("image", "inspect", netra_image, "--format", "{{.Size}}"))
    print(f"netra image size: {size / 1e6:.0f} MB")
    # One image for every role: each command is there.
    for command in (["serve", "--help"], ["migrate", "--help"], ["smoke", "--help"]):
        podman("run", "--rm", "--network=none", netra_image, *command)


async def test_image_runs_read_only_passes_smoke_and_keeps_its_data(
    netra_image: str, tmp_path: Path
) -> None:
    name = f"netra-image-{secrets.token_hex(4)}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run = [
        "run", "--detach", "--name", name, "--read-only", "--read-only-tmpfs=false",
        "--volume", f"{name}:/data", "--publish", f"127.0.0.1:{port}:8000", netra_image,
    ]  # fmt: skip
    try:
        started = time.monotonic()
        podman(*run)
        wait_ready(f"{url}/health/ready", name=name)
        print(f"container ready in {time.monotonic() - started:.1f} s")
        smoke = run_netra(["smoke", url], netra_env(tmp_path))
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr

        assert podman("exec", name, "id", "-u").strip() == "10001"
        assert "netra.db" in podman("exec", name, "ls", "/data")
        for place in ("/opt/netra", "/tmp", "/"):
            touch = podman("exec", name, "sh", "-c", f"touch {place}/x 2>&1; echo $?")
            assert "Read-only file system" in touch, place
        podman("healthcheck", "run", name)  # the image's HEALTHCHECK, exit 0: healthy

        email, password = f"{name}@image.netra.invalid", secrets.token_urlsafe(16)
        async with NetraClient(url) as client:
            await client.register(email, password)

        # SIGTERM drains and exits 0, well within the grace period.
        stopping = time.monotonic()
        podman("stop", "--time", "30", name)
        assert time.monotonic() - stopping < 20
        state = json.loads(podman("inspect", name))[0]["State"]
        assert state["ExitCode"] == 0, podman("logs", name)

        podman("start", name)
        wait_ready(f"{url}/health/ready", name=name)
        async with NetraClient(url) as client:
            await client.sign_in(email, password)  # the account outlived the container
    finally:
        remove([name])
