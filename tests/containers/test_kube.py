"""The Kubernetes manifests `netra deploy render` makes, run for real with `podman play
kube`: the Secrets, each service's migration Job, then the Deployments; the probes they
render are called as the kubelet would; then `netra smoke` passes against them.

What podman lacks is stood in for, openly: a Job runs as the Pod of its template (podman
4.3 runs no Jobs), the stable Services' selector is checked against the pods' labels
(podman routes no Services: the backend reaches the auth pod by name on the test's
network), and host ports stand in for the Ingress."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from netra.deploy.environments import load_environment
from netra.deploy.render import kubernetes
from netra.testing import free_port, netra_env, run_netra
from tests.containers.images import POSTGRES
from tests.containers.podman import podman, remove_pod, wait_ready, write_secret

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

Manifest = dict[str, Any]


def environments(path: Path, prefix: str, revision: str, ports: dict[str, int]) -> Path:
    path.write_text(
        f"""
[environments.kube]
target = "kubernetes"
environment = "production"
namespace = "netra"
image = "localhost/netra:test"
[environments.kube.settings]
DB_HOST = "{prefix}-postgres"
DB_NAME = "netra"
DB_USER = "netra"
# `netra smoke` signs up a throw-away user, who must sign in at once.
REQUIRE_VERIFIED_EMAIL = "false"
[environments.kube.secrets]
DB_PASSWORD = "{prefix}-db:password"
SERVICE_SECRET = "{prefix}-service:secret"
KEY_ENCRYPTION_KEY = "{prefix}-auth-keys:key-encryption-key"
[environments.kube.services.auth]
url = "http://127.0.0.1:{ports["auth"]}"
internal_url = "http://netra-auth-{revision}-pod-0:8080"
[environments.kube.services.backend]
url = "http://127.0.0.1:{ports["backend"]}"
"""
    )
    return path


def secret_manifests(prefix: str, password: str) -> list[Manifest]:
    values = {
        f"{prefix}-db": {"password": password},
        f"{prefix}-service": {"secret": secrets.token_urlsafe(32)},
        f"{prefix}-auth-keys": {"key-encryption-key": secrets.token_urlsafe(32)},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
        for name, data in values.items()
    ]


def apply_secret(manifest: Manifest) -> str:
    """`kubectl apply` of a Secret: podman keeps it as a secret whose content is the
    Secret's data, which its secretKeyRef reads."""
    name: str = manifest["metadata"]["name"]
    podman("secret", "create", name, "-", stdin=json.dumps(manifest["data"]))
    return name


def play(manifests: list[Manifest], path: Path, network: str) -> None:
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    podman("play", "kube", "--network", network, str(path))


def pod_of(job: Manifest) -> Manifest:
    """A Job as the Pod of its template (what the Job controller would start)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": job["metadata"]["name"], "labels": job["metadata"]["labels"]},
        "spec": job["spec"]["template"]["spec"],
    }


def published(deployment: Manifest, host_port: int) -> Manifest:
    """The Deployment with its http port on 127.0.0.1:`host_port` (the Ingress)."""
    for port in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]:
        port.update({"hostPort": host_port, "hostIP": "127.0.0.1"})
    return deployment


def probe(container: Manifest, name: str, host_port: int) -> int:
    """Call a rendered httpGet probe the way the kubelet does; its status."""
    get = container[name]["httpGet"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert named.get(get["port"], get["port"]) == kubernetes.PORT
    answer = httpx.get(f"http://127.0.0.1:{host_port}{get['path']}", timeout=5)
    return answer.status_code


@pytest.fixture
def cleanup() -> Iterator[list[tuple[str, str]]]:
    """(kind, name) of what the test made: removed afterwards, last made first."""
    made: list[tuple[str, str]] = []
    yield made
    for kind, name in reversed(made):
        if kind == "pod":
            remove_pod(name)
        else:
            podman(kind, "rm", *([] if kind == "secret" else ["--force"]), name, check=False)


def test_rendered_kubernetes_manifests_run_and_pass_smoke(
    netra_image: str, tmp_path: Path, cleanup: list[tuple[str, str]]
) -> None:
    prefix, revision = f"kube{secrets.token_hex(3)}", f"r{secrets.token_hex(4)}"
    ports = {"auth": free_port(), "backend": free_port()}
    env = load_environment(
        "kube", environments(tmp_path / "environments.toml", prefix, revision, ports)
    )
    manifests = kubernetes.render(env, revision=revision)
    kinds = [m["kind"] for m in manifests]
    assert kinds == ["Job", "Job"] + ["Deployment", "Service", "Service"] * 2

    network = f"{prefix}-net"
    podman("network", "create", network)
    cleanup.append(("network", network))
    password = secrets.token_urlsafe(16)
    for manifest in secret_manifests(prefix, password):
        cleanup.append(("secret", apply_secret(manifest)))

    # The database the environment names, on the same network.
    pw_file = write_secret(tmp_path / "pg", "password", password)
    postgres = f"{prefix}-postgres"
    cleanup.append(("container", postgres))
    podman(
        "run", "--detach", "--name", postgres, "--network", network,
        "--env", "POSTGRES_USER=netra", "--env", "POSTGRES_DB=netra",
        "--env", "POSTGRES_PASSWORD_FILE=/run/secrets/password",
        "--volume", f"{pw_file}:/run/secrets/password:ro", POSTGRES.tag,
    )  # fmt: skip

    # Migration Jobs first (podman runs each as its template's Pod), to completion.
    for job in (m for m in manifests if m["kind"] == "Job"):
        pod = pod_of(job)
        cleanup.append(("pod", pod["metadata"]["name"]))
        container = pod["spec"]["containers"][0]["name"]
        for _attempt in range(30):  # the Job's backoff, while PostgreSQL starts
            play([pod], tmp_path / "job.yaml", network)
            code = podman("wait", f"{pod['metadata']['name']}-{container}").strip()
            if code == "0":
                break
            remove_pod(pod["metadata"]["name"])
        assert code == "0", podman("logs", f"{pod['metadata']['name']}-{container}", check=False)

    # The Deployments, then the probes they declare, then the smoke.
    deployments = {
        m["metadata"]["labels"]["app.kubernetes.io/component"]: m
        for m in manifests
        if m["kind"] == "Deployment"
    }
    for component in ("auth", "backend"):
        deployment = published(deployments[component], ports[component])
        cleanup.append(("pod", f"{deployment['metadata']['name']}-pod-0"))
        play([deployment], tmp_path / f"{component}.yaml", network)
    for component in ("auth", "backend"):
        container = deployments[component]["spec"]["template"]["spec"]["containers"][0]
        wait_ready(f"http://127.0.0.1:{ports[component]}/health/ready", 120)
        for name in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe(container, name, ports[component]) == 200, (component, name)

    smoke = run_netra(
        [
            "smoke",
            f"http://127.0.0.1:{ports['backend']}",
            "--auth-url",
            f"http://127.0.0.1:{ports['auth']}",
        ],
        netra_env(tmp_path),
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr

    # The stable Services select exactly the revision's pods (the traffic switch).
    for service in (m for m in manifests if m["kind"] == "Service"):
        component = service["metadata"]["labels"]["app.kubernetes.io/component"]
        labels = deployments[component]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
