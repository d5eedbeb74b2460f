"""Podman for the container tests: the packages installed on first use (as a fresh
machine needs), the images built once per machine, containers removed afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from netra import testing
from netra.deploy.offline import container_env

IMAGE = "localhost/netra:test"
PACKAGES = ("podman", "buildah", "runc", "mmdebstrap", "podman-compose", "uidmap")
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def apt_install(*packages: str) -> None:
    """Debian packages, as a fresh machine needs them (the lists updated first)."""
    assert shutil.which("apt-get"), f"the container tests need Debian's {' '.join(packages)}"
    subprocess.run(["apt-get", "update", "-q"], check=True, env=_APT_ENV, capture_output=True)
    install = ["apt-get", "install", "-y", "-q", *packages]
    subprocess.run(install, check=True, env=_APT_ENV, capture_output=True)


def ensure_packages() -> None:
    """Debian's container tools, installed with apt-get when any is missing."""
    programs = ("podman", "buildah", "runc", "mmdebstrap", "podman-compose")
    if not all(shutil.which(program) for program in programs):
        apt_install(*PACKAGES)


def env() -> dict[str, str]:
    return {**os.environ, **container_env()}


def podman(*args: str, timeout: float = 300, check: bool = True, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["podman", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} exited {done.returncode}: {done.stderr}")
    return done.stdout


def anonymous_volumes(*filters: str) -> list[str]:
    """The unnamed volumes (the image's VOLUME /data) of the containers matching
    `filters`: removing a container or pod leaves them behind."""
    found = []
    for container in podman("ps", "--all", "--quiet", *(f"--filter={f}" for f in filters)).split():
        for mount in json.loads(podman("inspect", container))[0]["Mounts"]:
            name = mount.get("Name") or ""
            if mount.get("Type") == "volume" and re.fullmatch(r"[0-9a-f]{64}", name):
                found.append(name)
    return found


def remove_pod(name: str) -> None:
    """A pod, its containers and their unnamed volumes."""
    volumes = anonymous_volumes(f"pod={name}")
    podman("pod", "rm", "--force", name, check=False)
    for volume in volumes:
        podman("volume", "rm", "--force", volume, check=False)


def remove(names: Sequence[str]) -> None:
    """Containers and volumes the test made, whatever state they are in."""
    for name in names:
        podman("rm", "--force", "--time", "2", name, check=False)
        podman("volume", "rm", "--force", name, check=False)


def wait_ready(url: str, timeout: float = 90, name: str | None = None) -> None:
    """Poll `url` until it answers 200; fail with the last answer and container `name`'s
    logs."""
    try:
        testing.wait_ready(url, timeout=timeout, interval=0.25)
    except TimeoutError as exc:
        logs = podman("logs", name, check=False) if name else ""
        raise AssertionError(f"{exc}\n{logs[-3000:]}") from None


def write_secret(directory: Path, name: str, value: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(value)
    path.chmod(0o644)  # read by the container's own user (10001), not the host's
    return path
