"""Cloud Run and Kubernetes cannot be reached from tests: their adapters' `--dry-run`
output is what is checked, with the store interface against fakes of the clients, and
the exact commands of a rollout that fails after the shift and is rolled back."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from google.api_core import exceptions
from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.environments import load_environment
from netra.deploy.gate import SmokeResult, SmokeStep
from netra.deploy.preflight import PreflightReport
from netra.deploy.render.kubernetes import REVISION_LABEL
from netra.deploy.rollout import Release, Rollout, RolloutReport
from netra.deploy.runner import Runner
from netra.deploy.stores import VersionState
from netra.deploy.stores.gcp import GcpSecretStore
from netra.deploy.targets import target_for
from netra.deploy.wiring import SecretRef
from netra.settings import Service
from tests.support.deploy import SAMPLE


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["deploy", *args, "--file", str(SAMPLE)])


def test_cloud_run_rollout_dry_run_prints_every_command() -> None:
    result = run("rollout", "--env", "staging", "--dry-run", "--revision", "rdry")
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
    candidate = "https://candidate-rdry---netra-{}.run.app"
    smoke = f"$ netra smoke {candidate.format('backend')} --auth-url {candidate.format('auth')}"
    assert smoke in lines


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


class LiveIsOld(Runner):
    """A dry run whose reads answer that revision `rold` serves (gcloud's describe,
    kubectl's stable Service); keeps each manifest applied, parsed."""

    def __init__(self) -> None:
        super().__init__(dry_run=True)
        self.applied: list[list[dict[str, Any]]] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 600.0,
        dry_result: str = "",
    ) -> str:
        command = " ".join(argv)
        if "run services describe" in command:
            old = {"revisionName": f"{argv[4]}-rold", "percent": 100}
            dry_result = json.dumps({"status": {"traffic": [old]}})
        elif "get service" in command:
            dry_result = json.dumps({"spec": {"selector": {REVISION_LABEL: "rold"}}})
        if stdin is not None:
            self.applied.append(list(yaml.safe_load_all(stdin)))
        return super().run(argv, stdin=stdin, env=env, timeout=timeout, dry_result=dry_result)


class FailsThroughPublicUrls:
    """A gate that passes a candidate's own URLs and fails the public ones."""

    def __init__(self, public: dict[Service, str]) -> None:
        self.public = public

    def describe(self, urls: dict[Service, str]) -> str:
        return "gate"

    def check(self, urls: dict[Service, str]) -> SmokeResult:
        if urls == self.public:
            failed = SmokeStep("agent run over /ws", False, 1.0, "closed 1013: too many")
            return SmokeResult(False, [failed])
        return SmokeResult(True, [SmokeStep("agent run over /ws", True, 1.0)])


def failed_after_shift(name: str) -> tuple[RolloutReport, LiveIsOld]:
    env = load_environment(name, SAMPLE)
    runner = LiveIsOld()
    target = target_for(env, runner)
    gate = FailsThroughPublicUrls(target.public_urls())
    engine = Rollout(env, target, gate, lambda: PreflightReport(env.name, env.target))
    report = engine.run(Release.of(env, "rnew"))
    assert report.rolled_back
    assert report.live == "rold"
    assert [s.name for s in report.steps][-3:] == [
        "smoke after shift",
        "roll back to rold",
        "stop rnew",
    ]
    assert "agent run over /ws" in str(report.failed_step)
    return report, runner


def test_cloud_run_rolls_back_after_a_failed_smoke_with_these_commands() -> None:
    report, _ = failed_after_shift("staging")
    where = "--region europe-west1 --project netra-staging"
    files = Path(tempfile.gettempdir()) / "netra-deploy-staging"
    shift = "$ gcloud run services update-traffic"
    describe = f"$ gcloud run services describe netra-backend {where} --format json"
    assert report.actions == [
        describe,  # which revision is live
        f"$ gcloud run jobs replace {files}/netra-auth-migrate.yaml {where}",
        f"$ gcloud run jobs execute netra-auth-migrate --wait {where}",
        f"$ gcloud run jobs replace {files}/netra-backend-migrate.yaml {where}",
        f"$ gcloud run jobs execute netra-backend-migrate --wait {where}",
        describe,
        f"$ gcloud run services replace {files}/netra-auth.yaml {where}",
        f"$ gcloud run services describe netra-auth {where} --format json",
        f"$ gcloud run services replace {files}/netra-backend.yaml {where}",
        describe,
        f"{shift} netra-auth --to-revisions netra-auth-rnew=100 {where}",
        f"{shift} netra-backend --to-revisions netra-backend-rnew=100 {where}",
        f"{shift} netra-auth --to-revisions netra-auth-rold=100 {where}",  # the rollback
        f"{shift} netra-backend --to-revisions netra-backend-rold=100 {where}",
        f"{shift} netra-auth --remove-tags candidate-rnew {where}",
        f"{shift} netra-backend --remove-tags candidate-rnew {where}",
    ]


def test_kubernetes_rolls_back_after_a_failed_smoke_with_these_commands() -> None:
    report, runner = failed_after_shift("production")
    kubectl = "$ kubectl --namespace netra"
    apply = f"{kubectl} apply -f - <<manifest>>"
    assert report.actions == [
        f"{kubectl} get service netra-backend --ignore-not-found -o json",
        apply,
        f"{kubectl} wait --for=condition=complete --timeout=600s job/netra-auth-migrate-rnew",
        apply,
        f"{kubectl} wait --for=condition=complete --timeout=600s job/netra-backend-migrate-rnew",
        apply,
        f"{kubectl} rollout status deployment/netra-auth-rnew --timeout=300s",
        apply,
        f"{kubectl} rollout status deployment/netra-backend-rnew --timeout=300s",
        apply,  # the shift: stable Services to rnew
        apply,
        apply,  # the rollback: stable Services back to rold
        apply,
        f"{kubectl} delete deployment/netra-auth-rnew service/netra-auth-rnew --ignore-not-found",
        f"{kubectl} delete deployment/netra-backend-rnew service/netra-backend-rnew "
        "--ignore-not-found",
    ]
    what = [
        [(m["kind"], m["metadata"]["name"], m["spec"].get("selector", {})) for m in batch]
        for batch in runner.applied
    ]
    assert [[(kind, name) for kind, name, _ in batch] for batch in what[:4]] == [
        [("Job", "netra-auth-migrate-rnew")],
        [("Job", "netra-backend-migrate-rnew")],
        [("Deployment", "netra-auth-rnew"), ("Service", "netra-auth-rnew")],
        [("Deployment", "netra-backend-rnew"), ("Service", "netra-backend-rnew")],
    ]
    switches = [(name, selector[REVISION_LABEL]) for [(_, name, selector)] in what[4:]]
    assert switches == [
        ("netra-auth", "rnew"),
        ("netra-backend", "rnew"),
        ("netra-auth", "rold"),
        ("netra-backend", "rold"),
    ]
