"""Building the Netra image (the root Containerfile) with whichever OCI builder is here."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from netra.settings.process import tool_environment

BUILDERS = ("podman", "buildah", "docker")
REPO = Path(__file__).resolve().parents[3]


class ImageError(Exception):
    """A build that cannot run or did not succeed; the message says what to do."""


@dataclass(frozen=True)
class Builder:
    """One OCI builder: `podman build`, `buildah bud` or `docker build`."""

    name: str
    path: str

    def build_argv(self) -> list[str]:
        if self.name == "docker":
            return [self.path, "build"]
        # Docker's format keeps the HEALTHCHECK (the OCI format has no such field).
        return [self.path, "bud" if self.name == "buildah" else "build", "--format", "docker"]


def find_builder(preferred: str | None = None) -> Builder:
    """The first of podman, buildah, docker on PATH (or `preferred`), else a clear error."""
    for name in [preferred] if preferred else BUILDERS:
        path = shutil.which(name)
        if path:
            return Builder(name, path)
    wanted = preferred or ", ".join(BUILDERS)
    raise ImageError(
        f"no container builder found (looked for {wanted} on PATH): install one, e.g. "
        "`apt-get install podman` or Docker, then run this again"
    )


@dataclass
class BuildRequest:
    """What to build: `context` with its Containerfile, tagged `tags`."""

    tags: Sequence[str]
    context: Path = REPO
    build_args: Mapping[str, str] = field(default_factory=dict)
    volumes: Sequence[str] = ()  # podman/buildah only: mounted during RUN steps
    network_none: bool = False
    env: Mapping[str, str] | None = None

    def argv(self, builder: Builder, iidfile: Path) -> list[str]:
        argv = [*builder.build_argv(), "--file", str(self.context / "Containerfile")]
        argv += ["--iidfile", str(iidfile)]
        for tag in self.tags:
            argv += ["--tag", tag]
        for key, value in self.build_args.items():
            argv += ["--build-arg", f"{key}={value}"]
        for volume in self.volumes:
            argv += ["--volume", volume]
        if self.network_none:
            argv.append("--network=none")
        return [*argv, str(self.context)]


def build(builder: Builder, request: BuildRequest, log: Path | None = None) -> str:
    """Build and tag; the image's digest (its ID, `sha256:...`). The builder's output goes
    to `log` (or is shown on failure)."""
    if request.volumes and builder.name == "docker":
        raise ImageError("docker build cannot mount volumes: build with network access instead")
    with tempfile.TemporaryDirectory(prefix="netra-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        argv = request.argv(builder, iidfile)
        env = tool_environment(**(request.env or {}))
        with (log or Path(tmp) / "build.log").open("w") as output:
            done = subprocess.run(  # noqa: S603 (argv built above)
                argv, stdout=output, stderr=subprocess.STDOUT, env=env, check=False
            )
        if done.returncode != 0:
            tail = (log or Path(tmp) / "build.log").read_text().strip().splitlines()[-15:]
            raise ImageError(f"{builder.name} build exited {done.returncode}:\n" + "\n".join(tail))
        digest = iidfile.read_text().strip()
    return digest if digest.startswith("sha256:") else f"sha256:{digest}"
