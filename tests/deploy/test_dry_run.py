"""Cloud Run and Kubernetes cannot be reached from tests: their adapters' `--dry-run`
output is what is checked, with the store interface against fakes of the clients."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core import exceptions
from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.stores import VersionState
from netra.deploy.stores.gcp import GcpSecretStore
from netra.deploy.wiring import SecretRef
from tests.deploy.conftest import SAMPLE


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["deploy", *args, "--file", str(SAMPLE)])


def test_cloud_run_rollout_dry_run_prints_every_command() -> None:
    result = run("rollout", "--env", "staging", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    commands = [line for line in lines if line.startswith("$ gcloud")]
    where = "--region europe-west1 --project netra-staging"
    for expected in (
        f"$ gcloud run services describe netra-backend {where} --format json",
        f"$ gcloud run jobs execute netra-auth-migrate --wait {where}",
        f"$ gcloud run jobs execute netra-backend-migrate --wait {where}",
    ):
        assert expected in commands
    assert any(
        c.startswith("$ gcloud run services replace") and "netra-auth.yaml" in c for c in commands
    )
    shifts = [c for c in commands if "update-traffic" in c]
    assert [s.split()[5] for s in shifts] == ["netra-auth", "netra-backend"]
    assert (
        "secretmanager.get_secret_version(name=projects/netra-staging/secrets/"
        "service-secret-staging/versions/latest)" in result.output
    )
    assert any("smoke" in line or "ready-check" in line for line in lines)


def test_kubernetes_rollout_dry_run_prints_every_command() -> None:
    result = run("rollout", "--env", "production", "--dry-run")
    commands = [line for line in result.output.splitlines() if line.startswith("$ kubectl")]
    assert commands[0] == (
        "$ kubectl --namespace netra get service netra-backend --ignore-not-found -o json"
    )
    assert "$ kubectl --namespace netra apply -f - <<manifest>>" in commands
    assert any(
        c.startswith("$ kubectl --namespace netra wait --for=condition=complete") for c in commands
    )
    assert any("rollout status deployment/netra-backend-r" in c for c in commands)
    assert "CoreV1Api.read_namespaced_secret(name=netra-db, namespace=netra)" in result.output


def test_preflight_dry_run_lists_the_secret_manager_calls() -> None:
    result = run("preflight", "--env", "staging", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert (
        '"secretmanager.access_secret_version(name=projects/netra-staging/secrets/'
        'db-password-staging/versions/latest)"' in result.output
    )


def test_render_prints_yaml_and_refuses_local() -> None:
    assert "kind: Deployment" in run("render", "--env", "production").output
    rendered = run("render", "--env", "staging", "--service", "backend").output
    assert "netra-backend" in rendered
    assert "name: netra-auth\n" not in rendered
    assert run("render", "--env", "local").exit_code == 2


class FakeSecretManager:
    """Answers like SecretManagerServiceClient for a project holding `secrets`."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets  # name → state of version `latest`

    def list_secrets(self, request: dict[str, str]) -> list[Any]:
        return [SimpleNamespace(name=f"{request['parent']}/secrets/{n}") for n in self.secrets]

    def get_secret_version(self, request: dict[str, str]) -> Any:
        secret = request["name"].split("/")[3]
        if secret not in self.secrets:
            raise exceptions.NotFound("no such secret")
        return SimpleNamespace(state=SimpleNamespace(name=self.secrets[secret]))

    def get_secret(self, request: dict[str, str]) -> Any:
        if request["name"].split("/")[3] not in self.secrets:
            raise exceptions.NotFound("no such secret")
        return SimpleNamespace()


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("jwt-secret-key-staging", VersionState.ENABLED),
        ("disabled-one", VersionState.NO_ENABLED_VERSION),
        ("jwt-secret-key", VersionState.MISSING_SECRET),
    ],
)
def test_gcp_store_maps_secret_manager_answers(name: str, state: VersionState) -> None:
    client = FakeSecretManager({"jwt-secret-key-staging": "ENABLED", "disabled-one": "DISABLED"})
    store = GcpSecretStore("netra-staging", client=client)
    lookup = store.lookup(SecretRef("JWT_SECRET_KEY", name, "latest"), "staging")
    assert lookup.state is state
    if state is VersionState.MISSING_SECRET:
        assert lookup.suggestions[0] == "jwt-secret-key-staging"
