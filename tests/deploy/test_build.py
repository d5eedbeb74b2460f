"""`netra deploy build` without a builder, and how image names map to registries. The
builds themselves and the registry checks run for real in tests/containers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.image import Builder, BuildRequest, ImageError, build
from netra.deploy.registry import ImageRef
from netra.testing import netra_env, run_netra


def test_build_without_any_builder_says_what_to_install(tmp_path: Path) -> None:
    # Only the interpreter's own directory: no podman, buildah or docker reachable.
    env = netra_env(tmp_path)
    env["PATH"] = str(Path(sys.executable).parent)
    result = run_netra(["deploy", "build", "--tag", "netra:never"], env)
    assert result.returncode == 1
    for name in ("podman", "buildah", "docker", "apt-get install podman"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_build_with_a_named_builder_that_is_missing() -> None:
    result = CliRunner().invoke(app, ["deploy", "build", "--builder", "no-such-builder"])
    assert result.exit_code == 1
    assert "looked for no-such-builder" in result.output


@pytest.mark.parametrize(
    ("image", "registry", "repository", "reference", "url"),
    [
        (
            "europe-west1-docker.pkg.dev/netra-staging/netra/netra:0.1.0",
            "europe-west1-docker.pkg.dev",
            "netra-staging/netra/netra",
            "0.1.0",
            "https://europe-west1-docker.pkg.dev/v2/netra-staging/netra/netra/manifests/0.1.0",
        ),
        ("netra", "registry-1.docker.io", "library/netra", "latest", None),
        ("someone/netra:1", "registry-1.docker.io", "someone/netra", "1", None),
        (
            "127.0.0.1:5000/netra:0.1.0",
            "127.0.0.1:5000",
            "netra",
            "0.1.0",
            "http://127.0.0.1:5000/v2/netra/manifests/0.1.0",
        ),
        ("localhost/netra@sha256:abc", "localhost", "netra", "sha256:abc", None),
    ],
)
def test_image_names_map_to_registry_manifests(
    image: str, registry: str, repository: str, reference: str, url: str | None
) -> None:
    ref = ImageRef.parse(image)
    assert (ref.registry, ref.repository, ref.reference) == (registry, repository, reference)
    if url:
        assert ref.manifest_url == url


@pytest.mark.parametrize(
    ("builder", "command"),
    [
        ("podman", ["podman", "build", "--format", "docker"]),
        ("buildah", ["buildah", "bud", "--format", "docker"]),
        ("docker", ["docker", "build"]),
    ],
)
def test_each_builder_gets_its_own_build_command(builder: str, command: list[str]) -> None:
    request = BuildRequest(
        ["netra:1", "registry.invalid/netra:1"],
        context=Path("/src"),
        build_args={"BASE": "localhost/base:1"},
        volumes=["/cache/wheels:/wheels:ro"],
        network_none=True,
    )
    argv = request.argv(Builder(builder, builder), Path("/tmp/iid"))
    assert argv[: len(command)] == command
    assert argv[-1] == "/src"
    for pair in (
        ["--file", "/src/Containerfile"],
        ["--iidfile", "/tmp/iid"],
        ["--tag", "netra:1"],
        ["--tag", "registry.invalid/netra:1"],
        ["--build-arg", "BASE=localhost/base:1"],
        ["--volume", "/cache/wheels:/wheels:ro"],
    ):
        assert any(argv[i : i + 2] == pair for i in range(len(argv))), pair
    assert "--network=none" in argv


def test_docker_cannot_take_the_wheels_as_a_volume() -> None:
    request = BuildRequest(["netra:1"], volumes=["/w:/wheels:ro"])
    with pytest.raises(ImageError, match="docker build cannot mount volumes"):
        build(Builder("docker", "/nonexistent/docker"), request)
