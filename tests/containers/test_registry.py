"""`netra deploy build` prints the digest it built; preflight (and so `netra deploy
rollout`) refuses an image tag the target's registry does not have, before anything
starts; a tag pushed again with new content is a new revision. Against a real registry
(Debian's docker-registry, the distribution project's) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.environments import load_environment
from netra.deploy.preflight import preflight
from netra.deploy.registry import ImageMissing, manifest_digest
from netra.deploy.rollout import Release
from netra.testing import free_port, run_netra, wait_ready
from tests.containers.podman import apt_install, podman

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A registry on a free 127.0.0.1 port: its host:port."""
    if shutil.which("docker-registry") is None:
        apt_install("docker-registry")
    address = f"127.0.0.1:{free_port()}"
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'storage'}}}}}\n"
        f"http: {{addr: {address}}}\n"
        "log: {level: warn}\n"
    )
    log = (tmp_path / "registry.log").open("w")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_ready(f"http://{address}/v2/", timeout=30, process=process)
        yield address
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def environments(tmp_path: Path, image: str) -> Path:
    path = tmp_path / "environments.toml"
    path.write_text(
        f"""
[environments.cluster]
target = "kubernetes"
environment = "production"
namespace = "netra"
image = "{image}"
[environments.cluster.settings]
DB_HOST = "postgres"
DB_NAME = "netra"
[environments.cluster.secrets]
DB_PASSWORD = "netra-db:password"
SERVICE_SECRET = "netra-service:secret"
KEY_ENCRYPTION_KEY = "netra-auth-keys:kek"
[environments.cluster.services.auth]
url = "http://auth.netra.invalid"
[environments.cluster.services.backend]
url = "http://chat.netra.invalid"
"""
    )
    return path


def test_build_prints_the_digest_of_the_image_it_tagged(netra_image: str, tmp_path: Path) -> None:
    tag = "localhost/netra:build-test"
    started = time.monotonic()
    # This machine's environment (its ~/.cache/netra, its CA bundle for the index).
    result = run_netra(["deploy", "build", "--offline", "--tag", tag], dict(os.environ), 900)
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"netra deploy build --offline (cached) took {time.monotonic() - started:.1f} s")
    digest = result.stdout.strip().splitlines()[-1]
    try:
        assert digest == podman("image", "inspect", tag, "--format", "{{.Id}}").strip().join(
            ["sha256:", ""]
        )
    finally:
        podman("untag", tag, tag, check=False)


def test_preflight_refuses_a_tag_the_registry_does_not_have(
    netra_image: str, registry: str, tmp_path: Path
) -> None:
    pushed, missing = f"{registry}/netra:0.1.0", f"{registry}/netra:0.2.0"
    podman("push", "--tls-verify=false", netra_image, f"docker://{pushed}")

    env = load_environment("cluster", environments(tmp_path, pushed))
    [found] = [f for f in preflight(env).findings if f.check == "image"]
    assert found.ok, found.message
    first = manifest_digest(pushed)
    assert first in found.message

    path = environments(tmp_path, missing)
    [refused] = [
        f for f in preflight(load_environment("cluster", path)).findings if f.check == "image"
    ]
    assert not refused.ok
    assert refused.message == (
        f"{missing} is not in {registry}: build it (`netra deploy build --env cluster`) and push "
        "it first"
    )
    # The rollout stops at its first step, before the cluster is asked anything.
    result = CliRunner().invoke(
        app, ["deploy", "rollout", "--env", "cluster", "--file", str(path), "--json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [step["name"] for step in report["steps"]] == ["preflight"]
    assert f"image {missing}: {missing} is not in {registry}" in report["steps"][0]["detail"]
    assert report["actions"] == []
    with pytest.raises(ImageMissing):
        manifest_digest(missing)

    # The same tag pushed again with other content: a new digest, a new revision.
    other = podman("images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/netra-base")
    podman("push", "--tls-verify=false", other.split()[0], f"docker://{pushed}")
    second = manifest_digest(pushed)
    assert second != first
    assert Release.of(env, digest=first).revision != Release.of(env, digest=second).revision
